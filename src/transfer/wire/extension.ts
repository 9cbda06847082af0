import { BencodeError, decode, decodePrefix, encode as bencode, key, type BDict, type BValue } from '../bencode.js'
import { WireError } from './errors.js'
import { LIMITS } from './messages.js'

/**
 * Payloads of the extension protocol (protocol.md §15 "Peer wire"): the BEP 10 extended handshake (message
 * 20, extension id 0) and BEP 9 ut_metadata messages, decoded with tight bencode budgets.
 *
 *   const h = decodeExtendedHandshake(msg.payload)   // h.m.get('ut_metadata'), h.metadataSize
 */
function bad(what: string): WireError {
  return new WireError('BAD_MESSAGE', what)
}


export interface ExtendedHandshake {
  /** Extension name → the id the sender wants it sent with (0 = disabled). */
  m: Map<string, number>
  v?: string
  reqq?: number
  metadataSize?: number
  /** Our address as the sender sees it: 4 or 16 bytes. */
  yourip?: Buffer
  /** The sender's listening TCP port. */
  p?: number
}

const EXT_LIMITS = { maxBytes: LIMITS.extendedBytes, maxNodes: 1024, maxString: LIMITS.extendedBytes, maxItems: 256, maxDepth: 4 }

export function encodeExtendedHandshake(h: ExtendedHandshake): Buffer {
  const m: BDict = new Map()
  for (const [name, id] of h.m) m.set(key(name), id)
  const d: BDict = new Map<string, BValue>([['m', m]])
  if (h.v !== undefined) d.set('v', Buffer.from(h.v, 'utf-8'))
  if (h.reqq !== undefined) d.set('reqq', h.reqq)
  if (h.metadataSize !== undefined) d.set('metadata_size', h.metadataSize)
  if (h.yourip !== undefined) d.set('yourip', h.yourip)
  if (h.p !== undefined) d.set('p', h.p)
  return bencode(d)
}

function dict(payload: Uint8Array, what: string): BDict {
  let value: BValue
  try {
    value = decode(payload, { limits: EXT_LIMITS }).value
  } catch (err) {
    throw new WireError('BAD_MESSAGE', `${what} is not valid bencode: ${(err as Error).message}`, { cause: err })
  }
  if (!(value instanceof Map)) throw bad(`${what} is not a dictionary`)
  return value
}

function int(d: BDict, k: string, min: number, max: number, what: string): number | undefined {
  const v = d.get(k)
  if (v === undefined) return undefined
  if (typeof v !== 'number' || v < min || v > max) throw bad(`${what}: "${k}" is not an integer from ${min} to ${max}`)
  return v
}

/** Decodes the payload of extended message 0. Unknown keys are ignored (BEP 10). */
export function decodeExtendedHandshake(payload: Uint8Array): ExtendedHandshake {
  const d = dict(payload, 'an extended handshake')
  const mv: BValue = d.get('m') ?? new Map<string, BValue>()
  if (!(mv instanceof Map)) throw bad('an extended handshake\'s "m" is not a dictionary')
  if (mv.size > LIMITS.extensions) throw bad(`an extended handshake names ${mv.size} extensions, above ${LIMITS.extensions}`)
  const m = new Map<string, number>()
  for (const [k, v] of mv) {
    if (typeof v !== 'number' || v < 0 || v > 255) throw bad(`an extended handshake gives "${k}" the id ${typeof v === 'number' ? v : 'of a non-integer'}, not 0 to 255`)
    m.set(Buffer.from(k, 'latin1').toString('utf-8'), v)
  }
  const out: ExtendedHandshake = { m }
  const v = d.get('v')
  if (Buffer.isBuffer(v)) out.v = v.subarray(0, LIMITS.clientName).toString('utf-8')
  const reqq = int(d, 'reqq', 1, 2 ** 31 - 1, 'an extended handshake')
  if (reqq !== undefined) out.reqq = reqq
  const size = int(d, 'metadata_size', 1, LIMITS.metadataBytes, 'an extended handshake')
  if (size !== undefined) out.metadataSize = size
  const ip = d.get('yourip')
  if (Buffer.isBuffer(ip) && (ip.length === 4 || ip.length === 16)) out.yourip = ip
  const p = int(d, 'p', 1, 65535, 'an extended handshake')
  if (p !== undefined) out.p = p
  return out
}

// ---------------------------------------------------------------------------------------------
// BEP 9 ut_metadata

export const UT_METADATA = 'ut_metadata'

export type MetadataMessage =
  | { msgType: 'request' | 'reject'; piece: number }
  | { msgType: 'data'; piece: number; totalSize: number; data: Buffer }

const META_TYPES = ['request', 'data', 'reject'] as const

export function encodeMetadataMessage(msg: MetadataMessage): Buffer {
  const d: BDict = new Map<string, BValue>([
    ['msg_type', META_TYPES.indexOf(msg.msgType)],
    ['piece', msg.piece]
  ])
  if (msg.msgType !== 'data') return bencode(d)
  d.set('total_size', msg.totalSize)
  return Buffer.concat([bencode(d), msg.data])
}

const META_DICT_LIMITS = { maxBytes: LIMITS.extendedBytes, maxNodes: 32, maxString: 64, maxItems: 16, maxDepth: 2 }

/** Decodes a ut_metadata message: its dictionary, then (for data) the piece's bytes as a view. */
export function decodeMetadataMessage(payload: Buffer): MetadataMessage {
  let value: BValue
  let end: number
  try {
    ;({ value, end } = decodePrefix(payload, META_DICT_LIMITS))
  } catch (err) {
    if (!(err instanceof BencodeError)) throw err
    throw new WireError('BAD_MESSAGE', `a ut_metadata message is not valid bencode: ${err.message}`, { cause: err })
  }
  if (!(value instanceof Map)) throw bad('a ut_metadata message is not a dictionary')
  const type = int(value, 'msg_type', 0, 2, 'a ut_metadata message')
  const piece = int(value, 'piece', 0, Math.ceil(LIMITS.metadataBytes / LIMITS.metadataPiece) - 1, 'a ut_metadata message')
  if (type === undefined || piece === undefined) throw bad('a ut_metadata message without msg_type or piece')
  const msgType = META_TYPES[type]!
  if (msgType !== 'data') {
    if (end !== payload.length) throw bad(`a ut_metadata ${msgType} has ${payload.length - end} trailing bytes`)
    return { msgType, piece }
  }
  const totalSize = int(value, 'total_size', 1, LIMITS.metadataBytes, 'a ut_metadata message')
  if (totalSize === undefined) throw bad('a ut_metadata data message without total_size')
  const data = payload.subarray(end)
  const want = Math.min(LIMITS.metadataPiece, totalSize - piece * LIMITS.metadataPiece)
  if (want <= 0 || data.length !== want) throw bad(`ut_metadata piece ${piece} of ${totalSize} bytes carries ${data.length} bytes, not ${Math.max(0, want)}`)
  return { msgType, piece, totalSize, data }
}
