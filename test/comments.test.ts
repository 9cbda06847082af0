import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import { makeNode, waitFor } from './helpers.js'
import type { ChrysalisNode } from '../src/node/node.js'

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

  await waitFor(async () => (await ada.notifications()).length === 2, 15_000, 'two notifications at Ada')
  const notes = await ada.notifications()
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
