import crypto from 'node:crypto'
import type { Valid } from '../valid.js'
import { BencodeError, decode, encode, key, scanDict, type BDict, type BValue, type DecodeRules } from './bencode.js'
import { BLOCK, HASH, nextPow2, rootFromLayer, splitLayer } from './merkle.js'
import { LIMITS, attrOf, bad, checkComponent, checkLength, utf8 } from './metainfo-check.js'
import { lastAtOrBefore } from './sorted.js'
import { checkHybrid, checkPieces, parseV1, type V1Layout } from './metainfo-v1.js'

export { LIMITS, checkComponent } from './metainfo-check.js'
export type { V1File, V1Layout } from './metainfo-v1.js'
export { magnetOf } from './magnet.js'

/**
 * BitTorrent metainfo of every kind: v1 (BEP 3), v2 (BEP 52) and hybrid, built from hashes and
 * parsed from untrusted bytes. The running engine fetches v2 and hybrid torrents (parseTorrent's
 * default refuses v1-only ones with a clear line); inspectTorrent reads all three, as libtorrent
 * does, for `chrysalis torrent show`. Layouts, limits, and every refusal with its reason:
 * protocol.md §12.
 *
 *   const meta = buildMetainfo({ name: 'kaypro.pdf', multi: false, pieceLength, files })
 *   const again = parseTorrent(torrentBytes(meta), { infohash: meta.infohash })
 *   const { meta: any, extras } = inspectTorrent(bytesFromDisk)  // v1, v2 or hybrid
 */

export type TorrentVersion = 'v1' | 'v2' | 'hybrid'

export interface TorrentFile {
  /** Path components inside the torrent (a single-file torrent: [name]). */
  path: string[]
  length: number
  /** Null for empty files, symlinks, and every file of a v1-only torrent. */
  piecesRoot: Buffer | null
  /**
   * Index of the file's first piece in the torrent-wide numbering. v2 and hybrid: files start on
   * a piece. v1-only: the piece its first byte falls in (pieces span files).
   */
  firstPiece: number
  /** Pieces the file covers (v1-only: touches, shared with its neighbours). */
  pieceCount: number
  /** A BEP 47 symlink: its target from the torrent's root (it holds no bytes). */
  symlink?: string[]
  /** BEP 47 attr x. */
  executable?: boolean
}

/** A torrent's metadata as the parser builds it, before it is branded (see Metainfo). */
export interface MetainfoFields {
  version: TorrentVersion
  name: string
  /** A directory torrent: files live under `name/`. */
  multi: boolean
  pieceLength: number
  /** The files, in order, without pad files. */
  files: TorrentFile[]
  totalLength: number
  pieceCount: number
  /** The info dictionary's exact bytes. */
  info: Buffer
  /**
   * The torrent's key: SHA-256 of `info` (32 bytes, BEP 52) for v2 and hybrid torrents, SHA-1
   * (20 bytes) for a v1-only torrent, which the engine does not fetch yet.
   */
  infohash: Buffer
  /** SHA-1 of `info` for v1 and hybrid torrents, else null. */
  infohashV1: Buffer | null
  /** SHA-256 of `info` for v2 and hybrid torrents, else null. */
  infohashV2: Buffer | null
  /** The v1 side (v1 and hybrid): SHA-1 pieces and the file list with its pads. */
  v1: V1Layout | null
  /** pieces root (hex) → piece layer, for files larger than one piece. */
  layers: Map<string, Buffer[]>
}

/**
 * Metadata that passed this module's checks: only parseInfo (and so parseTorrent, inspectTorrent,
 * buildMetainfo) makes one, and the piece store, the engine and the saved state take no other.
 * A peer's metadata is checked against the infohash asked for before parseInfo sees it.
 */
export type Metainfo = Valid<MetainfoFields>

/** The brand, given where the checks are done (parseInfo) and nowhere else. */
const checked = (meta: MetainfoFields): Metainfo => meta as Metainfo

export interface HashedFile {
  path: string[]
  length: number
  piecesRoot: Buffer | null
  /** Piece-layer hashes (files larger than one piece), else empty. */
  layer: Buffer[]
  /** SHA-1 of each piece, zero-padded to the piece length when pads follow (hybrid only). */
  v1Pieces?: Buffer[]
}

/**
 * Piece length from the total size, the rule of libtorrent's create_torrent: the smallest power
 * of two of at least total/2048 (about 2048 pieces), from 16 KiB up to 4 MiB.
 */
export function choosePieceLength(totalLength: number): number {
  let size = BLOCK
  while (size < 4 * 1024 * 1024 && size < totalLength / 2048) size *= 2
  return size
}

export function buildMetainfo(input: { name: string; multi: boolean; pieceLength: number; files: HashedFile[]; hybrid?: boolean }): Metainfo {
  const { name, multi, pieceLength, files } = input
  const tree: BDict = new Map()
  for (const f of files) {
    let dir = tree
    const parts = multi ? f.path : [name]
    for (const part of parts.slice(0, -1)) {
      const k = key(part)
      let sub = dir.get(k) as BDict | undefined
      if (!sub) dir.set(k, (sub = new Map()))
      dir = sub
    }
    const leaf: BDict = new Map<string, BValue>([['length', f.length]])
    if (f.piecesRoot) leaf.set(key('pieces root'), f.piecesRoot)
    dir.set(key(parts[parts.length - 1]!), new Map([['', leaf]]))
  }
  const info: BDict = new Map<string, BValue>([
    ['file tree', tree],
    ['meta version', 2],
    ['name', utf8(name)],
    ['piece length', pieceLength]
  ])
  if (input.hybrid) addV1(info, input)
  const bytes = encode(info)
  const meta = parseInfo(bytes)
  for (const f of files) if (f.layer.length > 0) meta.layers.set(f.piecesRoot!.toString('hex'), f.layer)
  return meta
}

/** BEP 47 v1 fields of a hybrid torrent: pads after every file not ending on a piece boundary. */
function addV1(info: BDict, input: { multi: boolean; pieceLength: number; files: HashedFile[] }): void {
  const pieces: Buffer[] = []
  for (const f of input.files) {
    if (!f.v1Pieces) throw new Error('a hybrid torrent needs v1 piece hashes')
    pieces.push(...f.v1Pieces)
  }
  info.set('pieces', Buffer.concat(pieces))
  if (!input.multi) {
    info.set('length', input.files[0]!.length)
    return
  }
  const list: BValue[] = []
  for (const f of input.files) {
    list.push(new Map<string, BValue>([['length', f.length], ['path', f.path.map(utf8)]]))
    const tail = f.length % input.pieceLength
    if (tail !== 0) {
      const pad = input.pieceLength - tail
      list.push(new Map<string, BValue>([['attr', utf8('p')], ['length', pad], ['path', [utf8('.pad'), utf8(String(pad))]]]))
    }
  }
  info.set('files', list)
}

/** A standard .torrent: the info dictionary as it is, and the piece layers. */
export function torrentBytes(meta: Metainfo): Buffer {
  // The info dictionary goes in as its exact bytes (a v1 info need not be canonical: re-encoding
  // it would change its hash). Keys in byte order: created by, info, piece layers.
  const entry = (k: string, v: BValue): Buffer => {
    const d = encode(new Map<string, BValue>([[k, v]]))
    return d.subarray(1, d.length - 1)
  }
  const parts = [Buffer.from('d'), entry('created by', utf8('chrysalis')), Buffer.from('4:info'), meta.info]
  if (meta.version !== 'v1') {
    const layers: BDict = new Map()
    for (const [root, layer] of meta.layers) layers.set(key(Buffer.from(root, 'hex')), Buffer.concat(layer))
    parts.push(entry('piece layers', layers))
  }
  parts.push(Buffer.from('e'))
  return Buffer.concat(parts)
}

/** What a .torrent says outside its info dictionary (not hashed, so only shown, never trusted). */
export interface TorrentExtras {
  /** Tracker URLs (announce, then announce-list), http, https, udp or wss; duplicates removed. */
  trackers: string[]
  /** BEP 19 web seeds (url-list), http or https. */
  webSeeds: string[]
  comment: string | null
  createdBy: string | null
  /** Seconds since 1970, as the file says. */
  creationDate: number | null
}

/** Bounds on what inspectTorrent keeps from outside info (the rest is ignored, not refused). */
export const EXTRA_LIMITS = { urls: 100, urlBytes: 2048, textBytes: 4096 } as const

export interface ParseOptions {
  /** The info must hash to this: 32 bytes SHA-256, 20 bytes SHA-1. */
  infohash?: Uint8Array
  /** A file larger than one piece must come with its piece layer (default true). */
  requireLayers?: boolean
  /** Accept v1-only torrents (default false: the engine does not fetch them yet). */
  v1?: boolean
  /** A piece layer that does not match its pieces root: refused (default), or dropped. */
  badLayer?: 'refuse' | 'drop'
}

/** Outside `info` a .torrent may have keys in any order and bytes after its end, as libtorrent accepts. */
const OUTER: DecodeRules = { anyOrder: true, trailing: true }
const EXTRA_KEYS = new Set(['announce', 'announce-list', 'url-list', 'comment', 'comment.utf-8', 'created by', 'creation date'].map(key))

/**
 * Parse a .torrent from anyone. Everything is checked before it is used: bencode within bounds,
 * the info dictionary canonical (v2, hybrid) and of the right structure, safe path components,
 * sizes and counts, every piece layer against its pieces root. With `infohash`, the info must
 * hash to it.
 */
export function parseTorrent(bytes: Uint8Array, opts: ParseOptions = {}): Metainfo {
  return readTorrent(bytes, opts, null)
}

/**
 * Any .torrent libtorrent would load (v1, v2, hybrid; piece layers missing or not matching their
 * roots are left to peers), with what it says outside info: for showing, not fetching.
 */
export function inspectTorrent(bytes: Uint8Array): { meta: Metainfo; extras: TorrentExtras } {
  const spans = new Map<string, [number, number]>()
  const meta = readTorrent(bytes, { v1: true, requireLayers: false, badLayer: 'drop' }, spans)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const value = (k: string): BValue | undefined => {
    const span = spans.get(key(k))
    if (!span) return undefined
    try {
      return decode(buf.subarray(span[0], span[1]), { limits: { maxNodes: 10_000, maxDepth: 3 }, rules: OUTER }).value
    } catch {
      return undefined // outside info, a malformed value is ignored, as libtorrent does
    }
  }
  const text = (v: BValue | undefined): string | null =>
    Buffer.isBuffer(v) && v.length > 0 ? v.subarray(0, EXTRA_LIMITS.textBytes).toString('utf-8') : null
  const urls = (values: BValue[], schemes: string[]): string[] => {
    const out: string[] = []
    for (const v of values) {
      if (!Buffer.isBuffer(v) || v.length > EXTRA_LIMITS.urlBytes) continue
      const url = v.toString('utf-8').trim()
      let scheme: string
      try {
        scheme = new URL(url).protocol
      } catch {
        continue
      }
      if (schemes.includes(scheme) && !out.includes(url) && out.length < EXTRA_LIMITS.urls) out.push(url)
    }
    return out
  }
  const tiers = value('announce-list')
  const listed = Array.isArray(tiers) ? tiers.flatMap((tier) => (Array.isArray(tier) ? tier : [])) : []
  const announce = value('announce')
  const seeds = value('url-list')
  const date = value('creation date')
  return {
    meta,
    extras: {
      trackers: urls([...(announce === undefined ? [] : [announce]), ...listed], ['http:', 'https:', 'udp:', 'wss:']),
      webSeeds: urls(Array.isArray(seeds) ? seeds : seeds === undefined ? [] : [seeds], ['http:', 'https:']),
      comment: text(value('comment.utf-8')) ?? text(value('comment')),
      createdBy: text(value('created by')),
      creationDate: typeof date === 'number' && date > 0 ? date : null
    }
  }
}

function readTorrent(bytes: Uint8Array, opts: ParseOptions, extras: Map<string, [number, number]> | null): Metainfo {
  if (bytes.byteLength > LIMITS.torrentBytes) throw bad(`the torrent is ${bytes.byteLength} bytes, above the ${LIMITS.torrentBytes}-byte limit; it was refused`)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length === 0 || buf[0] !== 0x64) throw bad('the file is not a torrent (not a bencoded dictionary); it was refused')
  // One pass that builds nothing: check the whole file's structure within the bounds, hash the
  // info bytes (and compare) as soon as they have been passed, and note where the piece layers
  // are. Only then is anything decoded, and only those values.
  const found: { info: Buffer | null; layers: [number, number] | null } = { info: null, layers: null }
  try {
    scanDict(buf, { maxBytes: LIMITS.torrentBytes, maxNodes: LIMITS.nodes, maxDepth: LIMITS.depth + 4, maxItems: LIMITS.files * 2 }, (k, start, end) => {
      if (k === 'info') {
        found.info = buf.subarray(start, end)
        if (opts.infohash && !matches(found.info, opts.infohash)) throw bad('the torrent does not match the infohash asked for; it was refused')
      } else if (k === key('piece layers')) {
        found.layers = [start, end]
      } else if (extras && EXTRA_KEYS.has(k)) {
        extras.set(k, [start, end])
      }
    }, OUTER)
  } catch (err) {
    if (err instanceof BencodeError) throw bad(`the torrent is not valid bencode (${err.message}); it was refused`)
    throw err
  }
  if (!found.info) throw bad('the torrent has no info dictionary; it was refused')
  const meta = parseInfo(found.info)
  if (meta.version === 'v1' && !opts.v1) {
    throw bad('the torrent is BitTorrent v1 only (no v2 file tree); Chrysalis cannot fetch v1 torrents yet (`chrysalis torrent show` displays it)')
  }
  if (meta.version !== 'v1') readLayers(buf, found.layers, meta, opts)
  return meta
}

/** BEP 52 piece layers: checked as libtorrent does, then each against its file's pieces root. */
function readLayers(buf: Buffer, span: [number, number] | null, meta: Metainfo, opts: ParseOptions): void {
  let layers: BValue = new Map<string, BValue>()
  if (span) {
    try {
      layers = decode(buf.subarray(span[0], span[1]), { limits: { maxDepth: 1, maxItems: LIMITS.files, maxNodes: 2 * LIMITS.files + 1 }, rules: OUTER }).value
    } catch (err) {
      if (err instanceof BencodeError) throw bad(`the torrent's piece layers are not a dictionary of layers (${err.message}); it was refused`)
      throw err
    }
  }
  if (!(layers instanceof Map)) throw bad('the torrent\'s piece layers are not a dictionary; it was refused')
  for (const [k, v] of layers) {
    if (Buffer.from(k, 'latin1').length !== HASH || !Buffer.isBuffer(v) || v.length % HASH !== 0) {
      throw bad('the torrent\'s piece layers hold an entry that is not a 32-byte root and a list of 32-byte hashes; it was refused')
    }
  }
  for (const f of meta.files) {
    if (!f.piecesRoot || f.pieceCount <= 1) continue
    const raw = layers.get(key(f.piecesRoot))
    if (raw === undefined) {
      if (opts.requireLayers === false) continue
      throw bad(`the torrent lacks the piece layer of ${f.path.join('/')}; it was refused`)
    }
    if (!Buffer.isBuffer(raw) || raw.length !== f.pieceCount * HASH) throw bad(`the piece layer of ${f.path.join('/')} has the wrong size; it was refused`)
    const layer = splitLayer(Buffer.from(raw))
    if (!rootFromLayer(layer, meta.pieceLength).equals(f.piecesRoot)) {
      if (opts.badLayer === 'drop') continue // unverifiable: peers will send a layer that matches
      throw bad(`the piece layer of ${f.path.join('/')} does not match its pieces root; it was refused`)
    }
    meta.layers.set(f.piecesRoot.toString('hex'), layer)
  }
}

/** An infohash asked for: 32 bytes is BEP 52's SHA-256, 20 bytes the v1 SHA-1. */
function matches(info: Buffer, infohash: Uint8Array): boolean {
  const algorithm = infohash.byteLength === 20 ? 'sha1' : 'sha256'
  return crypto.hash(algorithm, info, 'buffer').equals(infohash)
}

const INFO_KEYS = new Set(['file tree', 'meta version', 'name', 'name.utf-8', 'piece length', 'pieces', 'files', 'length'].map(key))

/** Parse and check an info dictionary's exact bytes: v1, v2 or hybrid. */
export function parseInfo(info: Buffer): Metainfo {
  if (info[0] !== 0x64) throw bad('the torrent\'s info is not a dictionary; it was refused')
  // Only the keys read below are built; the rest (anything unknown) is checked in place, so
  // values nobody reads cost no memory. Keys in any order at first: a v1 info need not be
  // canonical (its bytes are hashed as they are); a v2 one must be, and is checked again below.
  const d: BDict = new Map()
  const limits = { maxBytes: LIMITS.torrentBytes, maxNodes: LIMITS.nodes, maxDepth: LIMITS.depth + 2, maxItems: LIMITS.files }
  try {
    scanDict(info, limits, (k, start, end) => {
      if (INFO_KEYS.has(k)) d.set(k, decode(info.subarray(start, end), { limits, rules: { anyOrder: true } }).value)
    }, { anyOrder: true })
    if (d.has('meta version')) scanDict(info, limits, () => {})
  } catch (err) {
    if (err instanceof BencodeError) throw bad(`the torrent's info is not valid bencode (${err.message}); it was refused`)
    throw err
  }
  const version = d.get('meta version')
  if (version !== undefined && version !== 2) throw bad(`the torrent has meta version ${typeof version === 'number' ? version : '?'}, not 2 (BEP 52); it was refused`)
  const v2 = version === 2
  const pieceLength = d.get('piece length')
  if (v2) {
    if (typeof pieceLength !== 'number' || pieceLength < LIMITS.minPieceLength || pieceLength > LIMITS.maxPieceLength || (pieceLength & (pieceLength - 1)) !== 0) {
      throw bad(`the torrent's piece length is not a power of two from ${LIMITS.minPieceLength} to ${LIMITS.maxPieceLength}; it was refused`)
    }
  } else if (typeof pieceLength !== 'number' || pieceLength < 1 || pieceLength > LIMITS.maxPieceLengthV1) {
    throw bad(`the torrent's piece length is not a number from 1 to ${LIMITS.maxPieceLengthV1}; it was refused`)
  }
  const rawName = d.get(key('name.utf-8')) ?? d.get('name')
  if (!Buffer.isBuffer(rawName)) throw bad('the torrent has no name; it was refused')
  const name = checkComponent(rawName, 'the torrent')
  const v1 = d.has('pieces') || !v2 ? parseV1(d, name, pieceLength) : null
  const infohashV1 = v1 ? crypto.hash('sha1', info, 'buffer') : null
  const infohashV2 = v2 ? crypto.hash('sha256', info, 'buffer') : null
  const base = { name, pieceLength, info: Buffer.from(info), infohashV1, infohashV2, v1: v1?.layout ?? null, layers: new Map<string, Buffer[]>() }
  if (!v2) {
    checkPieces(d, v1!.layout)
    const files = v1!.layout.files.filter((f) => !f.pad).map((f) => v1File(f, pieceLength))
    return checked({ ...base, version: 'v1', multi: v1!.multi, files, totalLength: files.reduce((n, f) => n + f.length, 0), pieceCount: v1!.layout.pieceCount, infohash: infohashV1! })
  }
  const tree = d.get('file tree')
  if (!(tree instanceof Map) || tree.size === 0) throw bad('the torrent has no file tree; it was refused')
  const { files, total, pieces } = walkTree(tree, pieceLength)
  // A single file: the tree is { name: { "": … } } and no v1 file list. Anything else is a
  // directory named `name` (libtorrent's rule).
  const multi = !(files.length === 1 && files[0]!.path.length === 1 && tree.size === 1 && !d.has('files'))
  if (v1) {
    checkHybrid(files, multi, v1, pieceLength)
    checkPieces(d, v1.layout)
    if (v1.layout.pieceCount !== pieces) throw bad('the torrent\'s v1 and v2 file metadata do not match (piece counts differ); it was refused')
  }
  return checked({ ...base, version: v1 ? 'hybrid' : 'v2', multi, files, totalLength: total, pieceCount: pieces, infohash: infohashV2! })
}

function v1File(f: { path: string[]; length: number; offset: number; symlink: string[] | null; executable: boolean }, pieceLength: number): TorrentFile {
  const firstPiece = Math.floor(f.offset / pieceLength)
  const file: TorrentFile = { path: f.path, length: f.length, piecesRoot: null, firstPiece, pieceCount: f.length > 0 ? Math.ceil((f.offset + f.length) / pieceLength) - firstPiece : 0 }
  if (f.symlink) file.symlink = f.symlink
  if (f.executable) file.executable = true
  return file
}

/** The BEP 52 file tree, depth first in its (byte-sorted) key order. */
function walkTree(tree: BDict, pieceLength: number): { files: TorrentFile[]; total: number; pieces: number } {
  const files: TorrentFile[] = []
  let total = 0
  let pieces = 0
  const walk = (dir: BDict, path: string[]): void => {
    if (path.length > LIMITS.depth) throw bad(`the torrent nests directories deeper than ${LIMITS.depth}; it was refused`)
    for (const [k, v] of dir) {
      const part = checkComponent(Buffer.from(k, 'latin1'), `a path in the torrent (${[...path, '…'].join('/')})`)
      if (!(v instanceof Map)) throw bad(`the torrent's entry ${[...path, part].join('/')} is not a dictionary; it was refused`)
      const here = [...path, part]
      const leaf = v.get('')
      if (leaf === undefined) {
        if (v.size === 0) throw bad(`the torrent's directory ${here.join('/')} is empty; it was refused`)
        walk(v, here)
        continue
      }
      if (v.size !== 1 || !(leaf instanceof Map)) throw bad(`the torrent's entry ${here.join('/')} is both a file and a directory; it was refused`)
      const attr = attrOf(leaf.get('attr'))
      if (attr.pad) throw bad(`the torrent's file ${here.join('/')} is marked as a pad file, which v2 has none of; it was refused`)
      const target = attr.symlink ? leaf.get(key('symlink path')) : undefined
      const symlink = Array.isArray(target) ? target.map((c) => (Buffer.isBuffer(c) ? checkComponent(c, `the symlink target of ${here.join('/')}`) : '')) : null
      if (symlink?.some((c) => c === '') || (target !== undefined && !Array.isArray(target))) throw bad(`the torrent's symlink ${here.join('/')} has a target that is not a list of names; it was refused`)
      const length = attr.symlink ? 0 : checkLength(leaf.get('length'), `the torrent's file ${here.join('/')}`)
      const root = leaf.get(key('pieces root'))
      if (length > 0 && (!Buffer.isBuffer(root) || root.length !== HASH)) throw bad(`the torrent's file ${here.join('/')} has no valid pieces root; it was refused`)
      if (length > 0 && (root as Buffer).every((b) => b === 0)) throw bad(`the torrent's file ${here.join('/')} has an all-zero pieces root, which no data hashes to; it was refused`)
      if (length === 0 && root !== undefined && !attr.symlink) throw bad(`the torrent's empty file ${here.join('/')} has a pieces root; it was refused`)
      const count = Math.ceil(length / pieceLength)
      const file: TorrentFile = { path: here, length, piecesRoot: length > 0 ? Buffer.from(root as Buffer) : null, firstPiece: pieces, pieceCount: count }
      if (symlink) file.symlink = symlink
      if (attr.executable) file.executable = true
      files.push(file)
      total += length
      pieces += count
      if (files.length > LIMITS.files) throw bad(`the torrent has more than ${LIMITS.files} files; it was refused`)
      if (total > LIMITS.totalLength) throw bad(`the torrent is larger than ${LIMITS.totalLength} bytes; it was refused`)
      if (pieces > LIMITS.pieces) throw bad(`the torrent has more than ${LIMITS.pieces} pieces; it was refused`)
    }
  }
  walk(tree, [])
  if (total === 0) throw bad('the torrent holds no data (only empty files); it was refused')
  return { files, total, pieces }
}

/** Where a torrent's file lives relative to the download directory. */
export function filePath(meta: Metainfo, file: TorrentFile): string[] {
  return meta.multi ? [meta.name, ...file.path] : file.path
}

/** The expected hash of a piece (torrent-wide index), or null when its layer is unknown. */
export function expectedHash(meta: Metainfo, piece: number): { hash: Buffer; file: TorrentFile; local: number } | null {
  const file = fileOfPiece(meta, piece)
  const local = piece - file.firstPiece
  if (file.pieceCount === 1) return { hash: file.piecesRoot!, file, local }
  const layer = meta.layers.get(file.piecesRoot!.toString('hex'))
  return layer ? { hash: layer[local]!, file, local } : null
}

export function fileOfPiece(meta: Metainfo, piece: number): TorrentFile {
  // The last file starting at or before the piece, then past empty files (they own no pieces).
  let i = lastAtOrBefore(meta.files.length, (k) => meta.files[k]!.firstPiece, piece)
  while (meta.files[i]!.pieceCount === 0 || piece >= meta.files[i]!.firstPiece + meta.files[i]!.pieceCount) i++
  return meta.files[i]!
}

/** Byte size of a piece (the last piece of a file may be short). */
export function pieceSize(meta: Metainfo, piece: number): number {
  const file = fileOfPiece(meta, piece)
  const local = piece - file.firstPiece
  return Math.min(meta.pieceLength, file.length - local * meta.pieceLength)
}

/** Width of the merkle subtree a piece is checked against. */
export function pieceWidth(meta: Metainfo, file: TorrentFile): number {
  return file.pieceCount === 1 ? nextPow2(Math.ceil(file.length / BLOCK)) : meta.pieceLength / BLOCK
}
