// Metadata from the network is untrusted: every refusal happens in parsing, before a byte is written.
import test from 'brittle'
import crypto from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { BencodeError, decode, encode, key, scanDict, type BDict, type BValue, type DecodeLimits } from '../src/transfer/bencode.js'
import { metadataBomb, smallTorrent } from './helpers-bomb.js'
import { buildMetainfo, choosePieceLength, magnetOf, parseInfo, parseTorrent, torrentBytes, type HashedFile } from '../src/transfer/metainfo.js'
import { readMagnet } from '../src/transfer/magnet.js'
import { isChrysalisError } from '../src/errors.js'
import { BLOCK, blockHashes, nextPow2, padHash, rootFromLayer, sha256, subtreeRoot } from '../src/transfer/merkle.js'

const root = (): Buffer => crypto.randomBytes(32)
const file = (length: number, piecesRoot: Buffer | null = root()): BDict => {
  const leaf: BDict = new Map<string, BValue>([['length', length]])
  if (piecesRoot) leaf.set(key('pieces root'), piecesRoot)
  return new Map([['', leaf]])
}
function torrent(tree: BDict, opts: { name?: string; pieceLength?: number; layers?: BDict } = {}): Buffer {
  const info: BDict = new Map<string, BValue>([
    ['file tree', tree],
    ['meta version', 2],
    ['name', Buffer.from(opts.name ?? 'kaypro')],
    ['piece length', opts.pieceLength ?? 16384]
  ])
  return encode(new Map<string, BValue>([['info', info], ['piece layers', opts.layers ?? new Map()]]))
}
const dir = (entries: Array<[string, BValue]>): BDict => new Map(entries.map(([k, v]) => [key(k), v]))

function refused(t: { ok(v: unknown, m?: string): void }, bytes: Buffer, pattern: RegExp, what: string): void {
  try {
    parseTorrent(bytes)
    t.ok(false, `${what}: accepted`)
  } catch (err) {
    t.ok(isChrysalisError(err, 'BAD_TORRENT') && pattern.test(err.message), `${what}: ${(err as Error).message}`)
  }
}

test('paths that escape, empty or reserved components, and bad names are refused', (t) => {
  refused(t, torrent(dir([['..', dir([['passwd', file(10)]])]])), /the name "\.\."/, '.. component')
  refused(t, torrent(dir([['.', file(10)]])), /the name "\."/, '. component')
  refused(t, torrent(dir([['/etc', dir([['passwd', file(10)]])]])), /slash/, 'absolute path component')
  refused(t, torrent(dir([['a\\b', file(10)]])), /slash, backslash/, 'backslash')
  refused(t, torrent(dir([['', file(10)]])), /empty name/, 'empty component')
  refused(t, torrent(dir([['CON.txt', file(10)]])), /reserved name/, 'reserved name')
  refused(t, torrent(dir([['ok\nname', file(10)]])), /control character/, 'control character')
  refused(t, torrent(dir([['a', file(10)]]), { name: '..' }), /the name "\.\."/, 'torrent name ..')
  refused(t, torrent(new Map([[Buffer.from([0xff, 0xfe]).toString('latin1'), file(10)]])), /not UTF-8/, 'non-UTF-8 name')
  let deep: BDict = file(10)
  for (let i = 0; i < 40; i++) deep = dir([[`d${i}`, deep]])
  refused(t, torrent(deep), /deeper|nesting/, 'absurd nesting')
})

test('absurd sizes and counts are refused', (t) => {
  refused(t, torrent(dir([['big.iso', file(2 ** 50)]])), /absurd length/, 'a 1 PiB file')
  refused(t, torrent(dir([['big.iso', file(2 ** 40)]])), /more than \d+ pieces/, '2^26 pieces')
  refused(t, torrent(dir([['a', file(10)]]), { pieceLength: 49152 }), /power of two/, 'piece length 48 KiB')
  refused(t, torrent(dir([['a', file(10)]]), { pieceLength: 8192 }), /power of two/, 'piece length 8 KiB')
  refused(t, torrent(dir([['a', file(0, null)]])), /no data/, 'only an empty file')
  refused(t, torrent(dir([['a', file(-1)]])), /non-canonical|absurd/, 'negative length')
  refused(t, torrent(dir([['a', file(10, Buffer.alloc(31))]])), /no valid pieces root/, 'short pieces root')
  refused(t, Buffer.from('d4:infod4:name1:ae'), /not valid bencode/, 'truncated bencode')
  refused(t, Buffer.concat([torrent(dir([['a', file(10)]])).subarray(0, -1), Buffer.from('i0ee')]), /not valid bencode/, 'trailing garbage')
})

test('piece layers are checked against the pieces root; the info against the infohash', (t) => {
  const pl = 16384
  const data = crypto.randomBytes(5 * pl + 100)
  const layer: Buffer[] = []
  for (let at = 0; at < data.length; at += pl) layer.push(subtreeRoot(blockHashes(data.subarray(at, at + pl)), 1))
  const good = rootFromLayer(layer, pl)
  const meta = buildMetainfo({ name: 'a.bin', multi: false, pieceLength: pl, files: [{ path: ['a.bin'], length: data.length, piecesRoot: good, layer }] })
  const bytes = torrentBytes(meta)
  t.ok(parseTorrent(bytes, { infohash: meta.infohash }).infohash.equals(meta.infohash), 'the right torrent parses')
  try {
    parseTorrent(bytes, { infohash: crypto.randomBytes(32) })
    t.fail('a torrent for another infohash was accepted')
  } catch (err) {
    t.ok(/does not match the infohash/.test((err as Error).message))
  }
  const flipped = Buffer.from(bytes)
  flipped[flipped.length - 10]! ^= 1 // inside the last piece-layer hash
  refused(t, flipped, /does not match its pieces root/, 'a flipped piece-layer byte')
  const noLayers = torrent(dir([['a.bin', file(data.length, good)]]), { name: 'a.bin' })
  refused(t, noLayers, /lacks the piece layer/, 'missing piece layer')
})

test('merkle: a one-block file, padding with zero subtrees, piece-length rule, magnets', (t) => {
  const block = crypto.randomBytes(100)
  t.alike(subtreeRoot(blockHashes(block), 1), sha256(block), 'a one-block root is SHA-256 of the data')
  const leaves = blockHashes(crypto.randomBytes(3 * BLOCK))
  const four = sha256(Buffer.concat([sha256(Buffer.concat([leaves[0]!, leaves[1]!])), sha256(Buffer.concat([leaves[2]!, Buffer.alloc(32)]))]))
  t.alike(subtreeRoot(leaves, nextPow2(3)), four, 'three leaves pad with one zero leaf')
  t.alike(padHash(1), sha256(Buffer.alloc(64)), 'the root of two zero leaves')
  t.is(choosePieceLength(1), 16384)
  t.is(choosePieceLength(512 * 1024 * 1024), 256 * 1024, '512 MiB: 256 KiB pieces')
  t.is(choosePieceLength(100 * 2 ** 30), 4 * 1024 * 1024, 'capped at 4 MiB')
  const ih = crypto.randomBytes(32)
  t.alike(readMagnet(`magnet:?xt=urn:btmh:1220${ih.toString('hex').toUpperCase()}&dn=x`).infohashV2, ih, 'upper-case hex')
  const meta = buildMetainfo({ name: 'a b.pdf', multi: false, pieceLength: 16384, files: [{ path: ['a b.pdf'], length: 10, piecesRoot: sha256(Buffer.alloc(10)), layer: [] }] })
  t.is(magnetOf(meta), `magnet:?xt=urn:btmh:1220${meta.infohash.toString('hex')}&dn=a%20b.pdf`)
})

test('vectors: test/fixtures/torrents.json (protocol.md §11) still hold', async (t) => {
  const { default: v } = await import('./fixtures/torrents.json', { with: { type: 'json' } })
  const { torrentVectors } = await import('./fixtures/torrent-vectors.js')
  const { torrentTopic } = await import('../src/net/topics.js')
  t.alike(JSON.parse(JSON.stringify(torrentVectors())), { files: v.files, pieceLength: v.pieceLength, torrents: v.torrents }, 'torrents, byte for byte')
  t.is(torrentTopic(Buffer.from(v.torrentTopic.infohash, 'hex')).toString('hex'), v.torrentTopic.topic)
  for (const tv of v.torrents) {
    const meta = parseTorrent(Buffer.from(tv.torrent, 'hex'), { infohash: Buffer.from(tv.infohash, 'hex') })
    t.is(meta.files.length, 3)
    t.is(magnetOf(meta), tv.magnet)
  }
})

test('a metadata bomb (12 MiB of empty dictionaries outside info) is refused by the value budget, in bounded memory', (t) => {
  const meta = smallTorrent()
  const good = torrentBytes(meta)
  const bomb = metadataBomb(good)
  t.ok(bomb.length > 11 * 1024 * 1024 && bomb.length <= 12 * 1024 * 1024, `${bomb.length} bytes, under the 12 MiB size limit`)
  try {
    parseTorrent(bomb, { infohash: meta.infohash })
    t.fail('the bomb was accepted')
  } catch (err) {
    t.ok(isChrysalisError(err, 'BAD_TORRENT') && /more than 1000000 values/.test(err.message), `refused: ${(err as Error).message}`)
  }
  // The info comes first and is checked first: a wrong infohash is found before the junk is read.
  try {
    parseTorrent(bomb, { infohash: crypto.randomBytes(32) })
    t.fail('accepted for another infohash')
  } catch (err) {
    t.ok(/does not match the infohash/.test((err as Error).message), 'the infohash is checked before the rest is scanned')
  }
  // Junk under the budget is scanned, never built, and ignored.
  const mild = metadataBomb(good, 700_000)
  t.ok(parseTorrent(mild, { infohash: meta.infohash }).infohash.equals(meta.infohash), 'a torrent with 350,000 unknown values outside info parses')

  // Memory, measured in a fresh process: its peak RSS covers everything the parse allocated.
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers-bomb.ts', import.meta.url))], { encoding: 'utf-8', timeout: 100_000 })
  const out = JSON.parse(child.stdout) as { accepted: boolean; code?: string; maxRssBytes: number }
  t.is(out.accepted, false, 'refused in a fresh process too')
  t.is(out.code, 'BAD_TORRENT')
  t.ok(out.maxRssBytes < 400 * 2 ** 20, `peak RSS of the whole process ${Math.round(out.maxRssBytes / 2 ** 20)} MiB (the unbounded decoder: about 1.3 GiB)`)
})

test('bencode budgets: total bytes, total values, depth; each refusal names its limit', (t) => {
  const limitOf = (input: Buffer | string, limits: Partial<DecodeLimits>): string | null => {
    try {
      decode(typeof input === 'string' ? Buffer.from(input) : input, { limits })
      return 'accepted'
    } catch (err) {
      return err instanceof BencodeError ? err.limit : 'not a BencodeError'
    }
  }
  t.is(limitOf('li1ei2ei3ee', { maxNodes: 3 }), 'nodes', 'four values over a budget of three')
  t.is(limitOf('li1ei2ei3ee', { maxNodes: 4 }), 'accepted')
  t.is(limitOf('d1:ai1ee', { maxNodes: 2 }), 'nodes', 'keys count as values')
  t.is(limitOf('li1ei2ei3ee', { maxBytes: 10 }), 'bytes')
  t.is(limitOf('llleee', { maxDepth: 2 }), 'depth')
  t.is(limitOf('5:abcde', { maxString: 4 }), 'string')
  t.is(limitOf('li1ei2ee', { maxItems: 1 }), 'items')
  t.is(limitOf('5:abc', {}), null, 'a string longer than the input is malformed, not allocated')
  const seen: string[] = []
  scanDict(Buffer.from('d1:ai1e1:bli1eee'), {}, (k, start, end) => seen.push(`${k}:${start}-${end}`))
  t.alike(seen, ['a:4-7', 'b:10-15'], 'scanDict reports each entry and where its value lies')
  t.exception(() => scanDict(Buffer.from('d1:bi1e1:ai1ee'), {}, () => {}), /not sorted/, 'scanDict checks what it skips')
  t.exception(() => scanDict(Buffer.from('li1ee'), {}, () => {}), /not a dictionary/)
})

test('values inside info that nobody reads are checked in place, not built', (t) => {
  const meta = smallTorrent()
  // The same info with an unknown key holding 400,000 empty dictionaries: valid, and ignored.
  const lists = (n: number): Buffer => Buffer.concat([Buffer.from('6:zzjunkl'), ...Array<Buffer>(n).fill(Buffer.concat([Buffer.from('l'), Buffer.alloc(2 * 80_000, 'de'), Buffer.from('e')])), Buffer.from('e')])
  const junk = lists(5)
  const info = Buffer.concat([meta.info.subarray(0, -1), junk, Buffer.from('e')])
  const parsed = parseInfo(info)
  t.is(parsed.name, 'a.bin')
  t.is(parsed.files.length, 1)
  const broken = Buffer.concat([meta.info.subarray(0, -1), lists(13), Buffer.from('e')])
  try {
    parseInfo(broken)
    t.fail('an info of a million values was accepted')
  } catch (err) {
    t.ok(isChrysalisError(err, 'BAD_TORRENT') && /more than 1000000 values/.test(err.message), `refused: ${(err as Error).message}`)
  }
})

test('bencode rules: key order and trailing bytes relaxed only on request; duplicates never', (t) => {
  const seen: string[] = []
  scanDict(Buffer.from('d1:bi1e1:ai2eeXY'), {}, (k) => seen.push(k), { anyOrder: true, trailing: true })
  t.alike(seen, ['b', 'a'], 'unsorted keys and trailing bytes, when allowed')
  t.exception(() => scanDict(Buffer.from('d1:bi1e1:ai2ee'), {}, () => {}), /not sorted/, 'by default: refused')
  t.exception(() => decode(Buffer.from('i1eX')), /trailing/, 'by default: trailing bytes refused')
  t.exception(() => scanDict(Buffer.from('d1:bi1e1:ai2e1:bi3ee'), {}, () => {}, { anyOrder: true }), /duplicate key/, 'a duplicate, out of order, is refused')
  t.exception(() => decode(Buffer.from('d1:ad1:xi1e1:xi2eee'), { rules: { anyOrder: true } }), /duplicate key/, 'nested duplicates too')
})

test('hybrid: the v1 half must describe the v2 files (libtorrent\'s files_compatible)', (t) => {
  const pl = 16384
  const a = crypto.randomBytes(1000)
  const b = crypto.randomBytes(20000)
  const hashed = (path: string, data: Buffer): HashedFile => {
    const layer: Buffer[] = []
    for (let at = 0; at < data.length; at += pl) layer.push(subtreeRoot(blockHashes(data.subarray(at, at + pl)), pl / BLOCK))
    const padded = (at: number): Buffer => Buffer.concat([data.subarray(at, at + pl), Buffer.alloc(Math.max(0, at + pl - data.length))])
    const v1Pieces: Buffer[] = []
    for (let at = 0; at < data.length; at += pl) v1Pieces.push(crypto.hash('sha1', padded(at), 'buffer'))
    const piecesRoot = data.length <= pl ? subtreeRoot(blockHashes(data), nextPow2(Math.ceil(data.length / BLOCK))) : rootFromLayer(layer, pl)
    return { path: [path], length: data.length, piecesRoot, layer: data.length > pl ? layer : [], v1Pieces }
  }
  const meta = buildMetainfo({ name: 'dir', multi: true, pieceLength: pl, files: [hashed('a', a), hashed('b', b)], hybrid: true })
  t.is(meta.version, 'hybrid')
  t.alike(meta.v1!.files.map((f) => [f.pad, f.length]), [[false, 1000], [true, pl - 1000], [false, 20000], [true, 2 * pl - 20000]], 'pads after every unaligned file')
  // The same info with the first pad one byte longer (and so the second file one byte later).
  const info = decode(meta.info).value as BDict
  const files = info.get('files') as BDict[]
  files[1]!.set('length', pl - 999)
  try {
    parseInfo(encode(info))
    t.fail('a misaligned hybrid was accepted')
  } catch (err) {
    t.ok(isChrysalisError(err, 'BAD_TORRENT') && /v1 and v2 file metadata do not match/.test(err.message), (err as Error).message)
  }
  files[1]!.set('length', pl - 1000)
  ;(files[2]!.get('path') as Buffer[])[0] = Buffer.from('c')
  t.exception(() => parseInfo(encode(info)), /entry 3 is c in v1, b in v2/, 'a renamed v1 file')
})
