// Magnets (BEP 9, BEP 52, BEP 19) and the three kinds of torrent, against libtorrent 2.0.8:
// torrents and magnets it made (test/fixtures/lt-made, by test/oracle/lt-make.py), and its
// parse_magnet_uri reading the magnets we make.
import test from 'brittle'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isChrysalisError } from '../src/errors.js'
import { MAGNET_LIMITS, createMagnet, magnetOf, readMagnet } from '../src/transfer/magnet.js'
import { parseFetchTarget } from '../src/node/files.js'
import { filePath, inspectTorrent } from '../src/transfer/metainfo.js'

const DIR = fileURLToPath(new URL('./fixtures/lt-made/', import.meta.url))
interface Made {
  file: string
  kind: 'v1' | 'v2' | 'hybrid'
  v1: string | null
  v2: string | null
  name: string
  pieceLength: number
  pieces: number
  magnet: string
}
const { torrents } = JSON.parse(fs.readFileSync(DIR + 'vectors.json', 'utf-8')) as { torrents: Made[] }
const TRACKERS = ['udp://127.0.0.1:6969/announce', 'http://127.0.0.1:8000/announce']
const V1 = '7c2d958d8800eb3afd6122b78dd467c668764e81'
const V2 = '3cf7f99733a0c4bb38ebe58b4c71e6f889e019533cd19cf2780dceb88042d87e'

function refused(t: { ok(v: unknown, m?: string): void }, input: string, pattern: RegExp, what: string): void {
  try {
    readMagnet(input)
    t.ok(false, `${what}: accepted`)
  } catch (err) {
    t.ok(isChrysalisError(err, 'BAD_INPUT') && pattern.test(err.message), `${what}: ${(err as Error).message}`)
  }
}

test('torrents libtorrent made, v1, v2 and hybrid: kind, infohashes, trackers, web seed, comment', (t) => {
  for (const v of torrents) {
    const { meta, extras } = inspectTorrent(fs.readFileSync(DIR + v.file))
    t.is(meta.version, v.kind, `${v.file}: ${v.kind}`)
    t.is(meta.infohashV1?.toString('hex') ?? null, v.v1, `${v.file}: v1 infohash`)
    t.is(meta.infohashV2?.toString('hex') ?? null, v.v2, `${v.file}: v2 infohash`)
    t.is(meta.infohash.toString('hex'), v.v2 ?? v.v1, `${v.file}: keyed by v2, else v1`)
    t.alike([meta.name, meta.pieceLength, meta.pieceCount], [v.name, v.pieceLength, v.pieces], `${v.file}: name, piece length, pieces`)
    if (v.file.startsWith('folder')) {
      t.alike(meta.files.map((f) => [f.path.join('/'), f.length]).sort(), [['README.txt', 1000], ['scans/page-001.tif', 70000]], `${v.file}: files, pads hidden`)
      t.alike(extras, { trackers: TRACKERS, webSeeds: ['http://127.0.0.1:8080/files/'], comment: 'Scans of the Kaypro II manuals', createdBy: 'libtorrent 2.0.8 (test/oracle/lt-make.py)', creationDate: 1700000000 }, `${v.file}: what it says outside info`)
    }
    if (meta.v1) t.is(meta.v1.pieces.length, 20 * meta.v1.pieceCount, `${v.file}: one SHA-1 per v1 piece`)
  }
  const hybrid = inspectTorrent(fs.readFileSync(DIR + 'folder-hybrid.torrent')).meta
  t.alike(hybrid.v1!.files.map((f) => [f.pad, f.length, f.offset]), [[false, 1000, 0], [true, 15384, 1000], [false, 70000, 16384], [true, 11920, 86384]], 'the hybrid\'s v1 list: BEP 47 pads align every file')
  const v1 = inspectTorrent(fs.readFileSync(DIR + 'folder-v1.torrent')).meta
  t.alike(v1.files.map((f) => [f.path.join('/'), f.firstPiece, f.pieceCount]), [['scans/page-001.tif', 0, 5], ['README.txt', 4, 1]], 'v1: pieces span files (piece 4 holds the end of one and all of the other)')
})

test('a folder of one file: a directory in a hybrid (it has a v1 file list), a single file in v2, as libtorrent places them', (t) => {
  // Made by /work/shared/tools/lt-peer.py make album OUT {hybrid,v2}; libtorrent's file_path(0): album/a.flac and a.flac.
  for (const [kind, where] of [['hybrid', 'album/a.flac'], ['v2', 'a.flac']] as const) {
    const { meta } = inspectTorrent(fs.readFileSync(DIR + `one-file-dir-${kind}.torrent`))
    t.is(filePath(meta, meta.files[0]!).join('/'), where, `${kind}: ${where}`)
  }
})

test('magnets libtorrent made parse to the same torrent; ours parse back in libtorrent', (t) => {
  for (const v of torrents) {
    const m = readMagnet(v.magnet)
    t.is(m.infohashV1?.toString('hex') ?? null, v.v1, `${v.file}: btih`)
    t.is(m.infohashV2?.toString('hex') ?? null, v.v2, `${v.file}: btmh`)
    t.is(m.name, v.name, `${v.file}: dn`)
    if (v.file.startsWith('folder')) {
      t.alike(m.trackers, TRACKERS, `${v.file}: tr, in order`)
      t.alike(m.webSeeds, ['http://127.0.0.1:8080/files/'], `${v.file}: ws`)
    }
  }
  const ours = torrents.map((v) => magnetOf(inspectTorrent(fs.readFileSync(DIR + v.file)).meta, { trackers: TRACKERS }))
  t.ok(ours[2]!.startsWith('magnet:?xt=urn:btmh:1220') && ours[2]!.includes('&xt=urn:btih:'), 'a hybrid\'s magnet carries both xt')
  t.absent(ours[0]!.includes('btmh'), 'a v1 magnet carries only btih')
  const script = [
    'import json, sys, libtorrent as lt',
    'out = []',
    'for line in sys.stdin.read().split():',
    '    p = lt.parse_magnet_uri(line); ih = p.info_hashes',
    '    out.append({"v1": str(ih.v1) if ih.has_v1() else None, "v2": str(ih.v2) if ih.has_v2() else None, "name": p.name, "trackers": list(p.trackers)})',
    'print(json.dumps(out))'
  ].join('\n')
  const lt = spawnSync('/usr/bin/python3', ['-c', script], { input: ours.join('\n'), encoding: 'utf-8' })
  t.is(lt.status, 0, lt.stderr)
  const read = JSON.parse(lt.stdout) as Array<{ v1: string | null; v2: string | null; name: string; trackers: string[] }>
  t.alike(read, torrents.map((v) => ({ v1: v.v1, v2: v.v2, name: v.name, trackers: TRACKERS })), 'libtorrent reads our magnets: both hashes, dn, tr')
})

test('magnet fields: base32 btih, btmh, x.pe peers, xl, ws, repeated and numbered keys', (t) => {
  const m = readMagnet(`magnet:?xt.1=urn:btih:PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTUB&xt.2=urn:btmh:1220${V2.toUpperCase()}&dn=Kaypro%20II&tr=udp%3A%2F%2F127.0.0.1%3A6969&tr=udp%3A%2F%2F127.0.0.1%3A6969&tr=gopher://x&x.pe=[::1]:6881&x.pe=127.0.0.1:51413&x.pe=peer.example:6881&x.pe=127.0.0.1:0&x.pe=[zz]:1&x.pe=999.1.1.1:5&x.pe=nonsense&xl=86000&ws=http://127.0.0.1/files/&ws=file:///etc/passwd`)
  t.alike(m, {
    infohashV1: Buffer.from(V1, 'hex'),
    infohashV2: Buffer.from(V2, 'hex'),
    name: 'Kaypro II',
    trackers: ['udp://127.0.0.1:6969'],
    webSeeds: ['http://127.0.0.1/files/'],
    peers: [{ host: '::1', port: 6881 }, { host: '127.0.0.1', port: 51413 }, { host: 'peer.example', port: 6881 }],
    length: 86000
  }, 'one typed result; duplicates, unknown schemes and bad addresses are left out')
  refused(t, `magnet:?xt=urn:btih:${V1}&xt=urn:btih:${'0'.repeat(40)}`, /two different v1 infohashes/, 'two btih')
  refused(t, `magnet:?xt=urn:btmh:1114${V2}`, /not a SHA-256 multihash/, 'another multihash')
  refused(t, `magnet:?xt=urn:btih:${V1.slice(2)}`, /38 characters/, 'a short btih')
  refused(t, 'magnet:?xt=urn:btih:PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTU1', /neither hex nor base32/, 'bad base32')
  refused(t, 'magnet:?dn=nothing', /names no BitTorrent infohash/, 'no xt')
  refused(t, `magnet:?xt=urn:btih:${V1}&tr=${'a'.repeat(MAGNET_LIMITS.bytes)}`, /above the limit/, 'too long')
  refused(t, `magnet:?xt=urn:btih:${V1}${'&x=1'.repeat(MAGNET_LIMITS.params)}`, /more than 1000 parameters/, 'too many parameters')
  const many = readMagnet(`magnet:?xt=urn:btih:${V1}${Array.from({ length: 150 }, (_, i) => `&tr=udp://127.0.0.1:${1000 + i}`).join('')}`)
  t.is(many.trackers.length, MAGNET_LIMITS.trackers, 'lists are bounded: the first 100 trackers are kept')
  t.is(createMagnet({ infohashV1: Buffer.from(V1, 'hex'), name: 'a b', trackers: ['udp://127.0.0.1:6969'] }), `magnet:?xt=urn:btih:${V1}&dn=a%20b&tr=udp%3A%2F%2F127.0.0.1%3A6969`)
})

test('the fetch path takes v1, v2 and hybrid magnets and 40- and 64-hex infohashes (one parser, node/files.ts)', (t) => {
  const hybrid = parseFetchTarget(`magnet:?xt=urn:btih:${V1}&xt=urn:btmh:1220${V2}&dn=x`)
  t.ok(hybrid.kind === 'torrent' && hybrid.target.v2?.toString('hex') === V2 && hybrid.target.v1?.toString('hex') === V1 && hybrid.target.name === 'x', 'a hybrid magnet: both hashes')
  for (const input of [`magnet:?xt=urn:btih:${V1}`, V1]) {
    const v1 = parseFetchTarget(input)
    t.ok(v1.kind === 'torrent' && v1.target.v1?.toString('hex') === V1 && v1.target.v2 === null, `v1 only: ${input.slice(0, 30)}`)
  }
})
