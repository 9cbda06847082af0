import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import { Identity } from '../src/identity/keys.js'
import { encodeId } from '../src/identity/encoding.js'
import { SERVED_FEEDS } from '../src/node/finder.js'
import { DELIVER_CONCURRENCY } from '../src/node/conversations.js'
import type { ChrysalisNode } from '../src/node/node.js'
import { internals, makeNode, waitFor } from './helpers.js'

/** Follow `n` identities nobody has seen post (offline: only the follow records are written). */
async function followStrangers(node: ChrysalisNode, n: number): Promise<Buffer[]> {
  const keys: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const key = Identity.generate().publicKey
    await node.follow(encodeId(key))
    keys.push(key)
  }
  return keys
}

test('following many: a node announces its own feed and the most recently active followed feeds only; another followed author is found on demand and her new post arrives live', async (t) => {
  const testnet = await createTestnet(3)
  t.teardown(() => testnet.destroy(), { order: Infinity })
  const ada = await makeNode(t, 'Ada')
  await ada.online({ dht: testnet.createNode() })
  const bob = await makeNode(t, 'Bob')
  const strangers = await followStrangers(bob, SERVED_FEEDS + 8)
  await bob.follow(ada.identity.id) // followed last, and she has posted nothing: the least active
  await bob.online({ dht: testnet.createNode() })

  const net = internals(bob).network!
  const served = strangers.filter((key) => net.servesFeed(internals(bob).feedOf(key).core.discoveryKey))
  t.is(served.length, SERVED_FEEDS, `Bob announces ${SERVED_FEEDS} followed feeds, not all ${strangers.length + 1}`)
  const adaFeed = internals(bob).feedOf(ada.identity.publicKey)
  t.absent(net.servesFeed(adaFeed.core.discoveryKey), 'Ada\'s feed is not among them')
  const adaNet = internals(ada).network!
  t.is(await adaNet.countAnnouncers(adaFeed.core.discoveryKey, Date.now() + 5000), 1, 'only Ada announces her feed: Bob looked it up without announcing it')
  t.is(await adaNet.countAnnouncers(internals(bob).feedOf(served[0]!).core.discoveryKey, Date.now() + 5000), 1, 'Bob announces a feed he serves')

  // The connection to Ada carries what it is for, not every feed Bob holds open.
  await waitFor(() => net.connections().some((c) => c.publicKey.equals(ada.identity.publicKey)), 10_000, 'a connection to Ada')
  const mux = net.connections().find((c) => c.publicKey.equals(ada.identity.publicKey))!.mux
  const attached = (key: Buffer): boolean => (internals(bob).feedOf(key).core as unknown as { replicator: { attached(m: unknown): boolean } }).replicator.attached(mux)
  t.ok(attached(ada.identity.publicKey) && attached(bob.identity.publicKey), 'Ada\'s feed and Bob\'s own are offered on it')
  t.is(strangers.filter(attached).length, SERVED_FEEDS, 'of the other followed feeds, only the served ones (their heads are exchanged with every peer)')
  const listeners = mux.stream.listenerCount('close')
  for (let i = 0; i < 3; i++) internals(bob).presence['offerEverywhere'](adaFeed) // as each read of her feed does
  t.is(mux.stream.listenerCount('close'), listeners, 'offering a feed attached already adds nothing to the connection')

  const arrived = new Promise<void>((resolve) => bob.on('feed-update', (e) => e.id === ada.identity.id && resolve()))
  const post = await ada.post({ text: 'Kaypro II manual, 1982' })
  await arrived
  const timeline = await bob.timeline({ limit: 5 })
  t.alike(timeline.posts.map((p) => p.ref), [post.ref], 'Ada\'s new post reached Bob over the connection his lookup made')
})

test('following many: a followed author who was away when the node went online is looked up again by sync', async (t) => {
  const testnet = await createTestnet(3)
  t.teardown(() => testnet.destroy(), { order: Infinity })
  const ada = await makeNode(t, 'Ada')
  const bob = await makeNode(t, 'Bob')
  const strangers = await followStrangers(bob, SERVED_FEEDS + 2)
  await bob.follow(ada.identity.id)
  await bob.online({ dht: testnet.createNode() })
  const adaFeed = internals(bob).feedOf(ada.identity.publicKey)
  t.absent(internals(bob).network!.servesFeed(adaFeed.core.discoveryKey), 'Ada\'s feed is looked up, not announced')
  await waitFor(() => internals(bob).presence['finder']!.stats().running === 0, 10_000, 'the first lookups')
  t.is(adaFeed.core.peers.length, 0, 'Ada was away: nobody found')

  await ada.online({ dht: testnet.createNode() })
  const post = await ada.post({ text: 'Osborne 1 schematics' })
  // Sync also spends its timeout on the follow notices owed to the strangers (never online):
  // each is a direct connection attempt, DELIVER_CONCURRENCY at a time.
  const swarm = internals(bob).network!.swarm as unknown as { explicitPeers: Set<{ publicKey: Buffer }> }
  const dialled = (): number => [...swarm.explicitPeers].filter((p) => strangers.some((k) => k.equals(p.publicKey))).length
  let dialling = 0
  const sampler = setInterval(() => (dialling = Math.max(dialling, dialled())), 5)
  const result = await bob.sync({ timeoutMs: 4000 })
  clearInterval(sampler)
  t.ok(dialling > 0 && dialling <= DELIVER_CONCURRENCY, `at most ${DELIVER_CONCURRENCY} identities dialled at once for notices (${dialling}), not all ${strangers.length}`)
  const row = result.feeds.find((f) => f.id === ada.identity.id)
  t.ok(row?.reachable, 'sync looked Ada up again and reached her')
  t.alike((await bob.timeline({ limit: 5 })).posts.map((p) => p.ref), [post.ref], 'and brought her post')
})
