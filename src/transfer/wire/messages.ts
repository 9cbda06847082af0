import { LIMITS as META_LIMITS } from '../metainfo.js'
import { WireError } from './errors.js'

/**
 * The BitTorrent peer wire codec (protocol.md §15 "Peer wire"): the handshake (BEP 3), every message of
 * BEP 3, BEP 6 (fast), BEP 10 (extension protocol), BEP 9 (ut_metadata) and BEP 52 (hash
 * request / hashes / hash reject). Decoding is strict: each id has an exact length (or a bound
 * computed from the torrent), every field is range-checked, and a violation throws a WireError
 * the connection dies of. Payloads are views into the input, never copies.
 *
 *   const frame = encode({ type: 'request', index: 3, begin: 16384, length: 16384 })
 *   const msg = decodeMessage(frame.subarray(4), { pieceCount: 64 })
 */
export const BLOCK = 16 * 1024
export const PROTOCOL = 'BitTorrent protocol'
export const HANDSHAKE_BYTES = 68

export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  extended: 20,
  hashRequest: 21,
  hashes: 22,
  hashReject: 23
} as const

/** Named bounds of the wire (protocol.md §15 "Peer wire"). Frame lengths count the id byte. */
export const LIMITS = {
  /** Largest block a request may ask for or a piece carry (BEP 3: 2^14). */
  block: BLOCK,
  /** Most pieces in a torrent (as metainfo), so the largest bitfield is 2^17 bytes. */
  pieces: META_LIMITS.pieces,
  /** Largest extended message after its extension id (a ut_metadata piece is 16 KiB + its dict). */
  extendedBytes: 32 * 1024,
  /** Most hashes one hash request may ask for (libtorrent's validate_hash_request). */
  hashCount: 8192,
  /** Most proof layers: a 16 TiB file has 2^30 blocks, so 30 layers above the leaves. */
  proofLayers: 32,
  /** Largest message of an id we do not know, ignored after it is read. */
  unknownBytes: 32 * 1024,
  /** BEP 9 metadata: the info dictionary, as large as a whole .torrent may be. */
  metadataBytes: META_LIMITS.torrentBytes,
  /** BEP 9: metadata travels in pieces of 16 KiB. */
  metadataPiece: 16 * 1024,
  /** Longest client name (`v`) kept from an extended handshake. */
  clientName: 256,
  /** Most extensions named in an extended handshake's `m`. */
  extensions: 64
} as const

/** The largest frame of any id: a `hashes` reply of 8192 hashes and every uncle. */
export const MAX_FRAME = 49 + 32 * (LIMITS.hashCount + LIMITS.proofLayers + 1)

export interface Handshake {
  reserved: Buffer
  infohash: Buffer
  peerId: Buffer
}

export interface Capabilities {
  /** BEP 10, reserved[5] & 0x10. */
  extended: boolean
  /** BEP 6, reserved[7] & 0x04. */
  fast: boolean
  /** BEP 5 port message, reserved[7] & 0x01. */
  dht: boolean
  /** BEP 52 upgrade bit, reserved[7] & 0x10. */
  v2: boolean
}

export interface BlockRef {
  index: number
  begin: number
  length: number
}

export interface HashRef {
  /** The file's 32-byte pieces root. */
  root: Buffer
  base: number
  index: number
  count: number
  proofLayers: number
}

export type Message =
  | { type: 'keepAlive' }
  | { type: 'choke' | 'unchoke' | 'interested' | 'notInterested' | 'haveAll' | 'haveNone' }
  | { type: 'have' | 'suggest' | 'allowedFast'; index: number }
  | { type: 'bitfield'; bits: Buffer }
  | ({ type: 'request' | 'cancel' | 'reject' } & BlockRef)
  | { type: 'piece'; index: number; begin: number; block: Buffer }
  | { type: 'port'; port: number }
  | { type: 'extended'; ext: number; payload: Buffer }
  | ({ type: 'hashRequest' | 'hashReject' } & HashRef)
  | ({ type: 'hashes'; hashes: Buffer } & HashRef)
  | { type: 'unknown'; id: number; payload: Buffer }

export type MessageType = Message['type']

/** The message of one type (`MessageOf<'request'>` has index, begin and length). */
export type MessageOf<T extends MessageType> = Message & { type: T }

/** What the decoder knows of the torrent: null before the metadata arrives (a magnet). */
export interface DecodeContext {
  pieceCount: number | null
}

// ---------------------------------------------------------------------------------------------
// Handshake

export function reservedBytes(caps: Partial<Capabilities>): Buffer {
  const r = Buffer.alloc(8)
  if (caps.extended) r[5]! |= 0x10
  if (caps.fast) r[7]! |= 0x04
  if (caps.dht) r[7]! |= 0x01
  if (caps.v2) r[7]! |= 0x10
  return r
}

export function capabilities(reserved: Uint8Array): Capabilities {
  return {
    extended: (reserved[5]! & 0x10) !== 0,
    fast: (reserved[7]! & 0x04) !== 0,
    dht: (reserved[7]! & 0x01) !== 0,
    v2: (reserved[7]! & 0x10) !== 0
  }
}

export function encodeHandshake(h: Handshake): Buffer {
  if (h.reserved.length !== 8 || h.infohash.length !== 20 || h.peerId.length !== 20) throw new RangeError('a handshake needs 8 reserved bytes, a 20-byte infohash and a 20-byte peer id')
  const out = Buffer.allocUnsafe(HANDSHAKE_BYTES)
  out[0] = 19
  out.write(PROTOCOL, 1, 'latin1')
  h.reserved.copy(out, 20)
  h.infohash.copy(out, 28)
  h.peerId.copy(out, 48)
  return out
}

/** Checks the first 20 bytes (as soon as they arrive, so a stranger is dropped early). */
export function checkProtocol(bytes: Uint8Array): void {
  if (bytes[0] !== 19 || Buffer.from(bytes.buffer, bytes.byteOffset + 1, 19).toString('latin1') !== PROTOCOL) {
    throw new WireError('BAD_HANDSHAKE', 'the peer does not speak BitTorrent (no "BitTorrent protocol" handshake)')
  }
}

export function decodeHandshake(bytes: Buffer): Handshake {
  if (bytes.length !== HANDSHAKE_BYTES) throw new WireError('BAD_HANDSHAKE', `a handshake is ${HANDSHAKE_BYTES} bytes, not ${bytes.length}`)
  checkProtocol(bytes)
  return { reserved: bytes.subarray(20, 28), infohash: bytes.subarray(28, 48), peerId: bytes.subarray(48, 68) }
}

// ---------------------------------------------------------------------------------------------
// Lengths

/**
 * Largest frame length (id byte included) a message with this id may have, known from its first
 * byte: the framer refuses a longer frame before buffering its payload.
 */
export function maxFrame(id: number, ctx: DecodeContext): number {
  switch (id) {
    case MessageId.choke:
    case MessageId.unchoke:
    case MessageId.interested:
    case MessageId.notInterested:
    case MessageId.haveAll:
    case MessageId.haveNone:
      return 1
    case MessageId.have:
    case MessageId.suggest:
    case MessageId.allowedFast:
      return 5
    case MessageId.bitfield:
      return 1 + (ctx.pieceCount === null ? LIMITS.pieces / 8 : Math.ceil(ctx.pieceCount / 8))
    case MessageId.request:
    case MessageId.cancel:
    case MessageId.reject:
      return 13
    case MessageId.piece:
      return 9 + LIMITS.block
    case MessageId.port:
      return 3
    case MessageId.extended:
      return 2 + LIMITS.extendedBytes
    case MessageId.hashRequest:
    case MessageId.hashReject:
      return 49
    case MessageId.hashes:
      return MAX_FRAME
    default:
      return 1 + LIMITS.unknownBytes
  }
}

/**
 * Uncle hashes a `hashes` reply carries after the `count` requested ones, as libtorrent 2.0.8
 * computes them (merkle_tree::get_hashes): the proof layers above the subtree the requested
 * hashes span, minus that subtree's own layers but one.
 */
export function uncleCount(count: number, proofLayers: number): number {
  const spanned = 31 - Math.clz32(nextPow2(count))
  return Math.max(0, proofLayers - Math.max(0, spanned - 1))
}

function nextPow2(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

// ---------------------------------------------------------------------------------------------
// Decoding

function bad(what: string): WireError {
  return new WireError('BAD_MESSAGE', what)
}

function exact(payload: Buffer, n: number, name: string): void {
  if (payload.length !== n) throw bad(`a ${name} message has ${n} bytes after its id, not ${payload.length}`)
}

function index(v: number, ctx: DecodeContext, name: string): number {
  if (ctx.pieceCount !== null && v >= ctx.pieceCount) throw bad(`${name} of piece ${v}, past the last piece ${ctx.pieceCount - 1}`)
  return v
}

/**
 * One message from its id and payload (the bytes after the id; `id` -1 is a keep-alive). The
 * returned buffers are views into `payload`.
 */
export function decodeMessage(id: number, payload: Buffer, ctx: DecodeContext): Message {
  switch (id) {
    case -1:
      return { type: 'keepAlive' }
    case MessageId.choke:
      return exact(payload, 0, 'choke'), { type: 'choke' }
    case MessageId.unchoke:
      return exact(payload, 0, 'unchoke'), { type: 'unchoke' }
    case MessageId.interested:
      return exact(payload, 0, 'interested'), { type: 'interested' }
    case MessageId.notInterested:
      return exact(payload, 0, 'not interested'), { type: 'notInterested' }
    case MessageId.haveAll:
      return exact(payload, 0, 'have all'), { type: 'haveAll' }
    case MessageId.haveNone:
      return exact(payload, 0, 'have none'), { type: 'haveNone' }
    case MessageId.have:
      exact(payload, 4, 'have')
      return { type: 'have', index: index(payload.readUInt32BE(0), ctx, 'have') }
    case MessageId.suggest:
      exact(payload, 4, 'suggest')
      return { type: 'suggest', index: index(payload.readUInt32BE(0), ctx, 'suggest') }
    case MessageId.allowedFast:
      exact(payload, 4, 'allowed fast')
      return { type: 'allowedFast', index: index(payload.readUInt32BE(0), ctx, 'allowed fast') }
    case MessageId.bitfield:
      if (ctx.pieceCount !== null) checkBitfield(payload, ctx.pieceCount)
      else if (payload.length > LIMITS.pieces / 8) throw bad(`a bitfield of ${payload.length} bytes is above the limit`)
      return { type: 'bitfield', bits: payload }
    case MessageId.request:
      return blockRef('request', payload, ctx)
    case MessageId.cancel:
      return blockRef('cancel', payload, ctx)
    case MessageId.reject:
      return blockRef('reject', payload, ctx)
    case MessageId.piece: {
      if (payload.length < 9 || payload.length > 8 + LIMITS.block) throw bad(`a piece message carries 1 to ${LIMITS.block} bytes, not ${payload.length - 8}`)
      return { type: 'piece', index: index(payload.readUInt32BE(0), ctx, 'piece'), begin: payload.readUInt32BE(4), block: payload.subarray(8) }
    }
    case MessageId.port: {
      exact(payload, 2, 'port')
      return { type: 'port', port: payload.readUInt16BE(0) }
    }
    case MessageId.extended:
      if (payload.length < 1 || payload.length > 1 + LIMITS.extendedBytes) throw bad(`an extended message of ${payload.length} bytes is out of bounds`)
      return { type: 'extended', ext: payload[0]!, payload: payload.subarray(1) }
    case MessageId.hashRequest:
      exact(payload, 48, 'hash request')
      return { type: 'hashRequest', ...hashRef(payload, 'hash request') }
    case MessageId.hashReject:
      exact(payload, 48, 'hash reject')
      return { type: 'hashReject', ...hashRef(payload, 'hash reject') }
    case MessageId.hashes: {
      if (payload.length < 48) throw bad(`a hashes message is at least 48 bytes, not ${payload.length}`)
      const ref = hashRef(payload, 'hashes')
      const want = 48 + 32 * (ref.count + uncleCount(ref.count, ref.proofLayers))
      if (payload.length !== want) throw bad(`a hashes message for ${ref.count} hashes and ${ref.proofLayers} proof layers has ${want} bytes, not ${payload.length}`)
      return { type: 'hashes', ...ref, hashes: payload.subarray(48) }
    }
    default:
      if (payload.length > LIMITS.unknownBytes) throw bad(`a message of unknown id ${id} has ${payload.length} bytes, above the limit`)
      return { type: 'unknown', id, payload }
  }
}

function blockRef(type: 'request' | 'cancel' | 'reject', payload: Buffer, ctx: DecodeContext): MessageOf<'request' | 'cancel' | 'reject'> {
  exact(payload, 12, type)
  const length = payload.readUInt32BE(8)
  if (length === 0 || length > LIMITS.block) throw bad(`a ${type} for ${length} bytes (1 to ${LIMITS.block})`)
  return { type, index: index(payload.readUInt32BE(0), ctx, type), begin: payload.readUInt32BE(4), length }
}

function hashRef(payload: Buffer, name: string): HashRef {
  const ref = { root: payload.subarray(0, 32), base: payload.readUInt32BE(32), index: payload.readUInt32BE(36), count: payload.readUInt32BE(40), proofLayers: payload.readUInt32BE(44) }
  if (ref.count === 0 || ref.count > LIMITS.hashCount) throw bad(`a ${name} for ${ref.count} hashes (1 to ${LIMITS.hashCount})`)
  if (ref.base > LIMITS.proofLayers || ref.proofLayers > LIMITS.proofLayers) throw bad(`a ${name} with base ${ref.base} and ${ref.proofLayers} proof layers (at most ${LIMITS.proofLayers})`)
  return ref
}

/** A bitfield must be exactly ceil(pieces / 8) bytes with its spare low bits zero (BEP 3). */
export function checkBitfield(bits: Uint8Array, pieceCount: number): void {
  const want = Math.ceil(pieceCount / 8)
  if (bits.length !== want) throw bad(`a bitfield for ${pieceCount} pieces has ${want} bytes, not ${bits.length}`)
  const spare = want * 8 - pieceCount
  if (spare > 0 && (bits[want - 1]! & ((1 << spare) - 1)) !== 0) throw bad('a bitfield has spare bits set past the last piece')
}

// ---------------------------------------------------------------------------------------------
// Encoding

function frame(len: number, id: number): Buffer {
  const out = Buffer.allocUnsafe(4 + len)
  out.writeUInt32BE(len, 0)
  out[4] = id
  return out
}

function u32(id: number, v: number): Buffer {
  const out = frame(5, id)
  out.writeUInt32BE(v, 5)
  return out
}

export const KEEP_ALIVE = Buffer.alloc(4)

/** The 4-byte length, the id and index/begin/length: a request, cancel or reject. */
export function encodeBlockRef(id: number, index: number, begin: number, length: number): Buffer {
  const out = frame(13, id)
  out.writeUInt32BE(index, 5)
  out.writeUInt32BE(begin, 9)
  out.writeUInt32BE(length, 13)
  return out
}

/** The 13 bytes before a piece's data, so the data itself is written without a copy. */
export function pieceHeader(index: number, begin: number, length: number, out: Buffer = Buffer.allocUnsafe(13)): Buffer {
  out.writeUInt32BE(9 + length, 0)
  out[4] = MessageId.piece
  out.writeUInt32BE(index, 5)
  out.writeUInt32BE(begin, 9)
  return out
}

function encodeHashRef(id: number, ref: HashRef, extra: Buffer | null): Buffer {
  if (ref.root.length !== 32) throw new RangeError('a pieces root is 32 bytes')
  const out = frame(49 + (extra?.length ?? 0), id)
  ref.root.copy(out, 5)
  out.writeUInt32BE(ref.base, 37)
  out.writeUInt32BE(ref.index, 41)
  out.writeUInt32BE(ref.count, 45)
  out.writeUInt32BE(ref.proofLayers, 49)
  extra?.copy(out, 53)
  return out
}

/** Encodes one message, length prefix included. */
export function encode(msg: Message): Buffer {
  switch (msg.type) {
    case 'keepAlive':
      return Buffer.alloc(4)
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'notInterested':
    case 'haveAll':
    case 'haveNone':
      return frame(1, MessageId[msg.type])
    case 'have':
    case 'suggest':
    case 'allowedFast':
      return u32(MessageId[msg.type], msg.index)
    case 'bitfield': {
      const out = frame(1 + msg.bits.length, MessageId.bitfield)
      msg.bits.copy(out, 5)
      return out
    }
    case 'request':
    case 'cancel':
    case 'reject':
      return encodeBlockRef(MessageId[msg.type], msg.index, msg.begin, msg.length)
    case 'piece':
      return Buffer.concat([pieceHeader(msg.index, msg.begin, msg.block.length), msg.block])
    case 'port': {
      const out = frame(3, MessageId.port)
      out.writeUInt16BE(msg.port, 5)
      return out
    }
    case 'extended': {
      const out = frame(2 + msg.payload.length, MessageId.extended)
      out[5] = msg.ext
      msg.payload.copy(out, 6)
      return out
    }
    case 'hashRequest':
    case 'hashReject':
      return encodeHashRef(MessageId[msg.type], msg, null)
    case 'hashes':
      if (msg.hashes.length !== 32 * (msg.count + uncleCount(msg.count, msg.proofLayers))) throw new RangeError('hashes: the hash list does not match count and proof layers')
      return encodeHashRef(MessageId.hashes, msg, msg.hashes)
    case 'unknown': {
      const out = frame(1 + msg.payload.length, msg.id)
      msg.payload.copy(out, 5)
      return out
    }
  }
}
