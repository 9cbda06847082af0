import test from 'brittle'
import { once } from 'node:events'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import Corestore from 'corestore'
import c from 'compact-encoding'
import { Identity } from '../src/identity/keys.js'
import { encodeId } from '../src/identity/encoding.js'
import { Network, type Peer } from '../src/net/network.js'
import { MAX_MESSAGE_BYTES, MESSAGE_TYPES, NOTIFY_LIMITS, PROTOCOL, ack, followAck, followNotice, hello, notify } from '../src/net/messages.js'
import { interestTopic } from '../src/net/topics.js'
import { parseBootstrap } from '../src/net/dht.js'
import { Feed, OwnFeed } from '../src/feeds/feed.js'
import { feedKeyOf } from '../src/feeds/layout.js'
import { tmpDir, waitFor } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'
import vectors from './fixtures/messages.json' with { type: 'json' }

async function makeNet(t: { teardown(fn: () => unknown, o?: { order?: number }): void }, testnet: Testnet, name: string, topics: string[] = []) {
  const identity = Identity.generate()
  const store = new Corestore(path.join(await tmpDir(t), 'store'))
  const net: Network = new Network({
    keyPair: identity.keyPair(),
    store,
    dht: testnet.createNode(),
    hello: () => ({ name, bio: `${name}'s bio`, topics: net.interestNames() })
  })
  for (const topic of topics) await net.joinInterest(topic)
  t.teardown(async () => {
    await net.close()
    await store.close()
  })
  return { identity, store, net }
}

function peerNamed(net: Network, name: string): Promise<Peer> {
  const found = net.list().find((p) => p.hello?.name === name)
  if (found) return Promise.resolve(found)
  return new Promise((resolve) => {
    const onPeer = (p: Peer): void => {
      if (p.hello?.name !== name) return
      net.off('peer', onPeer)
      resolve(p)
    }
    net.on('peer', onPeer)
  })
}

test('message and topic vectors: exact bytes both ways', (t) => {
  for (const v of vectors.interestTopics) {
    t.is(interestTopic(v.input).name, v.name)
    t.is(interestTopic(v.input).topic.toString('hex'), v.topic)
  }
  for (const v of vectors.hello) {
    t.is(hello.encode(v.message).toString('hex'), v.hex)
    t.alike(hello.decode(Buffer.from(v.hex, 'hex')), v.message)
  }
  for (const v of vectors.notify) {
    const message = { kind: v.message.kind as 'comment' | 'mention', id: v.message.id }
    t.is(notify.encode(message).toString('hex'), v.hex)
    t.alike(notify.decode(Buffer.from(v.hex, 'hex')), message)
  }
  for (const v of vectors.ack) {
    t.is(ack.encode(v.message).toString('hex'), v.hex)
    t.alike(ack.decode(Buffer.from(v.hex, 'hex')), v.message)
  }
  for (const [codec, list] of [[followNotice, vectors.followNotice], [followAck, vectors.followAck]] as const) {
    t.ok(list.length >= 1)
    for (const v of list) {
      t.is(codec.encode(v.message).toString('hex'), v.hex)
      t.alike(codec.decode(Buffer.from(v.hex, 'hex')), v.message)
    }
  }
  // A first-revision hello says nothing of messages: its sender handles notify and ack only.
  for (const v of vectors.earlier) t.alike(hello.decode(Buffer.from(v.hex, 'hex')), v.message, v.what)
})

const CODECS = { hello, notify, ack, followNotice, followAck } as const

test('growth vectors: a later revision\'s flag bits and appended fields are skipped; truncated, unannounced trailing bytes refused', (t) => {
  t.ok(vectors.future.length >= 5 && vectors.refused.length >= 10, 'the vectors are there')
  for (const v of vectors.future) {
    t.alike(CODECS[v.codec as keyof typeof CODECS].decode(Buffer.from(v.hex, 'hex')), v.message, `decodes: ${v.what}`)
  }
  for (const v of vectors.refused) {
    t.exception(() => CODECS[v.codec as keyof typeof CODECS].decode(Buffer.from(v.hex, 'hex')), new RegExp(v.error), `refused: ${v.what}`)
  }
  // Oversize: the later hello, its appended field grown to 8,193 bytes in all, is refused though
  // its trailing bytes would be skipped.
  const future = Buffer.from(vectors.future[0]!.hex, 'hex')
  const oversize = Buffer.concat([future, Buffer.alloc(MAX_MESSAGE_BYTES + 1 - future.length)])
  t.is(oversize.length, MAX_MESSAGE_BYTES + 1)
  t.exception(() => hello.decode(oversize), /above the limit/, 'a message above 8,192 bytes')
  t.alike(hello.decode(oversize.subarray(0, MAX_MESSAGE_BYTES)), vectors.future[0]!.message, 'at 8,192 bytes it still decodes')
})

test('messages: hello and notify round trip; garbage refused', (t) => {
  const ada = { name: 'Ada', bio: 'Kaypro collector', topics: ['vintage-manuals', 'cp-m'], messages: MESSAGE_TYPES.length }
  t.alike(hello.decode(hello.encode(ada)), ada)
  t.alike(notify.decode(notify.encode({ kind: 'comment', id: 123456 })), { kind: 'comment', id: 123456 })
  t.exception(() => hello.decode(Buffer.from('garbage')), /version|end|limit/)
  t.exception(() => hello.decode(Buffer.alloc(9000, 1)), /above the limit/)
  t.exception(() => hello.decode(hello.encode({ ...ada, topics: ['Not Normal'] })), /normal form/)
  t.exception(() => notify.decode(Buffer.from([1, 9, 0, 1])), /unknown notification kind/)
  t.exception(() => hello.decode(Buffer.concat([hello.encode(ada), Buffer.from([0])])), /trailing/)
})

test('topics: interest names normalised and domain separated; bootstrap parsing', (t) => {
  t.alike(interestTopic('Vintage Manuals').topic, interestTopic('#vintage_manuals').topic)
  t.is(interestTopic('Vintage Manuals').name, 'vintage-manuals')
  t.not(interestTopic('vintage-manuals').topic.toString('hex'), Buffer.from('vintage-manuals').toString('hex').padEnd(64, '0'))
  t.exception(() => interestTopic('   '), /not a usable topic/)
  t.alike(parseBootstrap(['127.0.0.1:49737,localhost:1', ' [::1]:5 ']), [
    { host: '127.0.0.1', port: 49737 },
    { host: 'localhost', port: 1 },
    { host: '::1', port: 5 }
  ])
  t.exception(() => parseBootstrap(['127.0.0.1']), /not a bootstrap address/)
  t.exception(() => parseBootstrap(['h:99999']), /not a bootstrap address/)
})

test('hello exchange between two nodes on an interest topic', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = await makeNet(t, testnet, 'Ada', ['Vintage Manuals'])
  const b = await makeNet(t, testnet, 'Bob', ['vintage-manuals'])
  const [fromB, fromA] = await Promise.all([peerNamed(a.net, 'Bob'), peerNamed(b.net, 'Ada')])
  t.is(fromB.id, b.identity.id, "the connection's remote key is Bob's identity")
  t.is(fromA.id, a.identity.id)
  t.alike(fromA.hello, { name: 'Ada', bio: "Ada's bio", topics: ['vintage-manuals'], messages: 4 }, 'a hello says it handles the four messages')
  t.ok(fromA.foundVia.has('vintage-manuals') || fromB.foundVia.has('vintage-manuals'), 'the client side knows which topic found the peer')
})

test('two nodes joining a topic at the same moment find each other', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  for (let round = 0; round < 3; round++) {
    const a = await makeNet(t, testnet, `A${round}`)
    const b = await makeNet(t, testnet, `B${round}`)
    const topic = `simultaneous-${round}`
    await Promise.all([a.net.joinInterest(topic), b.net.joinInterest(topic)])
    await Promise.all([peerNamed(a.net, `B${round}`), peerNamed(b.net, `A${round}`)])
    t.pass(`round ${round}: connected`)
  }
})

test('a peer sending garbage is disconnected and the node keeps working', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = await makeNet(t, testnet, 'Ada', ['vintage-manuals'])

  // A hostile peer: a raw swarm that opens our channel with a garbage hello.
  const evil = new Hyperswarm({ keyPair: Identity.generate().keyPair(), dht: testnet.createNode() })
  t.teardown(() => evil.destroy())
  evil.on('connection', (conn) => {
    conn.on('error', () => {})
    const ch = Protomux.from(conn).createChannel({ protocol: PROTOCOL, handshake: c.raw, messages: [{ encoding: c.raw, onmessage: () => {} }] })
    ch?.open(Buffer.from([1, 0, 0xfe, 0xff, 0xff, 0xff, 0x7f]))
  })
  const bad = once(a.net, 'bad-peer')
  evil.join(interestTopic('vintage-manuals').topic, { server: false, client: true })
  const [badKey, reason] = (await bad) as [Buffer, string]
  t.ok(badKey.equals(evil.keyPair.publicKey), 'the garbage sender is reported')
  t.comment(`reason: ${reason}`)
  await waitFor(() => a.net.list().every((p) => !p.publicKey.equals(evil.keyPair.publicKey)) && a.net.connectionCount() === 0, 10_000, 'the connection to close')

  const b = await makeNet(t, testnet, 'Bob', ['vintage-manuals'])
  const bob = await peerNamed(a.net, 'Bob')
  t.is(bob.id, b.identity.id, 'an honest peer still connects afterwards')
})

/** A raw swarm that opens the chrysalis/v1 channel with `handshake`, then sends `messages` as notifies (message 0). */
function rawPeer(t: { teardown(fn: () => unknown): void }, testnet: Testnet, handshake: Buffer, messages: Buffer[] = []): Hyperswarm {
  const swarm = new Hyperswarm({ keyPair: Identity.generate().keyPair(), dht: testnet.createNode() })
  t.teardown(() => swarm.destroy())
  swarm.on('connection', (conn) => {
    conn.on('error', () => {})
    const ch = Protomux.from(conn).createChannel({ protocol: PROTOCOL, handshake: c.raw, messages: [{ encoding: c.raw, onmessage: () => {} }] })
    ch?.open(handshake)
    for (const m of messages) ch?.messages[0]!.send(m)
  })
  swarm.join(interestTopic('vintage-manuals').topic, { server: false, client: true })
  return swarm
}

test('a peer of a later revision (unknown flag bits, appended fields) is heard; a bad notify after its hello disconnects it', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = await makeNet(t, testnet, 'Ada', ['vintage-manuals'])
  const future = vectors.future.find((v) => v.codec === 'hello')!
  const later = rawPeer(t, testnet, Buffer.from(future.hex, 'hex'))
  await waitFor(() => a.net.peer(later.keyPair.publicKey) !== null, 10_000, 'the later peer to complete its hello')
  t.alike(a.net.peer(later.keyPair.publicKey)?.hello, future.message, 'its hello reads as the fields this revision knows')

  const bad = once(a.net, 'bad-peer')
  const garbled = rawPeer(t, testnet, hello.encode({ name: 'Mallory', bio: '', topics: [], messages: 2 }), [Buffer.from(vectors.refused.find((v) => v.codec === 'notify')!.hex, 'hex')])
  const [badKey, reason] = (await bad) as [Buffer, string]
  t.ok(badKey.equals(garbled.keyPair.publicKey), 'the sender of a notify that does not decode is reported')
  t.ok(/unknown notification kind/.test(reason), `the reason names the fault: ${reason}`)
  await waitFor(() => a.net.list().every((p) => !p.publicKey.equals(garbled.keyPair.publicKey)), 10_000, 'the garbled peer to be gone')
  t.ok(a.net.list().some((p) => p.publicKey.equals(later.keyPair.publicKey)), 'the later peer stays connected')
})

/** Open `author`'s feed in `who`'s store, find peers on its topic, and learn its length. */
async function followOverSwarm(who: { store: Corestore; net: Network }, author: Identity): Promise<Feed> {
  const feed = new Feed(who.store.get({ key: feedKeyOf(author.publicKey) }), author.publicKey)
  await feed.ready()
  const done = feed.core.findingPeers()
  await who.net.joinFeed(feed.core.discoveryKey)
  await who.net.flush()
  done()
  await feed.core.update({ wait: true })
  return feed
}

test('feeds replicate over the swarm; followers serve what they follow', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = await makeNet(t, testnet, 'Ada')
  const own = new OwnFeed(a.store.get({ keyPair: a.identity.keyPair() }), a.identity.publicKey)
  await own.ready()
  await own.post({ text: 'Kaypro II manual, 1982' })
  await a.net.joinFeed(own.core.discoveryKey)

  const b = await makeNet(t, testnet, 'Bob')
  const copy = await followOverSwarm(b, a.identity)
  t.is((await copy.posts())[0]?.record.text, 'Kaypro II manual, 1982', 'Bob reads Ada\'s post over the swarm')
  await copy.core.download({ start: 0, end: copy.core.length }).done()

  // Ada goes offline; Dee gets Ada's feed from Bob.
  await a.net.close()
  const d = await makeNet(t, testnet, 'Dee')
  const third = await followOverSwarm(d, a.identity)
  t.is((await third.posts())[0]?.record.text, 'Kaypro II manual, 1982', 'Dee reads it from Bob while Ada is offline')
})


test('a notification flood: at most the burst is processed, the flooder is disconnected, others still get through', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = await makeNet(t, testnet, 'Ada', ['vintage-manuals'])
  const seen = new Map<string, number>()
  a.net.on('notify', (peer, _message, done) => {
    seen.set(peer.id, (seen.get(peer.id) ?? 0) + 1)
    done()
  })
  let flooderDropped = false
  const evilKeys = Identity.generate()
  a.net.on('bad-peer', (key) => {
    if (key.equals(evilKeys.publicKey)) flooderDropped = true
  })

  // A hostile peer: a valid hello, then 1,000 notifications in one go.
  const evil = new Hyperswarm({ keyPair: evilKeys.keyPair(), dht: testnet.createNode() })
  t.teardown(() => evil.destroy())
  const started = Date.now()
  evil.on('connection', (conn) => {
    conn.on('error', () => {})
    const mux = Protomux.from(conn) as Protomux & { cork(): void; uncork(): void }
    const ch = mux.createChannel({
      protocol: PROTOCOL,
      handshake: c.raw,
      messages: [
        { encoding: c.raw, onmessage: () => {} },
        { encoding: c.raw, onmessage: () => {} }
      ]
    })
    if (!ch) return
    mux.cork()
    ch.open(hello.encode({ name: 'Mallory', bio: '', topics: [], messages: 2 }))
    for (let i = 0; i < 1000; i++) ch.messages[0]!.send(notify.encode({ kind: 'comment', id: 1_790_000_000_000 + i }))
    mux.uncork()
  })
  evil.join(interestTopic('vintage-manuals').topic, { server: false, client: true })
  await waitFor(() => flooderDropped, 20_000, 'the flooder to be disconnected')
  const elapsed = (Date.now() - started) / 1000
  const processed = seen.get(evilKeys.id) ?? 0
  t.ok(processed >= 1, `the flooder's first notifications are processed (${processed})`)
  t.ok(processed <= NOTIFY_LIMITS.burst + Math.ceil(elapsed * NOTIFY_LIMITS.perSecond), `at most the burst and the refill are processed: ${processed} of 1000`)

  const b = await makeNet(t, testnet, 'Bob')
  const acked = await b.net.deliver(a.identity.publicKey, { kind: 'mention', id: 1_790_000_000_500 }, Date.now() + 15_000)
  t.ok(acked, "another peer's notification is processed and acknowledged")
  t.is(seen.get(b.identity.id), 1)
})

test('follow notices: a first-revision peer is not sent one and stays; a message type this revision does not know is ignored', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = await makeNet(t, testnet, 'Ada', ['vintage-manuals'])
  const notices: string[] = []
  a.net.on('follow-notice', (peer, notice, done) => {
    notices.push(`${peer.id} ${notice.at}`)
    done()
  })

  // A peer of the first revision: a hello without bit 0, a channel of two messages.
  const old = rawPeer(t, testnet, Buffer.from(vectors.earlier[0]!.hex, 'hex'))
  await waitFor(() => a.net.peer(old.keyPair.publicKey) !== null, 10_000, 'the old peer')
  t.is(a.net.peer(old.keyPair.publicKey)?.hello?.messages, 2, 'its hello says it handles notify and ack')
  const started = Date.now()
  t.is(await a.net.deliverFollowNotice(old.keyPair.publicKey, { at: 1 }, Date.now() + 10_000), 'old-peer', 'it is not sent a message it would drop')
  t.ok(Date.now() - started < 5000, 'said at once, not at the deadline')
  t.ok(a.net.peer(old.keyPair.publicKey), 'still connected')

  // A peer of a later revision with six messages: it sends type 5, unknown here, then a follow
  // notice. Protomux drops the first; the channel goes on and the notice is answered.
  const later = new Hyperswarm({ keyPair: Identity.generate().keyPair(), dht: testnet.createNode() })
  t.teardown(() => later.destroy())
  const acked = new Promise<Uint8Array>((resolve) => {
    later.on('connection', (conn) => {
      conn.on('error', () => {})
      const raw = { encoding: c.raw, onmessage: () => {} }
      const ch = Protomux.from(conn).createChannel({
        protocol: PROTOCOL,
        handshake: c.raw,
        messages: [raw, raw, raw, { encoding: c.raw, onmessage: (m: Uint8Array) => resolve(m) }, raw, raw]
      })
      if (!ch) return
      ch.open(hello.encode({ name: 'Lin', bio: '', topics: [], messages: 6 }))
      ch.messages[5]!.send(Buffer.from('a message of a later revision'))
      ch.messages[2]!.send(followNotice.encode({ at: 1_790_000_005_000 }))
    })
  })
  later.join(interestTopic('vintage-manuals').topic, { server: false, client: true })
  t.alike(followAck.decode(await acked), { at: 1_790_000_005_000 }, 'the follow notice is acknowledged with its at')
  t.alike(notices, [`${encodeId(later.keyPair.publicKey)} 1790000005000`], 'and was handed on once')
  t.ok(a.net.peer(later.keyPair.publicKey), 'the later peer stays connected')
})

test('closing the network ends every wait for a peer or an ack (none holds the process until its deadline)', async (t) => {
  const testnet = await createTestnet(3)
  t.teardown(() => testnet.destroy(), { order: Infinity })
  const { net } = await makeNet(t, testnet, 'Ada')
  const nobody = Identity.generate().publicKey
  const hour = Date.now() + 3_600_000
  const waiting = net.waitForPeer(nobody, hour)
  const delivering = net.deliverFollowNotice(nobody, { at: 1 }, hour)
  await net.close()
  t.is(await waiting, null, 'the wait for a peer ends with the network')
  t.is(await delivering, 'failed', 'so does a delivery')
})

test('delivering to a peer connected already dials nobody (explicit peers would keep a quarter of maxPeers from the others)', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = await makeNet(t, testnet, 'Ada', ['Vintage Manuals'])
  const b = await makeNet(t, testnet, 'Bob', ['vintage-manuals'])
  await peerNamed(a.net, 'Bob')
  await peerNamed(b.net, 'Ada')
  b.net.on('follow-notice', (_peer, _notice, done) => done())
  let dials = 0
  const joinPeer = a.net.swarm.joinPeer.bind(a.net.swarm)
  a.net.swarm.joinPeer = (key: Buffer) => {
    dials++
    joinPeer(key)
  }
  const sent = await a.net.deliverFollowNotice(b.identity.publicKey, { at: 7 }, Date.now() + 10_000)
  t.is(sent, 'acked')
  t.is(dials, 0, 'no explicit peer while delivering to a connected one')
})
