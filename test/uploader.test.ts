// The upload side (src/transfer/engine/uploader.ts) over real loopback sockets: piece buffers come
// from a pool and are lent again only once the socket has written them, so two peers asking for
// pieces in opposite orders through a small read cache get exactly the right bytes, from far fewer
// buffers than pieces read.
import test from 'brittle'
import crypto from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { CONNECTION_LIMITS } from '../src/transfer/engine/connections.js'
import { Peer } from '../src/transfer/engine/peer.js'
import { UPLOAD_LIMITS, Uploader } from '../src/transfer/engine/uploader.js'
import type { PieceStore } from '../src/transfer/storage.js'
import { PeerWire, type WireTorrent } from '../src/transfer/wire/peer.js'
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

/** A loopback TCP pair; the accepted side buffers as much as connections.ts lets it. */
async function socketPair(t: Test): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer({ highWaterMark: CONNECTION_LIMITS.socketBuffer })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await once(client, 'connect')
  const [socket] = await accepted
  server.close()
  t.teardown(() => {
    client.destroy()
    socket.destroy()
  })
  return [client, socket]
}

/** A connected pair: our serving side as a Peer of the uploader, and the remote PeerWire. */
async function pair(t: Test, up: Uploader, name: string): Promise<[PeerWire, PeerWire]> {
  const [a, b] = await socketPair(t)
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
  const peer = new Peer(ours, { transport: 'tcp', address: `127.0.0.1:${b.remotePort}`, banKey: name }, 500)
  // As torrent.ts wires them.
  ours.on('request', (m) => up.request(peer, m.index, m.begin, m.length))
  ours.on('drain', () => up.serve(peer))
  up.add(peer)
  const unchoked = once(remote, 'unchoke')
  up.interested(peer, true)
  await unchoked
  return [remote, ours]
}

/**
 * Ask for every block of `order`'s pieces, at most 256 in flight; resolves with the wrong blocks.
 * With `stalled`, as many as the seeder queues are asked for and nothing is read until it settles:
 * what the seeder sent waits in its socket, in pooled buffers, while other peers are served.
 */
function fetchAll(remote: PeerWire, order: number[], stalled?: Promise<unknown>): Promise<string[]> {
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
      remote.socket.pause()
      void stalled.then(() => remote.socket.resume())
    }
    more()
  })
}

test('uploader: pooled piece buffers are lent again only after the socket wrote them; two peers get exact bytes', async (t) => {
  const counts = { reads: 0, buffers: new Set<ArrayBufferLike>() }
  const store = fakeStore(counts)
  const failed: Error[] = []
  const up = new Uploader({ store: () => store, seeding: () => true, live: () => true, sent: () => {}, failed: (err) => failed.push(err) })
  t.teardown(() => up.clear())

  const [a, servingA] = await pair(t, up, 'a')
  const [b] = await pair(t, up, 'b')
  const forward = Array.from({ length: PIECES }, (_, i) => i)
  // b reads everything while a reads nothing; then a goes on.
  const toB = fetchAll(b, [...forward].reverse())
  let queued = 0
  const toA = fetchAll(a, forward, toB.then(() => (queued = a.socket.writableLength + servingA.socket.writableLength)))
  t.alike(await toB, [], 'every block to the peer reading backwards is right')
  t.alike(await toA, [], 'every block to the peer that stalled, then read forwards, is right')
  t.ok(queued > 1024 * 1024, `${queued} bytes waited in the stalled peer's socket meanwhile`)
  t.alike(failed, [])

  const room = Math.floor(UPLOAD_LIMITS.readCacheBytes / PIECE)
  t.ok(counts.reads > 2 * room, `${counts.reads} pieces read through a cache of ${room}`)
  t.ok(counts.buffers.size < counts.reads / 2, `into ${counts.buffers.size} buffers`)
})
