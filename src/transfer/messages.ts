import { DecodeError, Reader, Writer } from '../feeds/wire.js'
import { LIMITS } from './metainfo.js'

/**
 * Messages of the piece-exchange channel `chrysalis/torrent/v1` (protocol.md §13): one protomux
 * channel per torrent per connection, its id the 32-byte v2 infohash. Every message starts with
 * a version; decoders throw DecodeError and the caller drops the channel.
 */
export const TORRENT_PROTOCOL = 'chrysalis/torrent/v1'
export const VERSION = 1
/** Largest request: a piece is asked for in chunks of at most this many bytes. */
export const MAX_CHUNK = 256 * 1024

/** Handshake: what the sender has. `pieces` is 0 while it lacks the metadata. */
export interface TorrentHello {
  /** Sender can answer metadata requests. */
  hasMetadata: boolean
  /** Bit i (most significant bit first) set = the sender has piece i. */
  bitfield: Buffer
}

export interface ChunkRef {
  piece: number
  offset: number
  length: number
}

export const Msg = {
  have: 0,
  bitfield: 1,
  interested: 2,
  choke: 3,
  request: 4,
  data: 5,
  reject: 6,
  cancel: 7,
  metadataRequest: 8,
  metadata: 9
} as const

const MAX_BITFIELD = LIMITS.pieces / 8

export function encodeHello(h: TorrentHello): Buffer {
  return new Writer().uint(VERSION).uint(h.hasMetadata ? 1 : 0).uint(h.bitfield.length).fixed(h.bitfield, h.bitfield.length).finish()
}

export function decodeHello(bytes: Uint8Array): TorrentHello {
  const r = reader(bytes)
  const flags = r.uint(1)
  const bitfield = r.fixed(r.uint(MAX_BITFIELD))
  r.end(false)
  return { hasMetadata: (flags & 1) === 1, bitfield }
}

export const encodeUint = (n: number): Buffer => new Writer().uint(VERSION).uint(n).finish()

export function decodeUint(bytes: Uint8Array, max: number): number {
  const r = reader(bytes)
  const n = r.uint(max)
  r.end(false)
  return n
}

export const encodeBitfield = (bits: Buffer): Buffer => new Writer().uint(VERSION).uint(bits.length).fixed(bits, bits.length).finish()

export function decodeBitfield(bytes: Uint8Array): Buffer {
  const r = reader(bytes)
  const bits = r.fixed(r.uint(MAX_BITFIELD))
  r.end(false)
  return bits
}

export const encodeChunk = (c: ChunkRef): Buffer => new Writer().uint(VERSION).uint(c.piece).uint(c.offset).uint(c.length).finish()

export function decodeChunk(bytes: Uint8Array): ChunkRef {
  const r = reader(bytes)
  const piece = r.uint(LIMITS.pieces)
  const offset = r.uint(LIMITS.maxPieceLength)
  const length = r.uint(MAX_CHUNK)
  r.end(false)
  if (length === 0) throw new DecodeError('a chunk of zero bytes')
  return { piece, offset, length }
}

/** Piece data: header, then the bytes to the end of the message. */
export function encodeData(piece: number, offset: number, data: Uint8Array): Buffer {
  const head = new Writer().uint(VERSION).uint(piece).uint(offset).finish()
  return Buffer.concat([head, data], head.length + data.byteLength)
}

export function decodeData(bytes: Uint8Array): { piece: number; offset: number; data: Buffer } {
  const r = reader(bytes)
  const piece = r.uint(LIMITS.pieces)
  const offset = r.uint(LIMITS.maxPieceLength)
  const data = Buffer.from(bytes.buffer, bytes.byteOffset + r.offset, bytes.byteLength - r.offset)
  if (data.length === 0 || data.length > MAX_CHUNK) throw new DecodeError(`a data message of ${data.length} bytes`)
  return { piece, offset, data }
}

/** The whole .torrent (info and piece layers), or nothing when the sender lacks it. */
export function encodeMetadata(torrent: Buffer | null): Buffer {
  const w = new Writer().uint(VERSION)
  if (torrent) w.uint(1).uint(torrent.length).fixed(torrent, torrent.length)
  else w.uint(0)
  return w.finish()
}

export function decodeMetadata(bytes: Uint8Array): Buffer | null {
  const r = reader(bytes)
  if (r.uint(1) === 0) {
    r.end(false)
    return null
  }
  const out = r.fixed(r.uint(LIMITS.torrentBytes))
  r.end(false)
  return out
}

export const encodeEmpty = (): Buffer => new Writer().uint(VERSION).finish()

export function decodeEmpty(bytes: Uint8Array): void {
  reader(bytes).end(false)
}

function reader(bytes: Uint8Array): Reader {
  const r = new Reader(bytes)
  if (r.uint() !== VERSION) throw new DecodeError('unknown torrent message version')
  return r
}
