import test from 'brittle'
import { makeNode, peered, replicate, fakeClock, internals } from './helpers.js'
import type { ChrysalisNode } from '../src/node/node.js'

/** Replicate every pair among the nodes and wait until `reader` sees each followed feed's latest length. */
async function sync(t: Parameters<typeof makeNode>[0], reader: ChrysalisNode, writers: ChrysalisNode[]): Promise<void> {
  for (const w of writers) {
    const feed = internals(reader).feedOf(w.identity.publicKey)
    if (feed.core.peers.length === 0) {
      replicate(t, internals(w).store, internals(reader).store)
      await peered(feed.core)
    }
  }
  await reader.refresh({ update: true })
}

test('timeline and threads over several feeds replicated in-process', async (t) => {
  const clock = fakeClock()
  const ada = await makeNode(t, 'Ada', { now: clock })
  const bob = await makeNode(t, 'Bob', { now: clock })
  const cy = await makeNode(t, 'Cy', { now: clock })
  const dee = await makeNode(t, 'Dee', { now: clock })

  const kaypro = await ada.post({ text: 'Kaypro II manual, 1982 #vintage-manuals' })
  await bob.post({ text: 'TRS-80 Model 100 service guide' })
  // Bob and Cy answer Ada's post; Cy answers Bob's comment; Ada answers Cy.
  await sync(t, bob, [ada])
  await bob.follow(ada.identity.publicKey)
  const bobComment = await bob.comment(kaypro.ref, 'Is the schematic section complete?')
  await cy.follow(ada.identity.publicKey)
  await cy.follow(bob.identity.publicKey)
  await sync(t, cy, [ada, bob])
  const cyReply = await cy.comment(bobComment.ref, 'Mine has the schematics, pages 40-52.')
  t.is(cyReply.root, kaypro.ref, 'a reply to a comment keeps the thread root')
  t.is(cyReply.replyTo, bobComment.ref)
  const cyPost = await cy.post({ text: 'Osborne 1 drivers, anyone?' })

  for (const w of [ada, bob, cy]) await dee.follow(w.identity.publicKey)
  await sync(t, dee, [ada, bob, cy])

  const tl = await dee.timeline({ limit: 10 })
  t.alike(tl.posts.map((p) => p.text), ['Osborne 1 drivers, anyone?', 'TRS-80 Model 100 service guide', 'Kaypro II manual, 1982 #vintage-manuals'], 'newest first, comments not in the timeline')
  t.is(tl.posts[2]?.comments, 2, 'comment count of the Kaypro post')
  t.is(tl.posts[2]?.authorName, 'Ada')

  const page1 = await dee.timeline({ limit: 2 })
  t.is(page1.posts.length, 2)
  t.ok(page1.next)
  const page2 = await dee.timeline({ limit: 2, before: page1.next! })
  t.alike(page2.posts.map((p) => p.ref), [kaypro.ref], 'the second page continues where the first ended')

  const thread = await dee.thread(kaypro.ref)
  t.is(thread.root?.ref, kaypro.ref)
  t.is(thread.count, 2)
  t.is(thread.comments.length, 1)
  t.is(thread.comments[0]?.ref, bobComment.ref)
  t.is(thread.comments[0]?.children[0]?.ref, cyReply.ref, 'the reply hangs under the comment it answers')
  const fromLeaf = await dee.thread(cyReply.ref)
  t.is(fromLeaf.rootRef, kaypro.ref, 'asking for a comment shows its whole thread')

  // Edits: readers show the newest version.
  await bob.edit(bobComment.ref, 'Is the schematic section complete? (edited: found it)')
  await sync(t, dee, [])
  const edited = await dee.thread(kaypro.ref)
  t.is(edited.comments[0]?.text, 'Is the schematic section complete? (edited: found it)')
  t.ok(edited.comments[0]?.editedAt)

  // Deletes: the post stays in the thread, marked deleted, without its text.
  await bob.delete(bobComment.ref)
  await cy.delete(cyPost.ref)
  await sync(t, dee, [])
  const afterDelete = await dee.thread(kaypro.ref)
  t.is(afterDelete.comments[0]?.deleted, true)
  t.is(afterDelete.comments[0]?.text, '')
  t.is(afterDelete.comments[0]?.children[0]?.ref, cyReply.ref, 'answers to a deleted comment stay in place')
  t.ok((await dee.timeline()).posts.find((p) => p.ref === cyPost.ref)?.deleted, 'a deleted post is marked in the timeline')

  // Block: Cy disappears from Dee's timeline, threads and comment counts; follows are dropped.
  await dee.block(cy.identity.publicKey)
  t.absent(internals(dee).relations.isFollowing(cy.identity.publicKey.toString('hex')))
  const blockedTl = await dee.timeline()
  t.absent(blockedTl.posts.some((p) => p.author === cy.identity.id), 'no posts by the blocked identity')
  t.is(blockedTl.posts.find((p) => p.ref === kaypro.ref)?.comments, 1, 'their comments are not counted')
  const blockedThread = await dee.thread(kaypro.ref)
  t.is(blockedThread.count, 1)
  t.absent(JSON.stringify(blockedThread).includes(cyReply.ref), 'their comments are hidden from threads')
  t.alike((await dee.blockedList()).map((p) => p.name), ['Cy'])
  await t.exception(dee.follow(cy.identity.publicKey), /unblock it first/)
  await dee.unblock(cy.identity.publicKey)
  t.is((await dee.thread(kaypro.ref)).count, 2, 'unblocking shows them again')

  // Unfollow: their posts leave the timeline.
  await dee.unfollow(bob.identity.publicKey)
  t.absent((await dee.timeline()).posts.some((p) => p.author === bob.identity.id))
  t.alike((await dee.followingList()).map((p) => p.name), ['Ada'])
})

test('the index is incremental and survives a restart', async (t) => {
  const clock = fakeClock()
  const ada = await makeNode(t, 'Ada', { now: clock })
  for (let i = 0; i < 5; i++) await ada.post({ text: `post ${i}` })
  const v1 = await internals(ada).index.indexedVersion(ada.identity.publicKey)
  t.is(v1, internals(ada).own.version, 'indexed up to the feed version')
  const r = await internals(ada).index.update(internals(ada).own)
  t.is(r.changed, 0, 'nothing to do when nothing changed')
  await ada.post({ text: 'post 5' })
  t.is((await ada.timeline()).posts.length, 6)

  // Reopen the same home: nothing is re-read; the index answers at once.
  const home = ada.home
  await ada.close()
  const { ChrysalisNode } = await import('../src/node/node.js')
  const again = await ChrysalisNode.open({ home, now: clock })
  t.teardown(() => again.close())
  const before = internals(again).index.db.core.length
  t.is((await again.timeline()).posts.length, 6)
  t.is(internals(again).index.db.core.length, before, 'opening wrote nothing to the index')
  t.is((await again.whoami()).name, 'Ada')
})

test('writing refuses bad input and other people\'s posts, and writes nothing', async (t) => {
  const ada = await makeNode(t, 'Ada')
  const bob = await makeNode(t, 'Bob')
  const post = await bob.post({ text: 'mine' })
  const length = internals(ada).own.core.length
  await t.exception(ada.edit(post.ref, 'hijack'), /not yours/)
  await t.exception(ada.delete(post.ref), /not yours/)
  await t.exception(ada.post({ text: '   ' }), /needs some text/)
  await t.exception(ada.post({ text: 'x'.repeat(9000) }), /the text is 9000 bytes/)
  await t.exception(ada.comment(post.ref, 'unknown post'), /not available here/)
  await t.exception(ada.follow(ada.identity.id), /cannot follow yourself/)
  await t.exception(ada.follow('not-an-id'), /not an identity ID/)
  t.is(internals(ada).own.core.length, length, 'no block was written')
  const own = await ada.post({ text: 'to delete' })
  await ada.delete(own.ref)
  await t.exception(ada.delete(own.ref), /already deleted/)
  await t.exception(ada.edit(own.ref, 'x'), /already deleted/)
})

test('concurrent writes never share a post id', async (t) => {
  const frozen = (): number => 1_790_000_000_000 // every post asks for the same millisecond
  const ada = await makeNode(t, 'Ada', { now: frozen })
  const posts = await Promise.all(Array.from({ length: 20 }, (_, i) => ada.post({ text: `concurrent ${i}` })))
  t.is(new Set(posts.map((p) => p.ref)).size, 20, '20 distinct refs')
  t.is((await ada.feed(undefined, { limit: 50 })).length, 20, 'all 20 posts are in the feed')
})
