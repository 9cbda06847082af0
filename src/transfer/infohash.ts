import { ChrysalisError } from '../errors.js'

/**
 * The one reader of an infohash written as text: the bare forms people paste (40 hex digits for
 * v1, 64 for v2, BEP 9's 32 base32 characters for v1) and the magnet `xt` forms (urn:btih: with
 * hex or base32, urn:btmh:1220 with the SHA-256 in hex). readMagnet reads each xt through it.
 *
 *   const { v1, v2 } = parseInfohash('urn:btmh:1220' + hex64)   // v1 null, v2 32 bytes
 *   const key = targetKey(parseInfohash(arg))                    // target.ts: v2, else v1
 */
export interface Infohashes {
  /** SHA-1 infohash (20 bytes), or null. */
  v1: Buffer | null
  /** SHA-256 infohash (32 bytes), or null. */
  v2: Buffer | null
}

const HEX_V1 = /^[0-9a-f]{40}$/i
const HEX_V2 = /^[0-9a-f]{64}$/i
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 base32 without padding, as BEP 9 writes a v1 infohash; null when a character is not base32. */
function base32(text: string): Buffer | null {
  let bits = 0
  let value = 0
  const out: number[] = []
  for (const c of text.toUpperCase()) {
    const v = BASE32.indexOf(c)
    if (v === -1) return null
    value = (value << 5) | v
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

/** A v1 hash as btih writes it: 40 hex or 32 base32; else why not (read as "has …"). */
function btih(v: string): Infohashes | { why: string } {
  if (HEX_V1.test(v)) return { v1: Buffer.from(v, 'hex'), v2: null }
  if (v.length !== 32) return { why: `a v1 infohash of ${v.length} characters (40 hex or 32 base32 expected)` }
  const hash = base32(v)
  return hash ? { v1: hash, v2: null } : { why: `a v1 infohash that is neither hex nor base32 ("${v.slice(0, 40)}")` }
}

/**
 * The infohash a magnet's xt value names, or why it names none (read as "has …"); null for an xt
 * of another kind (urn:sha1:, urn:ed2k:…), which a magnet may carry beside its BitTorrent ones.
 */
export function xtInfohash(xt: string): Infohashes | { why: string } | null {
  const lower = xt.toLowerCase()
  if (lower.startsWith('urn:btih:')) return btih(xt.slice('urn:btih:'.length))
  if (!lower.startsWith('urn:btmh:')) return null
  const mh = /^urn:btmh:1220([0-9a-f]{64})$/i.exec(xt)
  if (!mh) return { why: 'a v2 infohash that is not a SHA-256 multihash (urn:btmh:1220 and 64 hex digits)' }
  return { v1: null, v2: Buffer.from(mh[1]!, 'hex') }
}

/**
 * One infohash from text: 40 hex (v1), 64 hex (v2), 32 base32 (v1), urn:btih:… or
 * urn:btmh:1220…; exactly one of v1 and v2 is set. Anything else is refused with BAD_INPUT and
 * one line saying which forms are taken. A whole magnet link is readMagnet's (it has more to say).
 */
export function parseInfohash(text: string): Infohashes {
  if (HEX_V1.test(text)) return { v1: Buffer.from(text, 'hex'), v2: null }
  if (HEX_V2.test(text)) return { v1: null, v2: Buffer.from(text, 'hex') }
  const shown = `"${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`
  const forms = 'give 40 hex digits (v1), 64 (v2), 32 base32 characters (v1), or urn:btih:… / urn:btmh:1220…'
  if (/^urn:/i.test(text)) {
    const xt = xtInfohash(text)
    if (xt === null) throw new ChrysalisError('BAD_INPUT', `${shown} names no BitTorrent infohash; ${forms}`)
    if ('why' in xt) throw new ChrysalisError('BAD_INPUT', `${shown} has ${xt.why}`) // the why says what is expected
    return xt
  }
  if (/^magnet:/i.test(text)) throw new ChrysalisError('BAD_INPUT', `${shown} is a magnet link, not an infohash; ${forms}`)
  // Only hex digits: meant as hex (a random base32 hash has a letter past f all but always).
  const v1 = text.length === 32 && /[g-z]/i.test(text) ? base32(text) : null
  if (v1) return { v1, v2: null }
  if (/^[0-9a-f]+$/i.test(text)) throw new ChrysalisError('BAD_INPUT', `${shown} has ${text.length} hex digits; an infohash has 40 (v1) or 64 (v2)`)
  throw new ChrysalisError('BAD_INPUT', `${shown} is not an infohash; ${forms}`)
}
