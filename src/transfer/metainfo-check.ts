import { ChrysalisError } from '../errors.js'
import { BLOCK } from './merkle.js'

/**
 * What every kind of metainfo (v1, v2, hybrid) shares: the limits, the refusal, and the check of
 * a path component. protocol.md §12 lists the limits and every refusal with its reason.
 *
 *   const name = checkComponent(rawName, 'the torrent')   // or BAD_TORRENT, one line
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
  /** v2 and hybrid piece lengths: a power of two in [minPieceLength, maxPieceLength] (BEP 52). */
  minPieceLength: BLOCK,
  maxPieceLength: 16 * 1024 * 1024,
  /** v1-only piece lengths: any positive integer up to libtorrent's bound (INT_MAX / 2). */
  maxPieceLengthV1: 2 ** 30 - 1,
  totalLength: 2 ** 44, // 16 TiB
  pieces: 2 ** 20
} as const

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf-8')

export function bad(message: string): ChrysalisError {
  return new ChrysalisError('BAD_TORRENT', message)
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

/** BEP 47 file attributes (`attr`): p pad, l symlink, x executable, h hidden. */
export function attrOf(v: unknown): { pad: boolean; symlink: boolean; executable: boolean } {
  const s = Buffer.isBuffer(v) ? v.toString('latin1') : ''
  return { pad: s.includes('p'), symlink: s.includes('l'), executable: s.includes('x') }
}

/** A file's length: a non-negative integer within the total limit. */
export function checkLength(v: unknown, where: string): number {
  if (typeof v !== 'number' || v < 0 || v > LIMITS.totalLength) throw bad(`${where} has an absurd length (or none); it was refused`)
  return v
}
