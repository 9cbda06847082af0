import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import path from 'node:path'
import { makeNode, tmpDir, waitFor, internals } from './helpers.js'
import { ChrysalisNode } from '../src/node/node.js'
import { Identity } from '../src/identity/keys.js'
import { markRecovering, saveIdentity } from '../src/identity/home.js'
import { parseRef } from '../src/feeds/layout.js'
import type { PostNotificationView } from '../src/node/views.js'

/** Comments and mentions (follows notify too: test/followers.test.ts). */
async function postNotes(node: ChrysalisNode): Promise<PostNotificationView[]> {
  return (await node.notifications()).filter((n): n is PostNotificationView => n.kind !== 'follow')
}

async function online(nodes: ChrysalisNode[], testnet: Awaited<ReturnType<typeof createTestnet>>): Promise<void> {
  for (const n of nodes) await n.online({ dht: testnet.createNode() })
}

test('a comment by someone the author does not follow reaches the author and every reader', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await makeNode(t, 'Ada')
  const bob = await makeNode(t, 'Bob')
  const cy = await makeNode(t, 'Cy')
  await online([ada, bob, cy], testnet)
  const post = await ada.post({ text: 'Kaypro II manual, 1982' })

  await bob.follow(ada.identity.publicKey)
  await bob.sync({ timeoutMs: 10_000 })
  const comment = await bob.comment(post.ref, 'Pages 40-52 are the schematics.')
  const mention = await bob.post({ text: `thanks @${ada.identity.id} for the scan` })

  await waitFor(async () => (await postNotes(ada)).length === 2, 15_000, 'two notifications at Ada')
  const notes = await postNotes(ada)
  const seen = notes.map((n) => `${n.kind} ${n.post?.ref}`).sort()
  t.alike(seen, [`comment ${comment.ref}`, `mention ${mention.ref}`], 'a comment and a mention, each verified from Bob\'s feed')
  const thread = await ada.thread(post.ref)
  t.alike(thread.comments.map((c) => c.ref), [comment.ref], "Ada's thread has Bob's comment although she does not follow him")

  await bob.close() // Bob goes offline: Cy can only get his comment from Ada, who verified it
  await cy.follow(ada.identity.publicKey)
  const synced = await cy.sync({ timeoutMs: 10_000 })
  t.ok(synced.fetchedComments >= 1)
  t.alike((await cy.thread(post.ref)).comments.map((c) => c.text), ['Pages 40-52 are the schematics.'], 'Cy, who follows only Ada, sees it')
})

test('a restored identity recovers its feed from peers before it may post, and never forks', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await makeNode(t, 'Ada')
  const bob = await makeNode(t, 'Bob')
  await online([ada, bob], testnet)
  const first = await ada.post({ text: 'written on the first device' })
  await bob.follow(ada.identity.publicKey)
  await bob.sync({ timeoutMs: 10_000 })
  await ada.close() // the first device is gone; only Bob holds Ada's feed now

  const home = path.join(await tmpDir(t), 'restored')
  await markRecovering(home)
  await saveIdentity(home, Identity.fromSeed(ada.identity.exportSeed()))
  const restored = await ChrysalisNode.open({ home })
  t.teardown(() => restored.close())
  t.ok(restored.recovering)
  await t.exception(restored.post({ text: 'too early' }), /would fork it/)
  t.is(internals(restored).own.core.length, 0, 'nothing was written')

  await restored.online({ dht: testnet.createNode() })
  const result = await restored.sync({ timeoutMs: 10_000 })
  t.is(result.recovered, true, 'the feed was found on a peer')
  t.absent(restored.recovering)
  const recoveredLength = internals(restored).own.core.length
  t.ok(recoveredLength >= 3, 'the whole feed came back')
  const next = await restored.post({ text: 'written on the second device' })
  t.ok(parseInt(next.id, 16) > parseInt(first.id, 16), 'post ids continue after the recovered ones')
  t.is(internals(restored).own.core.length, recoveredLength + 1, 'appended after the recovered history: no fork')
  t.is((await restored.whoami()).name, 'Ada', 'the profile came back too')
  await waitFor(async () => (await bob.refresh({ update: true })) && (await bob.timeline()).posts.some((p) => p.ref === next.ref), 10_000, 'Bob to see the new post')
  t.pass('a follower accepts the continued feed')
})

test('blocking: a blocked identity\'s comments are not backlinked or notified', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await makeNode(t, 'Ada')
  const mallory = await makeNode(t, 'Mallory')
  const bob = await makeNode(t, 'Bob')
  await online([ada, mallory, bob], testnet)
  const post = await ada.post({ text: 'Kaypro II manual' })
  await ada.block(mallory.identity.publicKey)
  for (const n of [mallory, bob]) {
    await n.follow(ada.identity.publicKey)
    await n.sync({ timeoutMs: 10_000 })
  }
  await mallory.comment(post.ref, 'spam spam spam')
  const good = await bob.comment(post.ref, 'useful answer')
  await waitFor(async () => (await postNotes(ada)).length >= 1, 15_000, "Bob's notification")
  await waitFor(async () => (await internals(mallory).index.outgoing()).length === 0, 15_000, "the ack of Mallory's notify")
  t.pass("Mallory's notify was acknowledged all the same (so she stops retrying)")
  t.alike((await postNotes(ada)).map((n) => n.post?.ref), [good.ref], 'only Bob notified Ada')
  t.alike((await ada.thread(post.ref)).comments.map((c) => c.ref), [good.ref], 'only Bob was backlinked')
})

test('a node restart keeps follows, timeline, notifications and interests', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await makeNode(t, 'Ada')
  const bob = await makeNode(t, 'Bob')
  await online([ada, bob], testnet)
  const post = await ada.post({ text: 'Kaypro II manual' })
  await bob.follow(ada.identity.publicKey)
  await bob.discover('vintage-manuals', { timeoutMs: 2000 })
  await bob.sync({ timeoutMs: 10_000 })
  const comment = await bob.comment(post.ref, 'thanks!')
  await waitFor(async () => (await postNotes(ada)).length === 1, 15_000, 'the notification')
  await waitFor(async () => (await ada.followers()).length === 1, 15_000, "Bob's follow")

  const home = ada.home
  await ada.close()
  const again = await ChrysalisNode.open({ home })
  t.teardown(() => again.close())
  const [kept] = await postNotes(again)
  t.is(kept?.post?.ref, comment.ref, 'notifications survive (readable offline)')
  t.alike((await again.followers()).map((p) => p.name), ['Bob'], 'followers survive')
  t.alike((await again.notifications()).map((n) => n.kind), ['comment', 'follow'], 'so does the follow notification')
  t.alike((await again.thread(post.ref)).comments.map((c) => c.ref), [comment.ref], 'the thread, offline')

  const bobHome = bob.home
  await bob.close()
  const bob2 = await ChrysalisNode.open({ home: bobHome })
  t.teardown(() => bob2.close())
  t.alike((await bob2.followingList()).map((p) => p.name), ['Ada'])
  t.is((await bob2.timeline()).posts[0]?.ref, post.ref, 'the timeline, offline and at once')
  t.alike(await internals(bob2).index.interests(), ['vintage-manuals'], 'joined interests are remembered')
})

test('backlinks: a thread author cannot pull a comment from another thread into their own', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await makeNode(t, 'Ada')
  const bob = await makeNode(t, 'Bob')
  const mallory = await makeNode(t, 'Mallory')
  const cy = await makeNode(t, 'Cy')
  await online([ada, bob, mallory, cy], testnet)
  const post = await ada.post({ text: 'Kaypro II manual, 1982' })
  await bob.follow(ada.identity.publicKey)
  await bob.sync({ timeoutMs: 10_000 })
  const comment = await bob.comment(post.ref, 'I love this scan, thank you!')
  await waitFor(async () => (await ada.thread(post.ref)).comments.length === 1, 15_000, "Bob's comment in Ada's thread")

  // Mallory writes a backlink that puts Bob's praise under her own post.
  const bait = await mallory.post({ text: 'My ad for overpriced manuals' })
  const baitRef = parseRef(bait.ref)
  t.ok(await internals(mallory).own.addBacklink(baitRef.id, parseRef(comment.ref), baitRef), 'the hostile backlink is in her feed')
  await internals(mallory).index.update(internals(mallory).own)
  const mine = (await mallory.timeline()).posts.find((p) => p.ref === bait.ref)
  t.is(mine?.comments, 0, 'not counted on the timeline before anyone has opened the thread')

  await cy.follow(mallory.identity.publicKey)
  await cy.follow(ada.identity.publicKey)
  await cy.sync({ timeoutMs: 10_000 })
  t.alike((await cy.thread(bait.ref)).comments, [], "Bob's comment does not show under Mallory's post")
  t.is((await cy.thread(bait.ref)).count, 0)
  const listed = (await cy.timeline()).posts.find((p) => p.ref === bait.ref)
  t.is(listed?.comments, 0, 'nor is it counted on the timeline')
  t.alike((await cy.thread(post.ref)).comments.map((c) => c.ref), [comment.ref], 'it still shows where Bob wrote it')
  t.alike((await mallory.thread(bait.ref)).comments, [], 'not even in Mallory\'s own view')
})
