// BEP 52 hash messages (src/transfer/hashes.ts): the vectors of test/fixtures/hashes.json (built by
// make-hashes.py, a port of libtorrent's validate_hash_request and get_hashes), proofs, refusals,
// and LayerFetcher rebuilding the piece layers of a torrent known only by its info dictionary.
import test from 'brittle'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { HASH_LIMITS, LayerFetcher, answerHashRequest, blockHashRequest, checkBlockHashes, clearHashCache, hashCacheStats, validateHashRequest } from '../src/transfer/hashes.js'
import { BLOCK, blockHashes, pieceRoot, rootFromLayer, splitLayer } from '../src/transfer/merkle.js'
import { buildMetainfo, parseInfo, type HashedFile, type Metainfo } from '../src/transfer/metainfo.js'
import { uncleCount, type HashRef } from '../src/transfer/wire/messages.js'

interface Case {
  what: string
  request: { root: string; base: number; index: number; count: number; proofLayers: number }
  valid: boolean
  hashes?: string
  spansPieces?: boolean
}
interface Fixture {
  seed: string
  pieceLength: number
  files: Array<{ name: string; length: number; root: string; pieceLayer?: string[] }>
  cases: Case[]
}
const FIX = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'hashes.json'), 'utf-8')) as Fixture

/** The fixture's file bytes: SHA-256(seed ‖ name ‖ u32be counter), concatenated. */
function content(name: string, length: number): Buffer {
  const parts: Buffer[] = []
  for (let i = 0, n = 0; n < length; i++, n += 32) {
    const c = Buffer.alloc(4)
    c.writeUInt32BE(i)
    parts.push(crypto.hash('sha256', Buffer.concat([Buffer.from(FIX.seed), Buffer.from(name), c]), 'buffer'))
  }
  return Buffer.concat(parts).subarray(0, length)
}

function hashed(name: string, data: Buffer, pieceLength: number): HashedFile {
  const pieces: Buffer[] = []
  for (let at = 0; at < data.length; at += pieceLength) pieces.push(pieceRoot(data.subarray(at, at + pieceLength), pieceLength, data.length))
  const layer = pieces.length > 1 ? pieces : []
  return { path: [name], length: data.length, piecesRoot: layer.length > 0 ? rootFromLayer(layer, pieceLength) : pieces[0]!, layer }
}

/** A v2 torrent of `files` in a directory, and a function giving each piece's block hashes. */
function torrent(files: Array<{ name: string; data: Buffer }>, pieceLength: number): { meta: Metainfo; leaves: (piece: number) => Buffer[] } {
  const meta = buildMetainfo({ name: 'tree', multi: true, pieceLength, files: files.map((f) => hashed(f.name, f.data, pieceLength)) })
  const leaves = (piece: number): Buffer[] => {
    const i = meta.files.findIndex((f) => piece >= f.firstPiece && piece < f.firstPiece + f.pieceCount)
    const local = piece - meta.files[i]!.firstPiece
    return blockHashes(files[i]!.data.subarray(local * pieceLength, (local + 1) * pieceLength))
  }
  return { meta, leaves }
}

/** What a magnet gives: the same info dictionary, no piece layers. */
function magnetMeta(meta: Metainfo): Metainfo {
  return parseInfo(meta.info)
}

const A = content('a.bin', FIX.files[0]!.length)
const B = content('b.bin', FIX.files[1]!.length)
const fixture = (): ReturnType<typeof torrent> => torrent([{ name: 'a.bin', data: A }, { name: 'b.bin', data: B }], FIX.pieceLength)
const ref = (c: Case): HashRef => ({ ...c.request, root: Buffer.from(c.request.root, 'hex') })

test('hashes: the fixture torrent has the roots and piece layer make-hashes.py computed', (t) => {
  const { meta } = fixture()
  t.is(meta.files[0]!.piecesRoot!.toString('hex'), FIX.files[0]!.root)
  t.is(meta.files[1]!.piecesRoot!.toString('hex'), FIX.files[1]!.root)
  t.alike(meta.layers.get(FIX.files[0]!.root)!.map((h) => h.toString('hex')), FIX.files[0]!.pieceLayer)
  t.is(meta.files[0]!.pieceCount, 6)
  t.is(meta.files[1]!.pieceCount, 1)
})

test('hashes: every vector — validation as libtorrent plus BEP 52, replies byte for byte', (t) => {
  clearHashCache()
  const { meta, leaves } = fixture()
  for (const c of FIX.cases) {
    t.is(validateHashRequest(meta, ref(c)), c.valid, `valid: ${c.what}`)
    const reply = answerHashRequest(meta, ref(c), leaves)
    if (!c.valid) t.is(reply, null, `reject: ${c.what}`)
    else if (c.spansPieces) t.is(reply, null, `reject (below the piece layer across pieces): ${c.what}`)
    else t.is(reply?.toString('hex'), c.hashes, `reply: ${c.what}`)
    if (reply) t.is(reply.length, 32 * (c.request.count + uncleCount(c.request.count, c.request.proofLayers)), `a reply the codec accepts: ${c.what}`)
  }
  // The same again from the cached tree.
  const again = FIX.cases.find((c) => c.request.base === 2 && c.valid)!
  t.is(answerHashRequest(meta, ref(again), leaves)?.toString('hex'), again.hashes, 'the cached tree answers the same')
})

test('hashes: what we cannot answer is rejected', (t) => {
  const { meta, leaves } = fixture()
  const byWhat = (w: string): Case => FIX.cases.find((c) => c.what.startsWith(w))!
  const blocks = ref(byWhat('piece 2 of a.bin'))
  const layer = ref(byWhat('pieces 0-3 of a.bin'))
  t.is(answerHashRequest(meta, blocks), null, 'block hashes without a source of leaves')
  t.is(answerHashRequest(meta, blocks, () => null), null, 'block hashes of a piece we do not hold')
  t.ok(answerHashRequest(meta, layer, () => null), 'the piece layer needs no blocks')
  const tampered = (p: number): Buffer[] => leaves(p).map((h, i) => (i === 1 ? Buffer.alloc(32, 7) : h))
  t.is(answerHashRequest(meta, blocks, tampered), null, 'leaves that do not hash to the piece (bad data on disk) are not served')
  t.is(answerHashRequest(meta, blocks, (p) => leaves(p).slice(1)), null, 'too few leaves')
  const magnet = magnetMeta(meta)
  t.is(answerHashRequest(magnet, layer, leaves), null, 'no piece layer yet: rejected')
  t.is(answerHashRequest(magnet, blocks, leaves), null, 'no piece hash to check the leaves against: rejected')
  const bReq = ref(byWhat('b.bin (one piece)'))
  t.ok(answerHashRequest(magnet, bReq, leaves), 'a one-piece file needs no layer: its root checks its leaves')
  const v1 = { ...meta, version: 'v1' as const }
  t.absent(validateHashRequest(v1, layer), 'a v1 torrent has no hash requests')
})

test('hashes: uncles prove the hashes up to the root; one wrong byte anywhere is refused', (t) => {
  const { meta } = fixture()
  const magnet = magnetMeta(meta)
  const fetcher = new LayerFetcher(magnet)
  for (const c of FIX.cases.filter((c) => c.valid && c.request.base === 2 && c.request.root === FIX.files[0]!.root)) {
    const hashes = Buffer.from(c.hashes!, 'hex')
    // Proven when the uncles reach the root, and (libtorrent's rule) the reply starts at a real piece.
    const proven = c.request.count > 1 && c.request.proofLayers === 2 && c.request.index < 6
    t.is(fetcher.onHashes(ref(c), hashes), proven, `${proven ? 'accepted' : 'refused'}: ${c.what}`)
    for (const at of [0, hashes.length - 1]) {
      const bad = Buffer.from(hashes)
      bad[at]! ^= 1
      t.absent(fetcher.onHashes(ref(c), bad), `byte ${at} flipped: refused (${c.what})`)
    }
    t.absent(fetcher.onHashes(ref(c), hashes.subarray(32)), `one hash short: refused (${c.what})`)
  }
  t.ok(fetcher.complete, 'pieces 0-3 and 4-7 together: the whole layer')
  t.alike(magnet.layers.get(FIX.files[0]!.root), meta.layers.get(FIX.files[0]!.root), 'the layer rebuilt is the original')
  const other = { root: Buffer.alloc(32, 1), base: 2, index: 0, count: 4, proofLayers: 2 }
  t.absent(fetcher.onHashes(other, Buffer.alloc(5 * 32)), 'hashes for a root of no file here: refused')
  const blocks = FIX.cases.find((c) => c.what.startsWith('piece 2 of a.bin'))!
  t.absent(fetcher.onHashes(ref(blocks), Buffer.from(blocks.hashes!, 'hex')), 'block hashes are not a piece-layer reply')
})

/** A torrent of one file of `pieces` pieces whose layer is random hashes (no data needed). */
function bigMeta(pieces: number[], pieceLength: number): Metainfo {
  const files: HashedFile[] = pieces.map((n, i) => {
    const layer = Array.from({ length: n }, () => crypto.randomBytes(32))
    return n > 1
      ? { path: [`f${i}`], length: n * pieceLength - 100, piecesRoot: rootFromLayer(layer, pieceLength), layer }
      : { path: [`f${i}`], length: pieceLength, piecesRoot: crypto.randomBytes(32), layer: [] }
  })
  return buildMetainfo({ name: 'big', multi: true, pieceLength, files })
}

test('LayerFetcher: libtorrent\'s requests for a 763-piece file, then the exact layer', (t) => {
  const meta = bigMeta([763], 256 * 1024)
  const magnet = magnetMeta(meta)
  t.is(magnet.layers.size, 0)
  let now = 1000
  const fetcher = new LayerFetcher(magnet, { now: () => now })
  t.absent(fetcher.complete)
  const all = (): boolean => true
  const r1 = fetcher.next(all)!
  const r2 = fetcher.next(all)!
  const shape = (r: HashRef): unknown => ({ base: r.base, index: r.index, count: r.count, proofLayers: r.proofLayers })
  // Seen from libtorrent fetching the same file from a magnet (reference notes).
  t.alike(shape(r1), { base: 4, index: 0, count: 512, proofLayers: 9 })
  t.alike(shape(r2), { base: 4, index: 512, count: 256, proofLayers: 9 })
  t.ok(r1.root.equals(meta.files[0]!.piecesRoot!))
  t.ok(validateHashRequest(magnet, r1) && validateHashRequest(magnet, r2), 'requests libtorrent accepts')
  t.is(fetcher.next(all), null, 'nothing more to ask')
  const h2 = answerHashRequest(meta, r2)!
  t.is(h2.length, 32 * (256 + 2), '256 hashes and 2 uncles')
  t.ok(fetcher.onHashes(r2, h2))
  t.absent(fetcher.complete)
  now += HASH_LIMITS.retryMs
  t.alike(fetcher.next(all) && shape(r1), shape(r1), 'unanswered for 3 s: asked again')
  t.ok(fetcher.onHashes(r1, answerHashRequest(meta, r1)!))
  t.ok(fetcher.complete)
  t.alike(magnet.layers.get(meta.files[0]!.piecesRoot!.toString('hex')), meta.layers.get(meta.files[0]!.piecesRoot!.toString('hex')), 'the exact layer')
  t.is(fetcher.next(all), null)
})

test('LayerFetcher: two in flight, chunks the peer has, rejects, departures, the clock', (t) => {
  const meta = bigMeta([1100, 513, 1, 3], 32 * 1024)
  const magnet = magnetMeta(meta)
  let now = 0
  const fetcher = new LayerFetcher(magnet, { now: () => now })
  const f0 = magnet.files[0]!
  const f1 = magnet.files[1]!
  const only = (pieces: number[]) => (p: number) => pieces.includes(p)
  t.is(fetcher.next(only([])), null, 'a peer with no piece: nothing to ask it')
  const tail = fetcher.next(only([f0.firstPiece + 1099]))!
  t.alike([tail.index, tail.count], [1024, 128], 'the chunk of piece 1099: the rest of 1100, 76 hashes rounded up to 128')
  t.is(fetcher.next(only([f0.firstPiece + 1099])), null, 'that chunk is in flight')
  const a = fetcher.next(only([f0.firstPiece + 5]))!
  t.alike([a.index, a.count, a.proofLayers], [0, 512, 10], 'the chunk holding piece 5; proofs up to the root of 2048')
  t.is(fetcher.next(() => true), null, 'two in flight: no third')
  now += HASH_LIMITS.retryMs - 1
  t.is(fetcher.next(() => true), null, 'still two before 3 s')
  fetcher.onReject(a)
  const again = fetcher.next(only([f0.firstPiece + 5]))!
  t.is(again.index, 0, 'a rejected chunk can be asked again at once')
  fetcher.release(again)
  now += 1
  // The first request (chunk of 1099) timed out now: both slots free.
  const b = fetcher.next(() => true)!
  const c = fetcher.next(() => true)!
  t.alike([b.index, c.index], [0, 512])
  t.is(fetcher.next(() => true), null)
  for (const r of [b, c]) t.ok(fetcher.onHashes(r, answerHashRequest(meta, r)!))
  const d = fetcher.next(() => true)!
  t.alike([d.index, d.count], [1024, 128], 'the timed-out chunk, asked again')
  const e = fetcher.next(() => true)!
  t.ok(e.root.equals(f1.piecesRoot!), 'then the next file')
  t.alike([e.index, e.count, e.proofLayers], [0, 512, 9])
  for (const r of [d, e]) t.ok(fetcher.onHashes(r, answerHashRequest(meta, r)!))
  const g = fetcher.next(() => true)!
  t.alike([g.index, g.count, g.proofLayers], [512, 2, 9], 'one piece left: asked as 2 (a count of 1 cannot be proven, libtorrent sends too few uncles)')
  t.ok(validateHashRequest(magnet, g))
  const wrong = answerHashRequest(meta, g)!
  wrong[40]! ^= 0xff
  t.absent(fetcher.onHashes(g, wrong), 'a wrong answer is refused')
  t.absent(fetcher.complete)
  t.ok(fetcher.onHashes(g, answerHashRequest(meta, g)!), 'a right one accepted')
  t.absent(fetcher.complete, 'f3 (3 pieces) still lacks its layer; f2 (one piece) needs none')
  const h = fetcher.next(() => true)!
  t.ok(h.root.equals(magnet.files[3]!.piecesRoot!))
  t.alike([h.index, h.count, h.proofLayers], [0, 4, 1], '3 pieces: one request of 4, no uncle')
  t.ok(fetcher.onHashes(h, answerHashRequest(meta, h)!))
  t.ok(fetcher.complete)
  t.is(fetcher.next(() => true), null, 'nothing left to ask')
  for (const f of meta.files.filter((f) => f.pieceCount > 1)) {
    const hex = f.piecesRoot!.toString('hex')
    t.alike(magnet.layers.get(hex), meta.layers.get(hex), `layer of ${f.path.join('/')} rebuilt exactly`)
  }
  t.is(magnet.layers.size, 3, 'one-piece files have no layer')
})

test('LayerFetcher: unsolicited hashes that prove themselves are kept; a torrent with all layers is complete', (t) => {
  const meta = bigMeta([40], 16 * 1024)
  t.ok(new LayerFetcher(meta).complete, 'the layers came with the .torrent')
  const magnet = magnetMeta(meta)
  const fetcher = new LayerFetcher(magnet)
  const whole = { root: meta.files[0]!.piecesRoot!, base: 0, index: 0, count: 64, proofLayers: 5 }
  t.ok(fetcher.onHashes(whole, answerHashRequest(meta, whole)!), 'the whole padded layer in one reply')
  t.ok(fetcher.complete)
  t.alike(magnet.layers.get(whole.root.toString('hex')), meta.layers.get(whole.root.toString('hex')))
  const late = magnetMeta(meta)
  const waiting = new LayerFetcher(late)
  t.ok(waiting.next(() => true), 'a request while the layer is missing')
  late.layers.set(whole.root.toString('hex'), meta.layers.get(whole.root.toString('hex'))!)
  t.is(waiting.next(() => true), null, 'the layer arrived another way (the .torrent): nothing more to ask')
  t.ok(waiting.complete)
})

test('blame: block hashes of a piece, checked against its hash', (t) => {
  const { meta, leaves } = fixture()
  const magnet = magnetMeta(meta)
  const r = blockHashRequest(meta, 5)!
  t.alike({ base: r.base, index: r.index, count: r.count, proofLayers: r.proofLayers }, { base: 0, index: 20, count: 4, proofLayers: 1 }, 'the last piece: 4 leaves (2 of them padding)')
  t.ok(validateHashRequest(meta, r))
  const reply = answerHashRequest(meta, r, leaves)!
  t.is(reply.length, 4 * 32, 'no uncle: the piece hash is known')
  t.alike(checkBlockHashes(meta, 5, r, reply), leaves(5), 'the two real leaves')
  t.is(checkBlockHashes(magnet, 5, r, reply), null, 'no piece hash known yet: nothing to check against')
  const bad = Buffer.from(reply)
  bad[0]! ^= 1
  t.is(checkBlockHashes(meta, 5, r, bad), null, 'a wrong leaf')
  t.is(checkBlockHashes(meta, 4, r, reply), null, 'a reply for another piece')
  t.is(checkBlockHashes(meta, 5, r, reply.subarray(32)), null, 'too short')
  const p2 = blockHashRequest(meta, 2)!
  t.alike(checkBlockHashes(meta, 2, p2, answerHashRequest(meta, p2, leaves)!), leaves(2))
  // b.bin is one piece of 3 blocks: its whole leaf layer (4), checked against its root.
  const rb = blockHashRequest(meta, 6)!
  t.alike({ index: rb.index, count: rb.count, proofLayers: rb.proofLayers }, { index: 0, count: 4, proofLayers: 1 })
  t.ok(rb.root.equals(meta.files[1]!.piecesRoot!))
  t.alike(checkBlockHashes(meta, 6, rb, answerHashRequest(meta, rb, leaves)!), leaves(6))
  t.alike(checkBlockHashes(magnet, 6, rb, answerHashRequest(meta, rb, leaves)!), leaves(6), 'a one-piece file needs no layer')
  t.is(blockHashRequest(meta, 7), null, 'no such piece')
  const tiny = torrent([{ name: 'x', data: Buffer.alloc(BLOCK, 1) }, { name: 'y', data: Buffer.alloc(3 * BLOCK, 2) }], BLOCK)
  t.is(blockHashRequest(tiny.meta, 0), null, 'a one-block file: its block hash is its root')
  const r16 = blockHashRequest(tiny.meta, 2)!
  t.alike([r16.base, r16.index, r16.count, r16.proofLayers], [0, 1, 1, 0], '16 KiB pieces: the piece is its one leaf')
  t.alike(checkBlockHashes(tiny.meta, 2, r16, answerHashRequest(tiny.meta, r16, tiny.leaves)!), tiny.leaves(2))
})

test('hashes: the cache of built trees is bounded and follows a changed layer', (t) => {
  clearHashCache()
  const meta = bigMeta([5000, 3000, 3000], 16 * 1024)
  const r = { root: meta.files[0]!.piecesRoot!, base: 0, index: 4096, count: 512, proofLayers: 12 }
  const first = answerHashRequest(meta, r)!
  t.ok(fetcherAccepts(meta, r, first), 'a reply for a 5000-piece file proves itself')
  const one = hashCacheStats()
  t.is(one.trees, 1)
  t.ok(one.bytes >= 2 * 5000 * 32 - 32 && one.bytes < 2 * 5000 * 32 + 32 * 16, `a tree of 5000 piece hashes: ${one.bytes} bytes`)
  const limit = HASH_LIMITS.cacheBytes
  t.teardown(() => {
    HASH_LIMITS.cacheBytes = limit
  })
  HASH_LIMITS.cacheBytes = one.bytes + 200_000
  for (const f of meta.files.slice(1)) t.ok(answerHashRequest(meta, { root: f.piecesRoot!, base: 0, index: 0, count: 2, proofLayers: 0 }))
  t.alike(hashCacheStats().trees, 2, 'within the bound: the least recently used tree went')
  t.ok(hashCacheStats().bytes <= HASH_LIMITS.cacheBytes)
  // A different Metainfo with the same infohash but another layer array: rebuilt, not the stale tree.
  const copy = magnetMeta(meta)
  copy.layers.set(r.root.toString('hex'), splitLayer(Buffer.concat(meta.layers.get(r.root.toString('hex'))!)))
  t.is(answerHashRequest(copy, r)?.toString('hex'), first.toString('hex'))
})

function fetcherAccepts(meta: Metainfo, r: HashRef, hashes: Buffer): boolean {
  return new LayerFetcher(magnetMeta(meta)).onHashes(r, hashes)
}
