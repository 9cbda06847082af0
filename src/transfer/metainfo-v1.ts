import type { BDict, BValue } from './bencode.js'
import { LIMITS, attrOf, bad, checkComponent, checkLength } from './metainfo-check.js'

/**
 * The v1 side of metainfo (BEP 3, BEP 47): the file list where pieces span files, pad files, and
 * SHA-1 piece hashes; and the check that a hybrid's v1 and v2 halves describe the same files
 * (libtorrent's files_compatible). The rules and their reasons: protocol.md §12.
 *
 *   const { multi, layout } = parseV1(info, name, pieceLength)
 *   checkHybrid(v2Files, v2Multi, { multi, layout }, pieceLength)   // a hybrid's halves agree
 *   checkPieces(info, layout)
 */

export interface V1File {
  /** Path components inside the torrent (a single-file torrent: [name]); [] for a pad file. */
  path: string[]
  length: number
  /** Byte offset in the v1 piece stream, pads included. */
  offset: number
  /** A BEP 47 pad file: zeros, never written or shown. */
  pad: boolean
  /** A BEP 47 symlink's target, as components from the torrent's root; null for a file. */
  symlink: string[] | null
  executable: boolean
}

export interface V1Layout {
  /** SHA-1 of each piece, 20 bytes each, in piece order. */
  pieces: Buffer
  pieceCount: number
  /** Every entry of the file list in order, pads included. */
  files: V1File[]
  /** Bytes of the piece stream: the sum of all lengths, pads included. */
  streamLength: number
}

const SHA1 = 20

function strings(v: BValue | undefined): Buffer[] | null {
  if (!Array.isArray(v)) return null
  const out: Buffer[] = []
  for (const item of v) {
    if (!Buffer.isBuffer(item)) return null
    out.push(item)
  }
  return out
}

/** Path components, `path.utf-8` preferred as libtorrent does; each checked. */
function pathOf(entry: BDict, where: string): string[] {
  const raw = strings(entry.get('path.utf-8')) ?? strings(entry.get('path'))
  if (!raw || raw.length === 0) throw bad(`${where} has no path (a list of names); it was refused`)
  if (raw.length > LIMITS.depth) throw bad(`${where} nests directories deeper than ${LIMITS.depth}; it was refused`)
  return raw.map((c) => checkComponent(c, `a path in the torrent (${where})`))
}

function symlinkOf(entry: BDict, where: string): string[] | null {
  const target = entry.get('symlink path')
  if (target === undefined) return null // libtorrent: a symlink without a target is a plain file
  const raw = strings(target)
  if (!raw || raw.length > LIMITS.depth) throw bad(`${where} is a symlink whose target is not a list of names; it was refused`)
  return raw.map((c) => checkComponent(c, `the symlink target of ${where}`))
}

/** BitComet's pad files carry no attr, only this in their path (libtorrent recognises it too). */
const BITCOMET_PAD = '_____padding_file_'

function isPad(entry: BDict): boolean {
  if (attrOf(entry.get('attr')).pad) return true
  const raw = strings(entry.get('path'))
  return raw !== null && raw.some((c) => c.toString('latin1').includes(BITCOMET_PAD))
}

/** The v1 file layout of an info dictionary (its keys decoded into `info`). */
export function parseV1(info: BDict, name: string, pieceLength: number): { multi: boolean; layout: V1Layout } {
  const list = info.get('files')
  const multi = list !== undefined
  const files: V1File[] = []
  let offset = 0
  if (multi) {
    if (!Array.isArray(list) || list.length === 0) throw bad('the torrent\'s file list is empty or not a list; it was refused')
    if (list.length > LIMITS.files) throw bad(`the torrent has more than ${LIMITS.files} files; it was refused`)
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]
      const where = `file ${i + 1} of the list`
      if (!(entry instanceof Map)) throw bad(`the torrent's ${where} is not a dictionary; it was refused`)
      const attr = attrOf(entry.get('attr'))
      const pad = isPad(entry)
      const path = pad ? [] : pathOf(entry, where)
      const symlink = attr.symlink && !pad ? symlinkOf(entry, path.join('/')) : null
      // A symlink holds no bytes of the piece stream, whatever its length says (libtorrent).
      const length = attr.symlink ? 0 : checkLength(entry.get('length'), `the torrent's ${where}`)
      files.push({ path, length, offset, pad, symlink, executable: attr.executable })
      offset += length
      if (offset > LIMITS.totalLength) throw bad(`the torrent is larger than ${LIMITS.totalLength} bytes; it was refused`)
    }
    checkUnique(files)
  } else {
    const length = checkLength(info.get('length'), 'the torrent (neither a file list nor a length)')
    files.push({ path: [name], length, offset: 0, pad: false, symlink: null, executable: false })
    offset = length
  }
  if (files.every((f) => f.pad || f.length === 0)) throw bad('the torrent holds no data (only empty files); it was refused')
  const pieceCount = Math.ceil(offset / pieceLength)
  if (pieceCount > LIMITS.pieces) throw bad(`the torrent has more than ${LIMITS.pieces} pieces; it was refused`)
  return { multi, layout: { pieces: Buffer.alloc(0), pieceCount, files, streamLength: offset } }
}

/** The SHA-1 piece hashes: exactly one per piece of the layout (checked after the file lists). */
export function checkPieces(info: BDict, layout: V1Layout): void {
  const pieces = info.get('pieces')
  if (!Buffer.isBuffer(pieces) || pieces.length !== layout.pieceCount * SHA1) {
    throw bad(`the torrent's v1 piece hashes (pieces) are not ${layout.pieceCount} SHA-1 hashes; it was refused`)
  }
  layout.pieces = Buffer.from(pieces)
}

/** Two entries with one path, or a file where another entry needs a directory: refused. */
function checkUnique(files: V1File[]): void {
  const names = new Set<string>()
  const dirs = new Set<string>()
  for (const f of files) {
    if (f.pad) continue
    const full = f.path.join('\0')
    if (names.has(full) || dirs.has(full)) throw bad(`the torrent lists ${f.path.join('/')} twice (or as a file and a directory); one would overwrite the other, so it was refused`)
    for (let i = 1; i < f.path.length; i++) {
      const dir = f.path.slice(0, i).join('\0')
      if (names.has(dir)) throw bad(`the torrent lists ${f.path.slice(0, i).join('/')} as a file and a directory; it was refused`)
      dirs.add(dir)
    }
    names.add(full)
  }
}

/** What a hybrid's v2 file tree says, for the comparison. */
export interface V2Side {
  path: string[]
  length: number
}

/**
 * A hybrid's halves must describe the same files at the same offsets (libtorrent's
 * files_compatible): the v2 files in order, each followed by a pad up to the next piece boundary
 * (BEP 47), index by index against the v1 list; a file with data must match in path, length and
 * offset, and where one list has an empty file or a pad the other must too. The pad after the
 * last file with data may be missing (libtorrent 2.0.0–2.0.7 made them so).
 */
export function checkHybrid(v2: V2Side[], v2Multi: boolean, v1: { multi: boolean; layout: V1Layout }, pieceLength: number): void {
  const mismatch = (why: string): Error => bad(`the torrent's v1 and v2 file metadata do not match (${why}); it was refused`)
  if (v2Multi !== v1.multi) throw mismatch('one is a single file, the other a directory')
  const expected: Array<{ pad: boolean; length: number; offset: number; path: string[] }> = []
  let offset = 0
  for (const f of v2) {
    expected.push({ pad: false, length: f.length, offset, path: f.path })
    offset += f.length
    if (offset % pieceLength !== 0) {
      const pad = pieceLength - (offset % pieceLength)
      expected.push({ pad: true, length: pad, offset, path: [] })
      offset += pad
    }
  }
  const got = v1.layout.files
  if (got.length === expected.length - 1) {
    // Remove the tail pad: the last entry with bytes, when it is a pad.
    for (let i = expected.length - 1; i >= 0; i--) {
      if (expected[i]!.length === 0) continue
      if (expected[i]!.pad) {
        offset -= expected[i]!.length
        expected.splice(i, 1)
        for (let j = i; j < expected.length; j++) expected[j]!.offset = offset
      }
      break
    }
  }
  if (got.length !== expected.length) throw mismatch(`${got.length} v1 entries where ${expected.length} were expected`)
  if (v1.layout.streamLength !== offset) throw mismatch(`${v1.layout.streamLength} bytes in v1, ${offset} in v2`)
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!
    const b = expected[i]!
    const relevant = !a.pad && a.length > 0
    if (relevant !== (!b.pad && b.length > 0)) throw mismatch(`entry ${i + 1}: a file with data in one, an empty file or a pad in the other`)
    if (!relevant) continue
    if (a.length !== b.length || a.offset !== b.offset) throw mismatch(`entry ${i + 1}: ${a.length} bytes at offset ${a.offset} in v1, ${b.length} at ${b.offset} in v2`)
    if (a.path.join('/') !== b.path.join('/')) throw mismatch(`entry ${i + 1} is ${a.path.join('/')} in v1, ${b.path.join('/')} in v2`)
  }
}
