// src/transfer/hashes.ts against libtorrent 2.0.8 (test/oracle/lt-wire-peer.py) on 127.0.0.1:
// LayerFetcher's requests answered by a libtorrent seed and its answers accepted, the layers
// rebuilt exactly; and libtorrent fetching from a magnet, served by answerHashRequest.
import test from 'brittle'
import { execFile, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import { once } from 'node:events'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import { createTorrent } from '../src/transfer/create.js'
import { LayerFetcher, answerHashRequest, blockHashRequest, checkBlockHashes } from '../src/transfer/hashes.js'
import { blockHashes } from '../src/transfer/merkle.js'
import { fileOfPiece, parseInfo, type Metainfo } from '../src/transfer/metainfo.js'
import { fetchMetadata, serveMetadata } from '../src/transfer/wire/metadata.js'
import { PeerWire, type WireTorrent } from '../src/transfer/wire/peer.js'
import type { HashRef } from '../src/transfer/wire/messages.js'
import { tmpDir, type Test as Teardown } from './helpers.js'
import { next } from './helpers-wire.js'

const exec = promisify(execFile)

interface Test extends Teardown {
  ok(v: unknown, msg?: string): void
  absent(v: unknown, msg?: string): void
  is(a: unknown, b: unknown, msg?: string): void
  alike(a: unknown, b: unknown, msg?: string): void
  comment(msg: string): void
}
const LT = path.resolve(import.meta.dirname, 'oracle', 'lt-wire-peer.py')
const PIECE = 32 * 1024
// big.bin: 1100 pieces (three chunks: 512, 512, 76 → 128), the last one short; small.bin: 3 pieces.
const FILES = [
  { name: 'big.bin', length: 1100 * PIECE - 5000 },
  { name: 'small.bin', length: 2 * PIECE + 100 }
]

/** A directory `tree` with the files, its v2 torrent made by libtorrent, and ours of the same. */
async function make(t: Test): Promise<{ dir: string; tree: string; data: Buffer[]; torrent: string; v2: Buffer; meta: Metainfo }> {
  const dir = await tmpDir(t)
  const tree = path.join(dir, 'tree')
  await fs.mkdir(tree)
  const data = FILES.map((f) => crypto.randomBytes(f.length))
  for (const [i, f] of FILES.entries()) await fs.writeFile(path.join(tree, f.name), data[i]!)
  const torrent = path.join(dir, 'tree.torrent')
  const { stdout } = await exec('/usr/bin/python3', [LT, 'make', tree, torrent, 'v2', String(PIECE)])
  const v2 = Buffer.from((JSON.parse(stdout) as { v2: string }).v2, 'hex')
  const { meta } = await createTorrent(tree, { pieceLength: PIECE })
  t.ok(meta.infohash.equals(v2), 'our torrent of the directory has libtorrent\'s v2 infohash')
  return { dir, tree, data, torrent, v2, meta }
}

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

test('libtorrent answers LayerFetcher\'s requests; the layers are rebuilt exactly', async (t) => {
  const m = await make(t)
  const port = await seed(t, m.torrent, m.dir)
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const v2t = m.v2.subarray(0, 20)
  const peer = new PeerWire(socket, { peerId: Buffer.from('-CY0001-hashtest0000'), torrent: { infohash: v2t, v1: null, v2: v2t, pieceCount: null } })
  t.teardown(() => peer.destroy())
  peer.on('close', (err) => {
    if (err) t.comment(`libtorrent connection closed: ${err.code} ${err.message}`)
  })
  let has: (piece: number) => boolean = () => false
  peer.on('haveAll', () => (has = () => true))
  peer.on('bitfield', (b) => (has = (p) => (b.bits[p >> 3]! & (0x80 >> (p & 7))) !== 0))
  const extended = next(peer, 'extendedHandshake')
  const [h] = await next(peer, 'handshake')
  t.ok(h.caps.v2 || peer.v2, 'a v2 peer')
  peer.extendedHandshake()
  await extended
  const meta = parseInfo(await fetchMetadata(peer, { v1: null, v2: m.v2 }))
  peer.setPieceCount(meta.pieceCount)
  t.is(meta.layers.size, 0, 'from the metadata alone: no piece layers')
  const unchoked = next(peer, 'unchoke')
  peer.interested()
  await unchoked

  const fetcher = new LayerFetcher(meta)
  const sent: HashRef[] = []
  const answered = new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      for (let ref = fetcher.next(has); ref; ref = fetcher.next(has)) {
        sent.push(ref)
        peer.hashRequest(ref)
      }
    }
    peer.on('hashes', (r) => {
      if (!fetcher.onHashes(r, Buffer.from(r.hashes))) reject(new Error(`hashes refused: base ${r.base} index ${r.index} count ${r.count}`))
      else if (fetcher.complete) resolve()
      else pump()
    })
    peer.on('hashReject', (r) => reject(new Error(`libtorrent rejected base ${r.base} index ${r.index} count ${r.count} proofs ${r.proofLayers}`)))
    pump()
  })
  await answered
  t.comment(`requests: ${sent.map((r) => `base ${r.base} idx ${r.index} cnt ${r.count} proofs ${r.proofLayers}`).join('; ')}`)
  t.is(sent.length, 4, 'three chunks of big.bin, one of small.bin')
  t.ok(fetcher.complete, 'every layer known')
  for (const f of m.meta.files) {
    const hex = f.piecesRoot!.toString('hex')
    t.alike(meta.layers.get(hex), m.meta.layers.get(hex), `the layer of ${f.path.join('/')} is libtorrent's`)
  }

  // Blame: a piece's block hashes. libtorrent seeding from a .torrent keeps its trees at the piece
  // layer, so it may only reject; if it answers, the answer must check.
  const piece = 7
  const ref = blockHashRequest(meta, piece)!
  const reply = Promise.race([next(peer, 'hashes').then(([r]) => r), next(peer, 'hashReject').then(() => null)])
  peer.hashRequest(ref)
  const r = await reply
  if (r) t.alike(checkBlockHashes(meta, piece, r, Buffer.from(r.hashes)), blockHashes(m.data[0]!.subarray(piece * PIECE, (piece + 1) * PIECE)), 'libtorrent\'s block hashes check')
  else t.comment('libtorrent rejected the block-hash request (its tree holds only the piece layer)')
  t.absent(peer.destroyed, 'still connected')
})

/** A toy seeder made of PeerWire and hashes.ts, data in memory: metadata, hashes, pieces. */
async function toySeed(t: Test, meta: Metainfo, data: Buffer[]): Promise<{ port: number; served: string[] }> {
  const v2t = meta.infohash.subarray(0, 20)
  const torrent: WireTorrent = { infohash: v2t, v1: null, v2: v2t, pieceCount: meta.pieceCount }
  const bytesOf = (piece: number): Buffer => {
    const f = fileOfPiece(meta, piece)
    const local = piece - f.firstPiece
    return data[meta.files.indexOf(f)]!.subarray(local * PIECE, (local + 1) * PIECE)
  }
  const served: string[] = []
  const server = net.createServer((socket) => {
    const peer = new PeerWire(socket, { peerId: Buffer.from('-CY0001-toyseed00000'), resolve: (h) => (h.equals(v2t) ? torrent : null) })
    serveMetadata(peer, meta.info)
    peer.on('handshake', () => {
      peer.extendedHandshake({ metadataSize: meta.info.length, v: 'Chrysalis hashes test', reqq: 500 })
      peer.haveAll()
    })
    peer.on('interested', () => peer.unchoke())
    peer.on('request', (q) => {
      // libtorrent numbers a v2 torrent's pieces as if pads followed each file: it asks for the
      // last piece of big.bin whole, the bytes past the file's end being zeros.
      const block = bytesOf(q.index).subarray(q.begin, q.begin + q.length)
      if (block.length < q.length) served.push(`padded piece ${q.index}`)
      peer.piece(q.index, q.begin, block.length === q.length ? block : Buffer.concat([block, Buffer.alloc(q.length - block.length)]))
    })
    peer.on('hashRequest', (q) => {
      const reply = answerHashRequest(meta, q, (p) => blockHashes(bytesOf(p)))
      served.push(`base ${q.base} idx ${q.index} cnt ${q.count} proofs ${q.proofLayers}: ${reply ? 'hashes' : 'reject'}`)
      if (reply) peer.hashes(q, reply)
      else peer.hashReject(q)
    })
    peer.on('close', (err) => {
      if (err) t.comment(`toy seeder: ${err.code} ${err.message}`)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { port: (server.address() as net.AddressInfo).port, served }
}

test('libtorrent fetches from a magnet, its hash requests answered by answerHashRequest', async (t) => {
  const m = await make(t)
  const seeder = await toySeed(t, m.meta, m.data)
  const out = path.join(m.dir, 'out')
  await fs.mkdir(out)
  const magnet = `magnet:?xt=urn:btmh:1220${m.v2.toString('hex')}&dn=tree`
  const { stdout } = await exec('/usr/bin/python3', [LT, 'fetch', magnet, out, `127.0.0.1:${seeder.port}`, '60']).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  t.comment(`libtorrent asked: ${seeder.served.join('; ')}`)
  const result = /^RESULT (.*)$/m.exec(stdout)
  t.ok(result, `libtorrent finished: ${stdout.trim().split('\n').slice(-3).join(' | ')}`)
  const r = JSON.parse(result?.[1] ?? '{}') as { ok?: boolean; sha256?: Record<string, string> }
  t.ok(r.ok, 'libtorrent completed the download (it checked every piece against the layers we sent)')
  for (const [i, f] of FILES.entries()) t.is(r.sha256?.[path.join('tree', f.name)], crypto.hash('sha256', m.data[i]!, 'hex'), `${f.name} as written by libtorrent is ours`)
  t.ok(seeder.served.some((s) => s.startsWith('base 1 idx 0 cnt 512 proofs 10: hashes')), 'the first chunk of big.bin, answered')
  t.absent(seeder.served.some((s) => s.endsWith('reject')), 'nothing rejected')
  t.ok(seeder.served.includes('padded piece 1099'), 'libtorrent asked for the tail of big.bin as a whole piece')
})
