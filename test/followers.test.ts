// "X followed you" (protocol.md §8.3): a follow tells the followed person through a follow
// notice, queued like a comment's notify; the receiver believes only the sender's own feed.
import test from 'brittle'
import { once } from 'node:events'
import createTestnet from 'hyperdht/testnet.js'
import type { NotificationView } from '../src/node/views.js'
import { internals, makeNode, onlineNode, waitFor } from './helpers.js'

const follows = (list: NotificationView[]): string[] => list.flatMap((n) => (n.kind === 'follow' ? [n.person.name ?? n.person.id] : []))

test('a follow notification reaches the followed person; the followers list has them; a repeated notice notifies once; unfollow removes them', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const bob = await onlineNode(t, testnet, 'Bob')

  const heard = once(ada, 'notification') as Promise<[NotificationView]>
  await bob.follow(ada.identity.publicKey)
  const [event] = await heard
  t.is(event.kind, 'follow', 'a follow notification event')
  t.is(event.kind === 'follow' ? event.person.id : null, bob.identity.id, 'about Bob')
  t.is(event.kind === 'follow' ? event.person.name : null, 'Bob', 'by name: his profile was read with the record')
  const [follower] = await ada.followers()
  t.is(follower?.id, bob.identity.id, "Ada's followers list Bob")
  t.is(follower?.following, false, 'whom Ada does not follow back')
  t.ok((follower?.since ?? 0) > 0)
  t.alike(follows(await ada.notifications()), ['Bob'], 'the notifications list it')
  await waitFor(async () => (await internals(bob).index.outgoing()).length === 0, 10_000, "the ack of Bob's notice")

  // The same notice again (a sender that lost the ack): read and acked, not notified twice.
  const [record] = await internals(bob).own.following()
  await internals(bob).index.queueFollowNotice(ada.identity.publicKey, record!.at)
  t.is(await internals(bob).presence.network!.deliverFollowNotice(ada.identity.publicKey, { at: record!.at }, Date.now() + 10_000), 'acked')
  t.alike(follows(await ada.notifications()), ['Bob'], 'one notification per follow record')

  await ada.follow(bob.identity.publicKey)
  t.is((await ada.followers())[0]?.following, true, 'following back shows')

  await bob.unfollow(ada.identity.publicKey)
  await waitFor(async () => (await ada.followers()).length === 0, 15_000, 'Bob off the followers')
  t.pass('an unfollow takes Bob off her followers')
  t.alike(follows(await ada.notifications()), ['Bob'], 'and notifies nothing')
})

test('a follow while the followed person is offline is delivered when they come online and the follower syncs', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await makeNode(t, 'Ada') // offline
  const bob = await onlineNode(t, testnet, 'Bob')
  await bob.follow(ada.identity.publicKey)
  const queued = await internals(bob).index.outgoing()
  t.alike(queued.map((q) => [q.kind, q.target.equals(ada.identity.publicKey)]), [['follow', true]], 'queued in the outbox')

  await ada.online({ dht: testnet.createNode() })
  const heard = once(ada, 'notification')
  const synced = await bob.sync({ timeoutMs: 15_000 })
  t.comment(`sync delivered ${synced.delivered}`)
  await heard
  t.alike((await ada.followers()).map((p) => p.name), ['Bob'], 'Ada learned of the follow')
  await waitFor(async () => (await internals(bob).index.outgoing()).length === 0, 10_000, 'the outbox emptied')
  t.pass('removed from the outbox once acknowledged')
})

test('a forged notice (no follow record in the sender\'s feed) is acked and changes nothing; a blocked follower is not listed', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const mallory = await onlineNode(t, testnet, 'Mallory')
  let notified = 0
  ada.on('notification', () => notified++)

  // Sent straight through the network: Mallory's feed follows nobody.
  const sent = await internals(mallory).presence.network!.deliverFollowNotice(ada.identity.publicKey, { at: Date.now() }, Date.now() + 15_000)
  t.is(sent, 'acked', 'acknowledged, so that the sender stops retrying')
  t.alike(await ada.followers(), [], 'not a follower')
  t.is(notified, 0, 'no notification')

  // Ada blocks Eve; Eve follows her: acked unread, never listed.
  const eve = await onlineNode(t, testnet, 'Eve')
  await ada.block(eve.identity.publicKey)
  await eve.follow(ada.identity.publicKey)
  await waitFor(async () => (await internals(eve).index.outgoing()).length === 0, 15_000, "the ack of Eve's notice")
  t.alike(await ada.followers(), [], 'a blocked identity is not listed')
  t.is(notified, 0, 'nor notified')
})

test('a delivery started in the background (a peer saying hello as the node closes) never rejects: what it could not read stays queued', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  await internals(ada).index.close() // as closing does, under a delivery about to read the outbox
  let rejected = false
  await internals(ada).conversations.deliverSoon(ada.identity.publicKey, 1000).catch(() => (rejected = true))
  t.absent(rejected, 'settled without an error (unhandled, it would end the process)')
})
