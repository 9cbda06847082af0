// Verified data is branded where it crosses a boundary (STYLE.md practice 11): a torrent's
// metadata only from the metainfo parser, a torrent folder read back only through TorrentFolders.
// The @ts-expect-error lines are the test for the types: `tsc --noEmit` fails when one of them
// is no longer an error (a brand gone), so they are compiled but never run.
import test from 'brittle'
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { restoredEntry } from '../src/transfer/entry.js'
import { buildMetainfo, type Metainfo, type MetainfoFields, parseTorrent, torrentBytes } from '../src/transfer/metainfo.js'
import { type SavedState, type StoredState, TorrentFolders, writeState } from '../src/transfer/state.js'
import { PieceStore } from '../src/transfer/storage.js'
import { targetFromMeta } from '../src/transfer/target.js'
import { tmpDir } from './helpers.js'

function small(): Metainfo {
  const data = crypto.randomBytes(100)
  return buildMetainfo({ name: 'a.bin', multi: false, pieceLength: 16384, files: [{ path: ['a.bin'], length: 100, piecesRoot: crypto.hash('sha256', data, 'buffer'), layer: [] }] })
}

/** Never called: what tsc must refuse. */
export function unbrandedIsRefused(fields: MetainfoFields, state: SavedState): void {
  // @ts-expect-error metadata that did not come from the parser is not a Metainfo
  const meta: Metainfo = fields
  // @ts-expect-error the piece store takes only parsed metadata
  void new PieceStore(fields, [], '/tmp/log')
  // @ts-expect-error a fetch target's metadata is parsed metadata
  void targetFromMeta(fields)
  // @ts-expect-error a state made in memory is not one read back and checked
  const stored: StoredState = state
  // @ts-expect-error an entry for a torrent read back takes only what TorrentFolders.read gave
  void restoredEntry({ state, meta: null })
  void meta
  void stored
}

test('brands: parsed metadata passes where it is taken; TorrentFolders reads a folder back checked, or says why not', async (t) => {
  const meta = small()
  const again = parseTorrent(torrentBytes(meta), { infohash: meta.infohash })
  t.alike(targetFromMeta(again).v2, meta.infohashV2, 'parseTorrent gives what a fetch target takes')

  const dir = await tmpDir(t)
  const folders = new TorrentFolders(dir)
  t.alike(await folders.open(), [], 'a new folder holds no torrents')
  const key = meta.infohash.toString('hex')
  const state: SavedState = { version: 2, infohash: key, role: 'fetched', status: 'paused', out: '/tmp/out', select: [], files: [], addedAt: 1, reason: null }
  await folders.save(state, meta)
  t.alike(await folders.open(), [key], 'saved: listed by its key')
  const read = await folders.read(key)
  if ('damaged' in read) {
    t.fail(read.damaged)
    return
  }
  t.is(read.state.status, 'paused', 'the state as it was saved')
  t.alike(read.state.v2, key, 'its key filled in as the v2 infohash')
  t.alike(read.meta?.infohash, meta.infohash, 'and its .torrent, parsed against the key')
  const entry = restoredEntry(read)
  t.is(entry.state, read.state, 'an entry from what was read back')

  // A .torrent that is not the folder's torrent, and a state whose files do not match it.
  const other = small()
  await fs.writeFile(path.join(dir, key, 'torrent'), torrentBytes(other))
  const wrong = await folders.read(key)
  t.ok('damaged' in wrong && /damaged \(the torrent does not match the infohash asked for/.test(wrong.damaged), 'a .torrent of another torrent: damaged, says why')
  await writeState(path.join(dir, key), { ...state, files: [{ path: '/tmp/out/a', skip: false, done: false, mtimeMs: null }, { path: '/tmp/out/b', skip: false, done: false, mtimeMs: null }] }, null)
  await fs.writeFile(path.join(dir, key, 'torrent'), torrentBytes(meta))
  const mismatch = await folders.read(key)
  t.ok('damaged' in mismatch && /does not match its torrent; cancel this torrent and add it again$/.test(mismatch.damaged), 'a state that does not match its torrent: says what to do')
})
