// PeerWire against libtorrent 2.0.8 (test/oracle/lt-wire-peer.py) on 127.0.0.1: the handshake, BEP 10,
// BEP 9 metadata, the fast extension's bitfield, request/piece and BEP 52 hash requests.
import test from 'brittle'
import { execFile, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import { once } from 'node:events'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import { createTorrent } from '../src/transfer/create.js'
import { padHash, sha256, splitLayer } from '../src/transfer/merkle.js'
import { fetchMetadata, serveMetadata } from '../src/transfer/wire/metadata.js'
import { PeerWire, type WireTorrent } from '../src/transfer/wire/peer.js'
import type { HashRef, MessageOf } from '../src/transfer/wire/messages.js'
import { tmpDir, type Test as Teardown } from './helpers.js'
import { next } from './helpers-wire.js'

const exec = promisify(execFile)

/** The part of a brittle test used here (brittle's types do not export it). */
interface Test extends Teardown {
  ok(v: unknown, msg?: string): void
  absent(v: unknown, msg?: string): void
  is(a: unknown, b: unknown, msg?: string): void
  alike(a: unknown, b: unknown, msg?: string): void
  comment(msg: string): void
}
const LT = path.resolve(import.meta.dirname, 'oracle', 'lt-wire-peer.py')
const PIECE = 64 * 1024
const SIZE = 1024 * 1024 // 16 pieces of 64 KiB, 64 blocks

async function make(t: Test, kind: 'hybrid' | 'v2'): Promise<{ dir: string; file: string; data: Buffer; v1: Buffer | null; v2: Buffer; torrent: string }> {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'scan.bin')
  const data = crypto.randomBytes(SIZE)
  await fs.writeFile(file, data)
  const torrent = path.join(dir, `${kind}.torrent`)
  const { stdout } = await exec('/usr/bin/python3', [LT, 'make', file, torrent, kind, String(PIECE)])
  const ih = JSON.parse(stdout) as { v1: string | null; v2: string }
  return { dir, file, data, v1: ih.v1 ? Buffer.from(ih.v1, 'hex') : null, v2: Buffer.from(ih.v2, 'hex'), torrent }
}

/** libtorrent seeding `torrent` from `dir`; resolves with its port once it seeds. */
async function seed(t: Test, torrent: string, dir: string): Promise<number> {
  const child = spawn('/usr/bin/python3', [LT, 'seed', torrent, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    child.kill()
  })
  let out = ''
  for await (const chunk of child.stdout) {
    out += String(chunk)
    const m = /READY (\d+)/.exec(out)
    if (m) return Number(m[1])
  }
  throw new Error(`libtorrent did not start: ${out}`)
}

async function connect(t: Test, port: number, torrent: WireTorrent): Promise<{ peer: PeerWire; haves: Array<MessageOf<'bitfield' | 'haveAll' | 'haveNone' | 'have'>> }> {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const peer = new PeerWire(socket, { peerId: Buffer.from('-CY0001-wiretest0000'), torrent })
  t.teardown(() => peer.destroy())
  const haves: Array<MessageOf<'bitfield' | 'haveAll' | 'haveNone' | 'have'>> = []
  const push = (m: MessageOf<'bitfield' | 'haveAll' | 'haveNone' | 'have'>): number => haves.push(m)
  peer.on('bitfield', push).on('haveAll', push).on('haveNone', push).on('have', push)
  peer.on('close', (err) => {
    if (err) t.comment(`libtorrent connection closed: ${err.code} ${err.message}`)
  })
  return { peer, haves }
}

/** Everything one connection to a libtorrent seed can show; `hash` is what we handshake with. */
async function exchange(t: Test, kind: 'hybrid' | 'v2'): Promise<void> {
  const m = await make(t, kind)
  const port = await seed(t, m.torrent, m.dir)
  const v2t = m.v2.subarray(0, 20)
  const { peer, haves } = await connect(t, port, { infohash: m.v1 ?? v2t, v1: m.v1, v2: v2t, pieceCount: null })
  const extended = next(peer, 'extendedHandshake')
  const [h] = await next(peer, 'handshake')
  t.ok(h.caps.extended, 'libtorrent announces BEP 10')
  t.ok(h.caps.fast, 'libtorrent announces BEP 6')
  t.ok(peer.v2, 'we count libtorrent as a v2 peer')
  peer.extendedHandshake()
  const [ext] = await extended
  t.ok((ext.m.get('ut_metadata') ?? 0) > 0, `libtorrent offers ut_metadata (m: ${JSON.stringify([...ext.m])})`)
  t.ok(ext.metadataSize !== undefined && ext.metadataSize > 0, `metadata_size ${ext.metadataSize}`)
  t.comment(`libtorrent says v=${ext.v} reqq=${ext.reqq}`)

  const info = await fetchMetadata(peer, { v1: m.v1, v2: m.v2 })
  t.is(info.length, ext.metadataSize, 'the whole info dictionary')
  if (m.v1) t.ok(crypto.hash('sha1', info, 'buffer').equals(m.v1), 'SHA-1 of the metadata = v1 infohash')
  t.ok(crypto.hash('sha256', info, 'buffer').equals(m.v2), 'SHA-256 of the metadata = v2 infohash')
  peer.setPieceCount(SIZE / PIECE)

  const unchoked = next(peer, 'unchoke')
  peer.interested()
  await unchoked
  t.ok(haves.length > 0 && (haves[0]!.type === 'haveAll' || haves[0]!.type === 'bitfield'), `a seed announces everything (${haves[0]?.type})`)
  if (haves[0]?.type === 'bitfield') t.ok(haves[0].bits.equals(Buffer.alloc(2, 0xff)), 'every piece in the bitfield')

  const blocks = new Map<number, Buffer>()
  const twoBlocks = new Promise<void>((resolve) =>
    peer.on('piece', (p) => {
      blocks.set(p.index * PIECE + p.begin, Buffer.from(p.block))
      if (blocks.size === 2) resolve()
    })
  )
  peer.request(0, 0, 16384)
  peer.request(0, 16384, 16384)
  await twoBlocks
  t.ok(blocks.get(0)?.equals(m.data.subarray(0, 16384)), 'block 0 matches the file')
  t.ok(blocks.get(16384)?.equals(m.data.subarray(16384, 32768)), 'block 1 matches the file')

  // Our own tree of the same file: same v2 infohash, so the same pieces root and piece layer.
  const { meta } = await createTorrent(m.file, { hybrid: kind === 'hybrid', pieceLength: PIECE })
  t.ok(meta.infohash.equals(m.v2), 'our torrent of the file has libtorrent\'s v2 infohash')
  const root = meta.files[0]!.piecesRoot!
  const layer = meta.layers.get(root.toString('hex'))!
  // libtorrent's own request for a piece layer (hash_picker::pick_hashes): base log2(64 KiB / 16 KiB) = 2,
  // 16 pieces, proof layers 3 (the tree root is known, so no uncle hash).
  const ref = { root, base: 2, index: 0, count: 16, proofLayers: 3 }
  const replied = next(peer, 'hashes')
  peer.hashRequest(ref)
  const [hashes] = await replied
  t.alike({ base: hashes.base, index: hashes.index, count: hashes.count, proofLayers: hashes.proofLayers }, { base: 2, index: 0, count: 16, proofLayers: 3 })
  t.ok(hashes.root.equals(root))
  t.alike(splitLayer(Buffer.from(hashes.hashes)), layer, 'libtorrent\'s piece layer = ours')

  // Four pieces with proof layers 3: libtorrent adds 3 - (log2(4) - 1) = 2 uncle hashes, bottom-up,
  // enough to climb from the four to the root.
  const replied2 = next(peer, 'hashes')
  peer.hashRequest({ root, base: 2, index: 4, count: 4, proofLayers: 3 })
  const [h2] = await replied2
  const got = splitLayer(Buffer.from(h2.hashes))
  t.is(got.length, 6, '4 hashes and 2 uncles')
  t.alike(got.slice(0, 4), layer.slice(4, 8))
  const sha = (a: Buffer, b: Buffer): Buffer => crypto.hash('sha256', Buffer.concat([a, b]), 'buffer')
  const quarter = (i: number): Buffer => sha(sha(layer[i]!, layer[i + 1]!), sha(layer[i + 2]!, layer[i + 3]!))
  t.ok(got[4]!.equals(quarter(0)), 'the first uncle: the sibling subtree (pieces 0–3)')
  t.ok(got[5]!.equals(sha(quarter(8), quarter(12))), 'the second uncle: pieces 8–15')
  t.ok(sha(sha(got[4]!, quarter(4)), got[5]!).equals(root), 'they prove the four up to the pieces root')

  // A request past the layer is answered with a reject, and the connection stays.
  const rejected = next(peer, 'hashReject')
  peer.hashRequest({ root, base: 2, index: 16, count: 4, proofLayers: 0 })
  const [rej] = await rejected
  t.is(rej.index, 16)
  t.absent(peer.destroyed, 'still connected after the reject')
}

test('libtorrent: a hybrid torrent, by its v1 hash with the v2 bit', async (t) => {
  await exchange(t, 'hybrid')
})

test('libtorrent: a v2-only torrent, by its truncated v2 hash', async (t) => {
  await exchange(t, 'v2')
})

/**
 * The hashes libtorrent's merkle_tree::get_hashes would answer for a request at the piece layer
 * (`base` = log2(PIECE / 16 KiB)): `count` nodes from `index`, then, climbing `proofLayers`
 * parents, the sibling of each parent above the subtree the nodes span. Null: a reject.
 */
function pieceLayerHashes(layer: Buffer[], ref: HashRef): Buffer | null {
  const base = Math.log2(PIECE / 16384)
  let width = 1
  while (width < layer.length) width *= 2
  if (ref.base !== base || ref.index + ref.count > width) return null
  const levels: Buffer[][] = [Array.from({ length: width }, (_, i) => layer[i] ?? padHash(base))]
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!
    levels.push(Array.from({ length: below.length / 2 }, (_, i) => sha256(Buffer.concat([below[2 * i]!, below[2 * i + 1]!]))))
  }
  const out = levels[0]!.slice(ref.index, ref.index + ref.count)
  let spanned = 0
  for (let c = 1; c < ref.count; c *= 2) spanned++
  let pos = ref.index
  for (let i = 0; i < ref.proofLayers; i++) {
    pos >>= 1
    if (i + 1 >= levels.length - 1) return null // the root has no sibling
    if (i >= spanned - 1) out.push(levels[i + 1]![pos ^ 1]!)
  }
  return Buffer.concat(out)
}

/**
 * A toy seeder made of PeerWire alone (the data in memory): enough to serve libtorrent the
 * metadata, the piece layer and the pieces of one file, with every message checked by libtorrent.
 */
async function toySeed(t: Test, data: Buffer, kind: 'hybrid' | 'v2', file: string): Promise<{ port: number; magnet: string; served: Set<string> }> {
  const { meta } = await createTorrent(file, { hybrid: kind === 'hybrid', pieceLength: PIECE })
  const root = meta.files[0]!.piecesRoot!
  const layer = meta.layers.get(root.toString('hex'))!
  const v2t = meta.infohash.subarray(0, 20)
  const torrent: WireTorrent = { infohash: meta.infohashV1 ?? v2t, v1: meta.infohashV1, v2: v2t, pieceCount: meta.pieceCount }
  const served = new Set<string>()
  const server = net.createServer((socket) => {
    const peer = new PeerWire(socket, { peerId: Buffer.from('-CY0001-toyseed00000'), resolve: (h) => (h.equals(torrent.infohash) || h.equals(v2t) ? torrent : null) })
    serveMetadata(peer, meta.info)
    peer.on('handshake', (h) => {
      served.add(h.infohash.equals(v2t) ? 'truncated v2 hash' : 'v1 hash')
      if (h.caps.v2) served.add('v2 bit')
      peer.extendedHandshake({ metadataSize: meta.info.length, v: 'Chrysalis wire test', reqq: 500 })
      peer.haveAll()
    })
    peer.on('metadata', (m) => served.add(`metadata ${m.msgType}`))
    peer.on('interested', () => peer.unchoke())
    peer.on('request', (m) => {
      served.add('piece')
      const at = m.index * PIECE + m.begin
      peer.piece(m.index, m.begin, data.subarray(at, at + m.length))
    })
    peer.on('hashRequest', (m) => {
      served.add(`hash request base ${m.base} index ${m.index} count ${m.count} proof layers ${m.proofLayers}`)
      const hashes = m.root.equals(root) ? pieceLayerHashes(layer, m) : null
      if (hashes) peer.hashes(m, hashes)
      else peer.hashReject(m)
    })
    peer.on('close', (err) => {
      if (err) t.comment(`toy seeder: ${err.code} ${err.message}`)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const xt = [meta.infohashV1 ? `xt=urn:btih:${meta.infohashV1.toString('hex')}` : null, `xt=urn:btmh:1220${meta.infohash.toString('hex')}`].filter(Boolean)
  return { port: (server.address() as net.AddressInfo).port, magnet: `magnet:?${xt.join('&')}&dn=scan.bin`, served }
}

for (const kind of ['hybrid', 'v2'] as const) {
  test(`libtorrent fetches a ${kind} torrent from a magnet alone, served by PeerWire`, async (t) => {
    const dir = await tmpDir(t)
    const file = path.join(dir, 'scan.bin')
    const data = crypto.randomBytes(SIZE)
    await fs.writeFile(file, data)
    const seed = await toySeed(t, data, kind, file)
    const out = path.join(dir, 'out')
    await fs.mkdir(out)
    const { stdout } = await exec('/usr/bin/python3', [LT, 'fetch', seed.magnet, out, `127.0.0.1:${seed.port}`, '60']).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
    const result = /^RESULT (.*)$/m.exec(stdout)
    t.comment(`served: ${[...seed.served].join('; ')}`)
    t.ok(result, `libtorrent finished: ${stdout.trim().split('\n').slice(-3).join(' | ')}`)
    const r = JSON.parse(result?.[1] ?? '{}') as { ok?: boolean; sha256?: Record<string, string> }
    t.ok(r.ok, 'libtorrent completed the download')
    t.is(r.sha256?.['scan.bin'], crypto.hash('sha256', data, 'hex'), 'the file libtorrent wrote is ours')
    t.ok(seed.served.has('metadata request'), 'libtorrent asked for the metadata over ut_metadata')
    t.ok([...seed.served].some((s) => s.startsWith('hash request base 2')), 'libtorrent asked for the piece layer')
    t.ok(seed.served.has(kind === 'v2' ? 'truncated v2 hash' : 'v1 hash'), kind === 'v2' ? 'by the truncated v2 hash' : 'by the v1 hash')
  })
}
