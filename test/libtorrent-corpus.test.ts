// libtorrent's own 108 test torrents (test/fixtures/libtorrent-torrents, from arvidn/libtorrent
// test/test_torrents) and libtorrent 2.0.8's verdict on each (test/fixtures/libtorrent-verdicts.json,
// made by test/oracle/lt-verdicts.py): our parser agrees on every file but the STRICTER ones, and
// on what it reads from those both accept. protocol.md §12.5 lists the differences with their reasons.
import test from 'brittle'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isChrysalisError } from '../src/errors.js'
import { inspectTorrent, parseTorrent, type Metainfo } from '../src/transfer/metainfo.js'

const DIR = fileURLToPath(new URL('./fixtures/libtorrent-torrents/', import.meta.url))

interface LtFile {
  path: string
  size: number
  symlink?: string
}
type Verdict = { ok: false; error: string } | { ok: true; v1: string | null; v2: string | null; name: string; pieceLength: number; pieces: number; totalSize: number; files: LtFile[] }
const { verdicts } = JSON.parse(fs.readFileSync(new URL('./fixtures/libtorrent-verdicts.json', import.meta.url), 'utf-8')) as { verdicts: Record<string, Verdict> }

/**
 * Torrents libtorrent accepts (by renaming what it cannot use) and we refuse: each with the
 * reason, which our error states. libtorrent rewrites such names ("/" and ".." dropped, bad
 * UTF-8 replaced, long names cut, duplicates renamed); we refuse rather than create files under
 * names the torrent does not give.
 */
const STRICTER: Record<string, RegExp> = {
  'absolute_filename.torrent': /"\/foobar" \(slash/, // an absolute path
  'backslash_path.torrent': /"\\\\" \(slash, backslash/, // a backslash: a separator on Windows
  'duplicate_files.torrent': /lists foo\/bar\.txt twice/, // one file would overwrite the other
  'duplicate_files2.torrent': /lists foo\/bar\.txt twice/,
  'empty_path.torrent': /an empty name/, // no name to create
  'empty_path_multi.torrent': /an empty name/,
  'hidden_parent_path.torrent': /"foo\/\.\.\/\.\.\/\.\.\/bar" \(slash/, // would escape the folder
  'invalid_directory_name.torrent': /"\/" \(slash/,
  'invalid_filename.torrent': /the torrent has the name "\\\\est2"/,
  'invalid_filename2.torrent': /the torrent has the name "\\\\est2"/,
  'invalid_name2.torrent': /the torrent has the name "\.\."/, // the parent folder
  'long_name.torrent': /longer than 255 bytes/, // no common filesystem holds it
  'parent_path.torrent': /the name "\.\."/,
  'slash_path.torrent': /"\/" \(slash/,
  'slash_path2.torrent': /"abc\/\.\.\/\.\.\/def" \(slash/,
  'slash_path3.torrent': /the torrent has the name "temp\/\.\.\/\.\.\/abc"/,
  'symlink_filtered_path.torrent': /"\/" \(slash/,
  'v2_invalid_filename.torrent': /not UTF-8/, // the name cannot be shown or created faithfully
  'v2_invalid_filename2.torrent': /"\/\/" \(slash/
}

function read(file: string): { meta: Metainfo } | { err: Error } {
  try {
    return { meta: inspectTorrent(fs.readFileSync(DIR + file)).meta }
  } catch (err) {
    return { err: err as Error }
  }
}

const ltPath = (meta: Metainfo, path: string[]): string => (meta.multi ? [meta.name, ...path] : path).join('/')

test('every libtorrent test torrent: the same verdict as libtorrent 2.0.8, or a stated stricter refusal', (t) => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.torrent')).sort()
  t.is(files.length, 108, 'the whole corpus is here')
  t.alike(Object.keys(verdicts).sort(), files, 'one verdict per file')
  const tally = { bothAccept: 0, bothRefuse: 0, stricter: 0 }
  for (const file of files) {
    const lt = verdicts[file]!
    const ours = read(file)
    if (!lt.ok) {
      t.ok('err' in ours && isChrysalisError(ours.err, 'BAD_TORRENT'), `${file}: refused as libtorrent does ("${lt.error}")${'err' in ours ? ` — ${ours.err.message}` : ''}`)
      tally.bothRefuse++
      continue
    }
    const why = STRICTER[file]
    if (why) {
      t.ok('err' in ours && isChrysalisError(ours.err, 'BAD_TORRENT') && why.test(ours.err.message), `${file}: refused for a stated reason${'err' in ours ? ` — ${ours.err.message}` : ''}`)
      tally.stricter++
      continue
    }
    if ('err' in ours) {
      t.fail(`${file}: libtorrent accepts it, we refused: ${ours.err.message}`)
      continue
    }
    const { meta } = ours
    const kind = lt.v1 && lt.v2 ? 'hybrid' : lt.v2 ? 'v2' : 'v1'
    const got = {
      kind: meta.version,
      v1: meta.infohashV1?.toString('hex') ?? null,
      v2: meta.infohashV2?.toString('hex') ?? null,
      name: meta.name,
      pieceLength: meta.pieceLength,
      pieces: meta.pieceCount,
      // Symlinks: that it is one (libtorrent rewrites targets it cannot resolve; we keep them as given).
      files: meta.files.map((f) => ({ path: ltPath(meta, f.path), size: f.length, symlink: f.symlink !== undefined }))
    }
    const files = lt.files.map((f) => ({ path: f.path, size: f.size, symlink: f.symlink !== undefined }))
    t.alike(got, { kind, v1: lt.v1, v2: lt.v2, name: lt.name, pieceLength: lt.pieceLength, pieces: lt.pieces, files }, `${file}: accepted, and read as libtorrent reads it`)
    t.is(meta.infohash.toString('hex'), lt.v2 ?? lt.v1, `${file}: keyed by the v2 hash where there is one, else the v1 hash`)
    tally.bothAccept++
  }
  t.alike(tally, { bothAccept: 50, bothRefuse: 39, stricter: 19 }, `${JSON.stringify(tally)}: libtorrent accepts 69, refuses 39`)
})

test('the engine\'s parse (parseTorrent defaults) refuses v1-only torrents with a line that says why', (t) => {
  try {
    parseTorrent(fs.readFileSync(DIR + 'base.torrent'))
    t.fail('a v1-only torrent reached the engine')
  } catch (err) {
    t.ok(isChrysalisError(err, 'BAD_TORRENT') && /v1 only.*cannot fetch v1 torrents yet/.test(err.message), (err as Error).message)
  }
  const hybrid = parseTorrent(fs.readFileSync(DIR + 'v2_multipiece_file.torrent'))
  t.is(hybrid.version, 'hybrid')
  t.is(hybrid.infohash.length, 32, 'a hybrid is keyed by its 32-byte v2 hash, as before')
})

test('piece layers: missing or unverifiable ones are left to peers when shown, refused by the engine\'s parse', (t) => {
  const incomplete = fs.readFileSync(DIR + 'v2_incomplete_piece_layer.torrent')
  t.exception(() => parseTorrent(incomplete), /lacks the piece layer/)
  const shown = inspectTorrent(incomplete).meta
  t.is(shown.layers.size, 2, 'the two layers given are kept, the missing one is not invented')
  const wrongRoot = fs.readFileSync(DIR + 'v2_invalid_root_hash.torrent')
  t.exception(() => parseTorrent(wrongRoot), /does not match its pieces root/)
  t.is(inspectTorrent(wrongRoot).meta.layers.size, 0, 'a layer that does not hash to its root is dropped, never used')
  const links = inspectTorrent(fs.readFileSync(DIR + 'v2_symlinks.torrent')).meta
  t.alike(links.files.filter((f) => f.symlink).map((f) => [f.path.join('/'), f.symlink!.join('/'), f.length]), [
    ['Headers', 'Versions/Current/Headers', 0],
    ['Resources', 'Versions/Current/Resources', 0],
    ['SDL2', 'Versions/Current/SDL2', 0]
  ], 'BEP 47 symlinks in a v2 tree: targets as given, no bytes')
  const v2only = inspectTorrent(fs.readFileSync(DIR + 'v2_only.torrent')).meta
  t.is(v2only.layers.size, 1, 'a layer that matches is kept')
})
