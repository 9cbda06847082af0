// The upload side (src/transfer/engine/uploader.ts), over real loopback streams: piece buffers
// come from a pool and are lent again only once the stream has written them. Two peers ask for
// pieces in opposite orders through a small read cache, one of them stalled so that what we sent
// it waits in our stream; both get exactly the right bytes, from far fewer buffers than pieces
// read. Over TCP and over a hyperswarm stream (mux-stream.ts, which also says when it is done
// with a buffer; without that, every piece sent on it would take a fresh buffer).
import test from 'brittle'
import crypto from 'node:crypto'
import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import Protomux from 'protomux'
import { CONNECTION_LIMITS } from '../src/transfer/engine/connections.js'
import { Peer } from '../src/transfer/engine/peer.js'
import { UPLOAD_LIMITS, Uploader } from '../src/transfer/engine/uploader.js'
import type { PieceStore } from '../src/transfer/storage.js'
import { acceptMuxStreams, openMuxStream } from '../src/transfer/mux-stream.js'
import { PeerWire, type WireTorrent } from '../src/transfer/wire/peer.js'
import { hyperswarmPair, socketPair } from './helpers-wire.js'
import type { Test } from './helpers.js'

const PIECE = 1024 * 1024 // the 16 MiB read cache holds 16 of these
const PIECES = 48
const BLOCK = 16 * 1024
const base = crypto.randomBytes(PIECE)
const torrent: WireTorrent = { infohash: crypto.randomBytes(20), pieceCount: PIECES }

/** Piece p: the random base rotated by p * 4099 bytes. */
function expected(piece: number, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  const shift = (piece * 4099) % PIECE
  for (let i = 0; i < length; ) {
    const at = (offset + i + shift) % PIECE
    i += base.copy(out, i, at, Math.min(PIECE, at + length - i))
  }
  return out
}

/** A store whose reads finish out of order, after 0–2 ms. */
function fakeStore(counts: { reads: number; buffers: Set<ArrayBufferLike> }): PieceStore {
  const store = {
    meta: { pieceLength: PIECE },
    map: { pieceCount: PIECES, size: () => PIECE, wireSize: () => PIECE },
    servable: () => true,
    async read(piece: number, offset: number, length: number, into?: Buffer): Promise<Buffer> {
      counts.reads++
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)))
      const data = expected(piece, offset, length)
      counts.buffers.add(into?.buffer ?? data.buffer)
      if (!into) return data
      data.copy(into)
      return into
    }
  }
  return store as unknown as PieceStore
}

/**
 * Two protomux ends over a hyperswarm connection on a loopback testnet, and the BitTorrent
 * stream between them (mux-stream.ts); with the client's raw connection, to stall it.
 */
async function muxPair(t: Test): Promise<[Duplex, Duplex, Duplex]> {
  const [ca, cb] = await hyperswarmPair(t)
  const accepted = new Promise<Duplex>((resolve) => acceptMuxStreams(Protomux.from(cb), () => true, (_id, stream) => resolve(stream)))
  const client = openMuxStream(Protomux.from(ca), torrent.infohash)!
  return [client, await accepted, ca]
}

interface Pair {
  remote: PeerWire
  ours: PeerWire
  /** Stop and restart reading on the remote's side, so what we send waits on ours. */
  stall(): void
  resume(): void
}

/** A connected pair: our serving side as a Peer of the uploader, and the remote PeerWire. */
async function pair(t: Test, up: Uploader, name: string, transport: 'tcp' | 'hyperswarm'): Promise<Pair> {
  const [a, b, raw] = transport === 'tcp' ? [...(await socketPair(t, { highWaterMark: CONNECTION_LIMITS.socketBuffer })), null] as const : await muxPair(t)
  const peerId = (c: string): Buffer => Buffer.from(`-CY0001-${c.repeat(12)}`)
  const remote = new PeerWire(a, { peerId: peerId(name), torrent })
  const ours = new PeerWire(b, { peerId: peerId('s'), resolve: () => torrent })
  t.teardown(() => {
    remote.destroy()
    ours.destroy()
  })
  const handshook = once(remote, 'handshake')
  await once(ours, 'handshake')
  await handshook
  const peer = new Peer(ours, { transport: 'tcp', address: `127.0.0.1:${name}`, banKey: name }, 500)
  // As torrent.ts wires them.
  ours.on('request', (m) => up.request(peer, m.index, m.begin, m.length))
  ours.on('drain', () => up.serve(peer))
  up.add(peer)
  const unchoked = once(remote, 'unchoke')
  up.interested(peer, true)
  await unchoked
  const reader = raw ?? a
  return { remote, ours, stall: () => reader.pause(), resume: () => reader.resume() }
}

/**
 * Ask for every block of `order`'s pieces, at most 256 in flight; resolves with the wrong blocks.
 * With `stalled`, as many as the seeder queues are asked for and nothing is read until it settles:
 * what the seeder sent waits in its socket, in pooled buffers, while other peers are served.
 */
function fetchAll(p: Pair, order: number[], stalled?: Promise<unknown>): Promise<string[]> {
  const remote = p.remote
  const wanted: Array<[number, number]> = order.flatMap((p) => Array.from({ length: PIECE / BLOCK }, (_, i) => [p, i * BLOCK] as [number, number]))
  const wrong: string[] = []
  let next = 0
  let pending = 0
  const window = stalled ? UPLOAD_LIMITS.servedQueue : 256
  return new Promise((resolve) => {
    const more = (): void => {
      while (pending < window && next < wanted.length) {
        const [p, o] = wanted[next++]!
        remote.request(p, o, BLOCK)
        pending++
      }
      if (pending === 0) resolve(wrong)
    }
    remote.on('piece', (m) => {
      if (!m.block.equals(expected(m.index, m.begin, m.block.length))) wrong.push(`${m.index}:${m.begin}`)
      pending--
      more()
    })
    if (stalled) {
      p.stall()
      void stalled.then(() => p.resume())
    }
    more()
  })
}

for (const transport of ['tcp', 'hyperswarm'] as const) {
  test(`uploader (${transport}): pooled piece buffers are lent again only after the stream is done with them; two peers get exact bytes`, async (t) => {
    const counts = { reads: 0, buffers: new Set<ArrayBufferLike>() }
    const store = fakeStore(counts)
    const failed: Error[] = []
    const up = new Uploader({ store: () => store, seeding: () => true, live: () => true, sent: () => {}, failed: (err) => failed.push(err) })
    t.teardown(() => up.clear())

    // a stalls over the transport under test; b reads everything over TCP meanwhile.
    const a = await pair(t, up, 'a', transport)
    const b = await pair(t, up, 'b', 'tcp')
    const forward = Array.from({ length: PIECES }, (_, i) => i)
    const toB = fetchAll(b, [...forward].reverse())
    let queued = 0
    const toA = fetchAll(a, forward, toB.then(() => (queued = a.ours.socket.writableLength)))
    t.alike(await toB, [], 'every block to the peer reading backwards is right')
    t.alike(await toA, [], 'every block to the peer that stalled, then read forwards, is right')
    t.ok(queued > 256 * 1024, `${queued} bytes waited in our stream to the stalled peer meanwhile`)
    t.alike(failed, [])

    const room = Math.floor(UPLOAD_LIMITS.readCacheBytes / PIECE)
    t.ok(counts.reads > 2 * room, `${counts.reads} pieces read through a cache of ${room}`)
    t.ok(counts.buffers.size < counts.reads / 2, `into ${counts.buffers.size} buffers`)
  })
}
