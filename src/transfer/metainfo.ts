import crypto from 'node:crypto'
import { ChrysalisError } from '../errors.js'
import { BencodeError, decode, encode, key, scanDict, type BDict, type BValue } from './bencode.js'
import { BLOCK, HASH, nextPow2, rootFromLayer, splitLayer } from './merkle.js'

/**
 * BEP 52 metainfo (v2, and hybrid v1+v2 in libtorrent 2.0.8's layout), built from hashes and
 * parsed from untrusted bytes. Layouts, limits and the piece-length rule: protocol.md §12.
 *
 *   const meta = buildMetainfo({ name: 'kaypro.pdf', multi: false, pieceLength, files })
 *   const again = parseTorrent(torrentBytes(meta), { infohash: meta.infohash })
 */
export const LIMITS = {
  /** The whole .torrent (info and piece layers). */
  torrentBytes: 12 * 1024 * 1024,
  /**
   * Bencode values and keys in the whole .torrent: what bounds the memory and time of a parse
   * (twelve MiB of empty dictionaries would otherwise be six million Maps).
   */
  nodes: 1_000_000,
  files: 100_000,
  depth: 32,
  componentBytes: 255,
  minPieceLength: BLOCK,
  maxPieceLength: 16 * 1024 * 1024,
  totalLength: 2 ** 44, // 16 TiB
  pieces: 2 ** 20
} as const

export interface TorrentFile {
  /** Path components inside the torrent (a single-file torrent: [name]). */
  path: string[]
  length: number
  /** Null for empty files. */
  piecesRoot: Buffer | null
  /** Index of the file's first piece in the torrent-wide numbering (files start on a piece). */
  firstPiece: number
  pieceCount: number
}

export interface Metainfo {
  name: string
  /** A directory torrent: files live under `name/`. */
  multi: boolean
  pieceLength: number
  files: TorrentFile[]
  totalLength: number
  pieceCount: number
  /** The info dictionary's exact bytes. */
  info: Buffer
  /** SHA-256 of `info` (BEP 52); the torrent's address. */
  infohash: Buffer
  /** SHA-1 of `info` when the torrent is hybrid. */
  infohashV1: Buffer | null
  /** pieces root (hex) → piece layer, for files larger than one piece. */
  layers: Map<string, Buffer[]>
}

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

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf-8')

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
  const layers: BDict = new Map()
  for (const [root, layer] of meta.layers) layers.set(key(Buffer.from(root, 'hex')), Buffer.concat(layer))
  const top: BDict = new Map<string, BValue>([
    ['created by', utf8('chrysalis')],
    ['info', decode(meta.info).value],
    ['piece layers', layers]
  ])
  return encode(top)
}

export function magnetOf(meta: Metainfo): string {
  const xt = [`xt=urn:btmh:1220${meta.infohash.toString('hex')}`]
  if (meta.infohashV1) xt.push(`xt=urn:btih:${meta.infohashV1.toString('hex')}`)
  return `magnet:?${xt.join('&')}&dn=${encodeURIComponent(meta.name)}`
}

function bad(message: string): ChrysalisError {
  return new ChrysalisError('BAD_TORRENT', message)
}

/**
 * Parse a .torrent from anyone. Everything is checked before it is used: canonical bencode,
 * BEP 52 structure, safe path components, bounded sizes and counts, and every piece layer
 * against its pieces root. With `infohash`, the info must hash to it.
 */
export function parseTorrent(bytes: Uint8Array, opts: { infohash?: Uint8Array; requireLayers?: boolean } = {}): Metainfo {
  if (bytes.byteLength > LIMITS.torrentBytes) throw bad(`the torrent is ${bytes.byteLength} bytes, above the ${LIMITS.torrentBytes}-byte limit; it was refused`)
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // One pass that builds nothing: check the whole file's structure within the bounds, hash the
  // info bytes (and compare) as soon as they have been passed, and note where the piece layers
  // are. Only then is anything decoded, and only those two values.
  const found: { info: Buffer | null; layers: [number, number] | null } = { info: null, layers: null }
  try {
    scanDict(buf, { maxBytes: LIMITS.torrentBytes, maxNodes: LIMITS.nodes, maxDepth: LIMITS.depth + 4, maxItems: LIMITS.files * 2 }, (k, start, end) => {
      if (k === 'info') {
        found.info = buf.subarray(start, end)
        if (opts.infohash && !matches(found.info, opts.infohash)) throw bad('the torrent does not match the infohash asked for; it was refused')
      } else if (k === key('piece layers')) {
        found.layers = [start, end]
      }
    })
  } catch (err) {
    if (err instanceof BencodeError) throw bad(`the torrent is not valid bencode (${err.message}); it was refused`)
    throw err
  }
  if (!found.info) throw bad('the torrent has no info dictionary; it was refused')
  const meta = parseInfo(found.info)
  let layers: BValue = new Map<string, BValue>()
  if (found.layers) {
    const [start, end] = found.layers
    try {
      layers = decode(buf.subarray(start, end), { limits: { maxDepth: 1, maxItems: meta.files.length, maxNodes: 2 * meta.files.length + 1 } }).value
    } catch (err) {
      if (err instanceof BencodeError) throw bad(`the torrent's piece layers are not a dictionary of one layer per file (${err.message}); it was refused`)
      throw err
    }
  }
  if (!(layers instanceof Map)) throw bad('the torrent\'s piece layers are not a dictionary; it was refused')
  for (const f of meta.files) {
    if (!f.piecesRoot || f.pieceCount <= 1) continue
    const raw = layers.get(key(f.piecesRoot))
    if (raw === undefined) {
      if (opts.requireLayers === false) continue
      throw bad(`the torrent lacks the piece layer of ${f.path.join('/')}; it was refused`)
    }
    if (!Buffer.isBuffer(raw) || raw.length !== f.pieceCount * HASH) throw bad(`the piece layer of ${f.path.join('/')} has the wrong size; it was refused`)
    const layer = splitLayer(Buffer.from(raw))
    if (!rootFromLayer(layer, meta.pieceLength).equals(f.piecesRoot)) throw bad(`the piece layer of ${f.path.join('/')} does not match its pieces root; it was refused`)
    meta.layers.set(f.piecesRoot.toString('hex'), layer)
  }
  return meta
}

/** An infohash asked for: 32 bytes is BEP 52's SHA-256, 20 bytes a hybrid's v1 SHA-1. */
function matches(info: Buffer, infohash: Uint8Array): boolean {
  const algorithm = infohash.byteLength === 20 ? 'sha1' : 'sha256'
  return crypto.hash(algorithm, info, 'buffer').equals(infohash)
}

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i

/** A path component safe to create on any common filesystem, or a clear refusal. */
export function checkComponent(raw: Buffer | string, where: string): string {
  const bytes = typeof raw === 'string' ? utf8(raw) : raw
  const text: string = bytes.toString('utf-8')
  const why =
    bytes.length === 0 ? 'an empty name'
    : !utf8(text).equals(bytes) ? 'a name that is not UTF-8'
    : bytes.length > LIMITS.componentBytes ? `a name longer than ${LIMITS.componentBytes} bytes`
    : text === '.' || text === '..' ? `the name "${text}"`
    : /[/\\]|\p{Cc}/u.test(text) ? `the name ${JSON.stringify(text)} (slash, backslash or control character)`
    : RESERVED.test(text) ? `the reserved name "${text}"`
    : null
  if (why) throw bad(`${where} has ${why}; it was refused`)
  return text
}

const INFO_KEYS = new Set(['file tree', 'meta version', 'name', 'piece length', 'pieces'])

/** Parse and check an info dictionary's exact bytes. */
export function parseInfo(info: Buffer): Metainfo {
  if (info[0] !== 0x64) throw bad('the torrent\'s info is not a dictionary; it was refused')
  // Only the keys read below are built; the rest (a hybrid's v1 file list, anything unknown) is
  // checked in place, so values nobody reads cost no memory.
  const d: BDict = new Map()
  const limits = { maxBytes: LIMITS.torrentBytes, maxNodes: LIMITS.nodes, maxDepth: LIMITS.depth + 2, maxItems: LIMITS.files }
  try {
    scanDict(info, limits, (k, start, end) => {
      if (INFO_KEYS.has(k)) d.set(k, decode(info.subarray(start, end), { limits }).value)
    })
  } catch (err) {
    if (err instanceof BencodeError) throw bad(`the torrent's info is not valid bencode (${err.message}); it was refused`)
    throw err
  }
  if (d.get('meta version') !== 2) throw bad('the torrent is not BitTorrent v2 (meta version 2); it was refused')
  const pieceLength = d.get('piece length')
  if (typeof pieceLength !== 'number' || pieceLength < LIMITS.minPieceLength || pieceLength > LIMITS.maxPieceLength || (pieceLength & (pieceLength - 1)) !== 0) {
    throw bad(`the torrent's piece length is not a power of two from ${LIMITS.minPieceLength} to ${LIMITS.maxPieceLength}; it was refused`)
  }
  const rawName = d.get('name')
  if (!Buffer.isBuffer(rawName)) throw bad('the torrent has no name; it was refused')
  const name = checkComponent(rawName, 'the torrent')
  const tree = d.get('file tree')
  if (!(tree instanceof Map) || tree.size === 0) throw bad('the torrent has no file tree; it was refused')

  const files: TorrentFile[] = []
  let total = 0
  let pieces = 0
  const walk = (dir: BDict, path: string[]): void => {
    if (path.length > LIMITS.depth) throw bad(`the torrent nests directories deeper than ${LIMITS.depth}; it was refused`)
    // Map iteration follows the decoder's order, which it checked is byte-sorted.
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
      const length = leaf.get('length')
      if (typeof length !== 'number' || length < 0 || length > LIMITS.totalLength) throw bad(`the torrent's file ${here.join('/')} has an absurd length; it was refused`)
      const root = leaf.get(key('pieces root'))
      if (length > 0 && (!Buffer.isBuffer(root) || root.length !== HASH)) throw bad(`the torrent's file ${here.join('/')} has no valid pieces root; it was refused`)
      if (length === 0 && root !== undefined) throw bad(`the torrent's empty file ${here.join('/')} has a pieces root; it was refused`)
      const count = Math.ceil(length / pieceLength)
      files.push({ path: here, length, piecesRoot: length > 0 ? Buffer.from(root as Buffer) : null, firstPiece: pieces, pieceCount: count })
      total += length
      pieces += count
      if (files.length > LIMITS.files) throw bad(`the torrent has more than ${LIMITS.files} files; it was refused`)
      if (total > LIMITS.totalLength) throw bad(`the torrent is larger than ${LIMITS.totalLength} bytes; it was refused`)
      if (pieces > LIMITS.pieces) throw bad(`the torrent has more than ${LIMITS.pieces} pieces; it was refused`)
    }
  }
  walk(tree, [])
  if (total === 0) throw bad('the torrent holds no data (only empty files); it was refused')
  // A single file: the tree is { name: { "": … } }. Anything else is a directory named `name`.
  const multi = !(files.length === 1 && files[0]!.path.length === 1 && tree.size === 1)
  const hybrid = d.has('pieces')
  const piecesV1 = d.get('pieces')
  if (hybrid && (!Buffer.isBuffer(piecesV1) || piecesV1.length % 20 !== 0)) throw bad('the torrent\'s v1 piece hashes are malformed; it was refused')
  return {
    name,
    multi,
    pieceLength,
    files,
    totalLength: total,
    pieceCount: pieces,
    info: Buffer.from(info),
    infohash: crypto.hash('sha256', info, 'buffer'),
    infohashV1: hybrid ? crypto.hash('sha1', info, 'buffer') : null,
    layers: new Map()
  }
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
  let lo = 0
  let hi = meta.files.length - 1
  // Binary search over first pieces; empty files own no pieces.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (meta.files[mid]!.firstPiece <= piece) lo = mid
    else hi = mid - 1
  }
  let i = lo
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

/** Parse `magnet:?xt=urn:btmh:1220…`, a bare 64-hex infohash, or null if it is neither. */
export function parseMagnet(input: string): { infohash: Buffer; name: string | null } | null {
  if (/^[0-9a-f]{64}$/i.test(input)) return { infohash: Buffer.from(input, 'hex'), name: null }
  if (!input.startsWith('magnet:?')) return null
  const params = new URLSearchParams(input.slice('magnet:?'.length))
  for (const xt of params.getAll('xt')) {
    const m = /^urn:btmh:1220([0-9a-f]{64})$/i.exec(xt)
    if (m) return { infohash: Buffer.from(m[1]!, 'hex'), name: params.get('dn') }
  }
  throw new ChrysalisError('BAD_INPUT', 'the magnet link has no BitTorrent v2 infohash (xt=urn:btmh:1220…); v1-only magnets cannot be fetched')
}
