import test from 'brittle'
import net from 'node:net'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import type { ChrysalisNode } from '../src/node/node.js'
import { targetFromHash, targetFromMeta } from '../src/transfer/target.js'
import { createTorrent } from '../src/transfer/create.js'
import { encodeExtendedHandshake } from '../src/transfer/wire/extension.js'
import { UPLOAD_LIMITS } from '../src/transfer/engine/uploader.js'
import { blockHashRequest } from '../src/transfer/hashes.js'
import { MessageId, encode, encodeBlockRef, encodeHandshake, reservedBytes } from '../src/transfer/wire/messages.js'
import { dataFile, onlineNode, shaFile, tmpDir, type Test, internals } from './helpers.js'

type T = Test & { ok(v: unknown, msg?: string): void; is(a: unknown, b: unknown, msg?: string): void }

// Hostile peers on the BitTorrent port (protocol.md §13 limits): each is dropped alone, and the
// seeder goes on serving an honest peer by address.

async function tcpSeeder(t: T, dir: string, size: number): Promise<{ node: ChrysalisNode; port: number; meta: NonNullable<ReturnType<ChrysalisNode['transfers']['metadata']>>; file: string; hash: string }> {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const { file, hash } = await dataFile(dir, 'kaypro.pdf', size)
  const node = await onlineNode(t, testnet, 'S')
  const shared = await node.files.share(file)
  const meta = internals(node).transfers.metadata(Buffer.from(shared.infohash, 'hex'))!
  const port = node.status().bt.port!
  t.ok(port > 0, `the seeder listens on TCP port ${port}`)
  return { node, port, meta, file, hash }
}

/** A raw TCP peer: handshake sent, the seeder's answer read past. */
async function rawPeer(t: Test, port: number, hash20: Buffer, v2 = false): Promise<{ socket: net.Socket; closed: Promise<void>; received: Buffer[] }> {
  const socket = net.connect({ host: '127.0.0.1', port })
  t.teardown(() => socket.destroy())
  const received: Buffer[] = []
  socket.on('data', (d: Buffer) => received.push(d))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(encodeHandshake({ reserved: reservedBytes({ extended: true, fast: true, v2 }), infohash: hash20, peerId: Buffer.alloc(20, 9) }))
  return { socket, closed, received }
}

async function honestFetch(t: T, dir: string, port: number, meta: { infohash: Buffer }, hash: string, name: string): Promise<void> {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const f = await onlineNode(t, testnet, 'F')
  const out = path.join(dir, 'out')
  // By address only: no hyperswarm connection to the seeder.
  await internals(f).transfers.fetch({ ...targetFromHash(meta.infohash), peers: [{ host: '127.0.0.1', port }] }, { out })
  t.is(await shaFile(path.join(out, name)), hash, 'an honest peer still gets the file, by TCP address')
}

test('a frame length beyond any message is refused from its header; the seeder serves others', async (t) => {
  const dir = await tmpDir(t)
  const s = await tcpSeeder(t, dir, 512 * 1024)
  const p = await rawPeer(t, s.port, s.meta.infohashV1 ?? s.meta.infohash.subarray(0, 20))
  p.socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, MessageId.piece]))
  await p.closed
  t.pass('the connection was closed on a 2 GiB length, before any of it was buffered')
  await honestFetch(t, dir, s.port, s.meta, s.hash, 'kaypro.pdf')
})

test('a peer flooding requests it cannot have is dropped after the documented number of refusals', async (t) => {
  const dir = await tmpDir(t)
  const s = await tcpSeeder(t, dir, 512 * 1024)
  const p = await rawPeer(t, s.port, s.meta.infohashV1 ?? s.meta.infohash.subarray(0, 20))
  // Never interested, so never unchoked: every request is refused. Up to the limit, each gets a
  // reject (BEP 6) and the connection stays; past it, the peer is dropped.
  const requests = (n: number): Buffer => Buffer.concat(Array.from({ length: n }, () => encodeBlockRef(MessageId.request, 0, 0, 16384)))
  p.socket.write(requests(UPLOAD_LIMITS.floodRejects - 10))
  const deadline = Date.now() + 10_000
  while (countMessages(Buffer.concat(p.received), MessageId.reject) < UPLOAD_LIMITS.floodRejects - 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.is(countMessages(Buffer.concat(p.received), MessageId.reject), UPLOAD_LIMITS.floodRejects - 10, 'each refused request is answered with a reject')
  t.absent(p.socket.destroyed, 'below the limit the peer stays')
  p.socket.write(requests(20))
  await p.closed
  t.pass(`dropped past ${UPLOAD_LIMITS.floodRejects} refusals`)
  await honestFetch(t, dir, s.port, s.meta, s.hash, 'kaypro.pdf')
})

test('a bad hash request gets a hash reject, and the connection stays', async (t) => {
  const dir = await tmpDir(t)
  const s = await tcpSeeder(t, dir, 512 * 1024)
  const p = await rawPeer(t, s.port, s.meta.infohash.subarray(0, 20), true)
  const root = s.meta.files[0]!.piecesRoot!
  // count 3 is not a power of two; index past the layer; a root of no file of the torrent.
  for (const ref of [{ root, base: 0, index: 0, count: 3, proofLayers: 0 }, { root, base: 0, index: 1 << 20, count: 2, proofLayers: 0 }, { root: Buffer.alloc(32, 1), base: 0, index: 0, count: 2, proofLayers: 0 }]) {
    p.socket.write(encode({ type: 'hashRequest', ...ref }))
  }
  const deadline = Date.now() + 10_000
  while (countMessages(Buffer.concat(p.received), MessageId.hashReject) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.is(countMessages(Buffer.concat(p.received), MessageId.hashReject), 3, 'three hash rejects')
  t.absent(p.socket.destroyed, 'still connected')
  await honestFetch(t, dir, s.port, s.meta, s.hash, 'kaypro.pdf')
})

test('block hashes of a piece just served are answered (BEP 52: a peer checks a failed piece with them)', async (t) => {
  const dir = await tmpDir(t)
  const s = await tcpSeeder(t, dir, 4 * 1024 * 1024)
  const p = await rawPeer(t, s.port, s.meta.infohash.subarray(0, 20), true)
  p.socket.write(encode({ type: 'interested' }))
  const until = async (ok: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000
    while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    t.ok(ok(), what)
  }
  await until(() => countMessages(Buffer.concat(p.received), MessageId.unchoke) > 0, 'unchoked')
  const blocks = s.meta.pieceLength / 16384
  for (let b = 0; b < blocks; b++) p.socket.write(encodeBlockRef(MessageId.request, 1, b * 16384, 16384))
  await until(() => countMessages(Buffer.concat(p.received), MessageId.piece) === blocks, 'piece 1 served')
  const ref = blockHashRequest(s.meta, 1)!
  p.socket.write(encode({ type: 'hashRequest', ...ref }))
  await until(() => countMessages(Buffer.concat(p.received), MessageId.hashes) + countMessages(Buffer.concat(p.received), MessageId.hashReject) > 0, 'an answer')
  t.is(countMessages(Buffer.concat(p.received), MessageId.hashes), 1, 'hashes, not a reject')
})

test('a peer that connected to us and sent a bad piece stays banned when it comes back from another port', async (t) => {
  const dir = await tmpDir(t)
  const { file } = await dataFile(dir, 'cpm.img', 256 * 1024)
  const { meta } = await createTorrent(file)
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const f = await onlineNode(t, testnet, 'F')
  // A download with no source yet: it waits for peers on its BitTorrent port.
  const fetching = internals(f).transfers.fetch(targetFromMeta(meta), { out: path.join(dir, 'out') })
  fetching.catch(() => {})
  const port = f.status().bt.port!
  const banned = new Promise<string>((resolve) => internals(f).transfers.once('ban', (_ih, who) => resolve(who)))
  const until = async (ok: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000
    while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  }
  const hash20 = meta.infohash.subarray(0, 20)
  // The fetch registers its torrent a moment after it is called: connect until it answers.
  let liar = await rawPeer(t, port, hash20, true)
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; liar = await rawPeer(t, port, hash20, true)) {
    await Promise.race([liar.closed, until(() => liar.received.length > 0)])
    if (!liar.socket.destroyed && liar.received.length > 0) break
  }
  // Listening on 7777, it says (BEP 10 p); it has everything.
  liar.socket.write(encode({ type: 'extended', ext: 0, payload: encodeExtendedHandshake({ m: new Map(), p: 7777 }) }))
  liar.socket.write(encode({ type: 'haveAll' }))
  liar.socket.write(encode({ type: 'unchoke' }))
  await until(() => countMessages(Buffer.concat(liar.received), MessageId.request) > 0)
  // Every block it is asked for, answered with garbage of the right size.
  const requests = parseRequests(Buffer.concat(liar.received))
  for (const r of requests) liar.socket.write(encode({ type: 'piece', index: r.index, begin: r.begin, block: Buffer.alloc(r.length, 0x5a) }))
  t.is(await banned, `127.0.0.1:${liar.socket.localPort}`, 'banned for the bad piece')
  await liar.closed
  // Back from a new port, telling the same listening port: refused at its extended handshake.
  const again = await rawPeer(t, port, hash20, true)
  again.socket.write(encode({ type: 'extended', ext: 0, payload: encodeExtendedHandshake({ m: new Map(), p: 7777 }) }))
  await again.closed
  t.pass('the same peer from another port is closed: its ban holds by the listening port it told')
})

/** The requests in a byte stream that starts with the 68-byte handshake. */
function parseRequests(bytes: Buffer): Array<{ index: number; begin: number; length: number }> {
  const out: Array<{ index: number; begin: number; length: number }> = []
  for (let at = 68; at + 4 <= bytes.length; ) {
    const len = bytes.readUInt32BE(at)
    if (at + 4 + len > bytes.length) break
    if (len === 13 && bytes[at + 4] === MessageId.request) out.push({ index: bytes.readUInt32BE(at + 5), begin: bytes.readUInt32BE(at + 9), length: bytes.readUInt32BE(at + 13) })
    at += 4 + len
  }
  return out
}

/** Messages of one id in a byte stream that starts with the 68-byte handshake. */
function countMessages(bytes: Buffer, id: number): number {
  let n = 0
  for (let at = 68; at + 4 <= bytes.length; ) {
    const len = bytes.readUInt32BE(at)
    if (at + 4 + len > bytes.length) break
    if (len > 0 && bytes[at + 4] === id) n++
    at += 4 + len
  }
  return n
}
