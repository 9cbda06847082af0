// PeerWire over TCP on 127.0.0.1 (protocol.md §15 "Peer wire"): two of ours talking, and hostile raw peers.
import test from 'brittle'
import crypto from 'node:crypto'
import { once } from 'node:events'
import type net from 'node:net'
import type { WireError, WireErrorCode } from '../src/transfer/wire/errors.js'
import { encode, encodeHandshake, reservedBytes, type Capabilities, type Message } from '../src/transfer/wire/messages.js'
import { fetchMetadata, serveMetadata } from '../src/transfer/wire/metadata.js'
import { PeerWire, type WireTorrent } from '../src/transfer/wire/peer.js'
import { next, socketPair } from './helpers-wire.js'
import type { Test } from './helpers.js'

const info = crypto.randomBytes(40_000) // three ut_metadata pieces
const v1 = crypto.hash('sha1', info, 'buffer')
const v2 = crypto.hash('sha256', info, 'buffer')
const hybrid: WireTorrent = { infohash: v1, v1, v2: v2.subarray(0, 20), pieceCount: 4 }
const peerId = (c: string): Buffer => Buffer.from(`-CY0001-${c.repeat(12)}`)

function closed(peer: PeerWire): Promise<WireErrorCode | null> {
  return new Promise((resolve) => peer.once('close', (err) => resolve(err?.code ?? null)))
}

function responder(t: Test, socket: net.Socket, torrents: WireTorrent[], opts: { now?: () => number; idleMs?: number; keepAliveMs?: number; handshakeMs?: number } = {}): PeerWire {
  const peer = new PeerWire(socket, {
    peerId: peerId('b'),
    resolve: (h) => torrents.find((x) => h.equals(x.infohash) || (x.v1 && h.equals(x.v1)) || (x.v2 && h.equals(x.v2))) ?? null,
    tickMs: 10,
    ...opts
  })
  t.teardown(() => peer.destroy())
  return peer
}

test('two PeerWires: handshake, extended handshake, metadata, request/piece, hashes', async (t) => {
  const [ca, cb] = await socketPair(t)
  const a = new PeerWire(ca, { peerId: peerId('a'), torrent: { ...hybrid, pieceCount: null } })
  t.teardown(() => a.destroy())
  const b = responder(t, cb, [hybrid])
  serveMetadata(b, info)
  const data = crypto.randomBytes(32 * 1024)

  b.on('handshake', (h) => {
    t.ok(h.infohash.equals(v1), 'the responder saw the v1 hash')
    t.ok(b.torrent!.infohash.equals(v2.subarray(0, 20)), 'and answers with the truncated v2 hash (BEP 52 upgrade)')
    t.ok(h.caps.extended && h.caps.fast && h.caps.v2, 'extension, fast and v2 bits')
    b.extendedHandshake({ metadataSize: info.length, v: 'Chrysalis test', reqq: 500 })
    b.bitfield(Buffer.from([0x80]))
  })
  b.on('interested', () => b.unchoke())
  b.on('request', (m) => b.piece(m.index, m.begin, data.subarray(m.begin, m.begin + m.length)))
  b.on('hashRequest', (m) => b.hashes(m, Buffer.alloc(32 * m.count, 7)))

  // Both may arrive in one chunk: listen for the second before awaiting the first.
  const extended = next(a, 'extendedHandshake')
  const [h] = await next(a, 'handshake')
  t.ok(h.peerId.equals(peerId('b')))
  t.ok(a.v2 && b.v2, 'both sides count the other as v2')
  a.extendedHandshake()
  const [ext] = await extended
  t.is(ext.metadataSize, info.length)
  t.is(ext.reqq, 500)
  t.is(ext.v, 'Chrysalis test')
  const got = await fetchMetadata(a, { v1, v2 })
  t.ok(got.equals(info), 'metadata fetched and verified with SHA-1 and SHA-256')
  a.setPieceCount(4)

  a.interested()
  await once(a, 'unchoke')
  const blocks: Buffer[] = []
  const twoBlocks = new Promise<void>((resolve) =>
    a.on('piece', (m) => {
      blocks[m.begin / 16384] = Buffer.from(m.block)
      if (blocks.filter(Boolean).length === 2) resolve()
    })
  )
  a.request(0, 0, 16384)
  a.request(0, 16384, 16384)
  await twoBlocks
  t.ok(Buffer.concat(blocks).equals(data), 'both blocks arrived intact')

  a.hashRequest({ root: v2, base: 2, index: 0, count: 4, proofLayers: 1 })
  const [hashes] = await next(a, 'hashes')
  t.is(hashes.count, 4)
  t.is(hashes.hashes.length, 4 * 32)

  const end = closed(b)
  a.destroy()
  t.is(await end, null, 'an orderly close')
})

test('a hybrid accepts its v1 hash or its truncated v2 hash; an unknown hash is refused', async (t) => {
  for (const [name, hash, bit, v2peer, answered] of [
    ['v1 hash, no v2 bit', v1, false, false, v1],
    ['v1 hash + v2 bit', v1, true, true, v2.subarray(0, 20)],
    ['truncated v2 hash', v2.subarray(0, 20), false, true, v2.subarray(0, 20)]
  ] as const) {
    const [ca, cb] = await socketPair(t)
    const b = responder(t, cb, [hybrid])
    ca.write(encodeHandshake({ reserved: reservedBytes({ extended: true, v2: bit }), infohash: hash, peerId: peerId('x') }))
    const [answer] = (await once(ca, 'data')) as [Buffer]
    t.ok(answer.subarray(28, 48).equals(answered), `${name}: answered with the ${answered === v1 ? 'v1' : 'truncated v2'} hash`)
    t.is(b.v2, v2peer, `${name}: v2 peer = ${v2peer}`)
  }
  const [ca, cb] = await socketPair(t)
  const a = new PeerWire(ca, { peerId: peerId('a'), torrent: { infohash: crypto.randomBytes(20), pieceCount: 4 } })
  t.teardown(() => a.destroy())
  const b = responder(t, cb, [hybrid])
  const [codeB, codeA] = await Promise.all([closed(b), closed(a)])
  t.is(codeB, 'UNKNOWN_TORRENT')
  t.is(codeA, 'BAD_HANDSHAKE', 'the initiator saw the connection end inside the handshake')
})

/** A raw client sends a handshake then `bytes`; resolves with the code the responder closed with. */
async function hostile(t: Test, bytes: Buffer | null, caps: Partial<Capabilities> = { extended: true, fast: true, v2: true }, torrent = hybrid): Promise<WireErrorCode | null> {
  const [raw, cb] = await socketPair(t)
  raw.on('error', () => {})
  raw.resume() // read what comes, so the end of the stream is seen
  const b = responder(t, cb, [torrent])
  const end = closed(b)
  raw.write(encodeHandshake({ reserved: reservedBytes(caps), infohash: torrent.infohash, peerId: peerId('h') }))
  // Ending our side too: a responder that misses the violation closes in order (null), never hangs.
  raw.end(bytes ?? Buffer.alloc(0))
  const rawClosed = once(raw, 'close')
  const code = await end
  await rawClosed
  return code
}

const frame = (m: Message): Buffer => encode(m)
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
const hashReq = (count: number): Message => ({ type: 'hashRequest', root: v2, base: 0, index: 0, count, proofLayers: 0 })

test('hostile peers are dropped with the right code', async (t) => {
  t.is(await hostile(t, Buffer.concat([u32(2 ** 31), Buffer.alloc(100)])), 'MESSAGE_TOO_LONG', 'a 2 GiB length')
  t.is(await hostile(t, Buffer.concat([u32(9 + 16385), Buffer.from([7])])), 'MESSAGE_TOO_LONG', 'a piece above 16 KiB')
  t.is(await hostile(t, frame({ type: 'bitfield', bits: Buffer.alloc(2) })), 'MESSAGE_TOO_LONG', 'a bitfield too long for 4 pieces (known from its id)')
  t.is(await hostile(t, frame({ type: 'bitfield', bits: Buffer.alloc(0) })), 'BAD_MESSAGE', 'a bitfield too short')
  t.is(await hostile(t, frame({ type: 'bitfield', bits: Buffer.from([0x08]) })), 'BAD_MESSAGE', 'a bitfield with spare bits')
  t.is(await hostile(t, Buffer.concat([frame({ type: 'haveAll' }), frame({ type: 'haveNone' })])), 'BAD_MESSAGE', 'two bitfields')
  t.is(await hostile(t, frame({ type: 'have', index: 4 })), 'BAD_MESSAGE', 'have past the last piece')
  t.is(await hostile(t, frame({ type: 'request', index: 0, begin: 0, length: 16385 })), 'BAD_MESSAGE', 'a request above 16 KiB')
  t.is(await hostile(t, frame(hashReq(0))), 'BAD_MESSAGE', 'a hash request for 0 hashes')
  t.is(await hostile(t, frame(hashReq(8193))), 'BAD_MESSAGE', 'a hash request for 8193 hashes')
  t.is(await hostile(t, frame(hashReq(4)), { extended: true, fast: true }), 'NOT_V2', 'a hash request from a v1 peer')
  t.is(await hostile(t, frame({ type: 'haveAll' }), { extended: true }), 'BAD_MESSAGE', 'a fast message without BEP 6')
  t.is(await hostile(t, frame({ type: 'extended', ext: 9, payload: Buffer.from('de') })), 'BAD_EXTENSION', 'an extension we never announced')
  t.is(await hostile(t, frame({ type: 'extended', ext: 0, payload: Buffer.from('d1:md') })), 'BAD_MESSAGE', 'a truncated extended handshake')
  t.is(await hostile(t, null), null, 'an end right after the handshake is an orderly close')
})

test('a truncated or foreign handshake is refused', async (t) => {
  for (const [name, bytes] of [
    ['HTTP', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['40 of 68 bytes', encodeHandshake({ reserved: Buffer.alloc(8), infohash: v1, peerId: peerId('h') }).subarray(0, 40)]
  ] as const) {
    const [raw, cb] = await socketPair(t)
    raw.on('error', () => {})
    const b = responder(t, cb, [hybrid])
    const end = closed(b)
    raw.end(bytes)
    t.is(await end, 'BAD_HANDSHAKE', name)
  }
})

test('idle timeout and keep-alives follow the injected clock', async (t) => {
  let now = 1_000_000
  const clock = (): number => now
  const [raw, cb] = await socketPair(t)
  const b = responder(t, cb, [hybrid], { now: clock, idleMs: 10_000, keepAliveMs: 3_000 })
  raw.write(encodeHandshake({ reserved: reservedBytes({ extended: true }), infohash: v1, peerId: peerId('k') }))
  await once(b, 'handshake')
  let received = Buffer.alloc(0)
  const keepAlive = new Promise<void>((resolve) =>
    raw.on('data', (c: Buffer) => {
      received = Buffer.concat([received, c])
      if (received.length >= 68 + 4) resolve()
    })
  )
  now += 3_000
  await keepAlive
  t.is(received.subarray(68).toString('hex'), '00000000', 'a keep-alive after 3 s of silence')
  const end = closed(b)
  now += 10_000
  t.is(await end, 'TIMEOUT', 'dropped after 10 s without a byte from the peer')
  const [silent, cs] = await socketPair(t)
  silent.resume()
  const c = responder(t, cs, [hybrid], { now: clock, handshakeMs: 5_000 })
  const end2 = closed(c)
  now += 5_000
  t.is(await end2, 'TIMEOUT', 'dropped without a handshake after 5 s')
})

test('piece() writes without copying and reports backpressure', async (t) => {
  const [ca, cb] = await socketPair(t)
  ca.pause()
  const b = responder(t, cb, [hybrid])
  ca.write(encodeHandshake({ reserved: reservedBytes({ extended: true }), infohash: v1, peerId: peerId('p') }))
  await once(b, 'handshake')
  const block = Buffer.alloc(16384, 1)
  let sent = 0
  while (b.piece(0, 0, block)) if (++sent > 100_000) break
  t.ok(sent < 100_000, `write() said stop after ${sent} blocks`)
  t.is(b.writable, false, 'not writable while the socket drains')
  const drained = once(b, 'drain')
  ca.resume()
  await drained
  t.is(b.writable, true)
})

test('metadata that does not match the infohash drops the peer', async (t) => {
  const [ca, cb] = await socketPair(t)
  const a = new PeerWire(ca, { peerId: peerId('a'), torrent: { ...hybrid, pieceCount: null } })
  t.teardown(() => a.destroy())
  const b = responder(t, cb, [hybrid])
  const lie = Buffer.from(info)
  lie[20_000] = lie[20_000]! ^ 1
  serveMetadata(b, lie)
  b.on('handshake', () => b.extendedHandshake({ metadataSize: lie.length }))
  await next(a, 'handshake')
  a.extendedHandshake()
  const end = closed(a)
  await t.exception(fetchMetadata(a, { v1 }), /does not match/)
  t.is(await end, 'BAD_METADATA')

  const [ca2, cb2] = await socketPair(t)
  const a2 = new PeerWire(ca2, { peerId: peerId('a'), torrent: { ...hybrid, pieceCount: null } })
  t.teardown(() => a2.destroy())
  const b2 = responder(t, cb2, [hybrid])
  b2.on('handshake', () => b2.extendedHandshake({ metadataSize: 12 * 1024 * 1024 + 1 }))
  await once(a2, 'handshake')
  const err = await fetchMetadata(a2, { v1 }).then(
    () => null,
    (e: WireError) => e
  )
  t.is(err?.code, 'BAD_MESSAGE', 'an extended handshake announcing 12 MiB + 1 of metadata')
})
