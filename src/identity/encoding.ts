import * as b4a from '../bytes.js'
import z32 from 'z32'
import { ChrysalisError } from '../errors.js'
import { domainHash } from './hash.js'

/** A 32-byte ed25519 public key: the identity itself. */
export type PublicKey = Buffer

export const PUBLIC_KEY_BYTES = 32
const Z32_ID = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$/
const HEX_ID = /^[0-9a-f]{64}$/

/** The identity ID as people see it: the public key in z-base-32 (52 characters). */
export function encodeId(publicKey: Uint8Array): string {
  return z32.encode(publicKey)
}

/** The public key as hex, used inside feed and index keys. */
export function toHex(publicKey: Uint8Array): string {
  return b4a.toString(publicKey, 'hex')
}

/**
 * Parse an identity ID given as z-base-32 (52 characters) or hex (64 characters), in any case,
 * with surrounding whitespace ignored.
 */
export function parseId(text: string): PublicKey {
  const s = text.trim().toLowerCase()
  if (HEX_ID.test(s)) return b4a.from(s, 'hex')
  if (Z32_ID.test(s)) {
    const key = z32.decode(s)
    // 52 z32 characters carry 260 bits: the last 4 must be zero for a canonical 32-byte key.
    if (key.byteLength === PUBLIC_KEY_BYTES && encodeId(key) === s) return key
  }
  throw new ChrysalisError(
    'BAD_ID',
    `"${abbreviate(text)}" is not an identity ID; give the 52-character ID that \`chrysalis whoami\` prints (or 64 hex digits)`
  )
}

export function isId(text: string): boolean {
  try {
    parseId(text)
    return true
  } catch {
    return false
  }
}

/**
 * A short fingerprint for eyeballing an identity: the first 5 bytes of
 * domainHash('chrysalis/fingerprint/v1', publicKey) in z-base-32, grouped as `xxxx-xxxx`.
 * It is for recognition, not for security: use the full ID to follow someone.
 */
export function fingerprint(publicKey: Uint8Array): string {
  const s = z32.encode(domainHash('chrysalis/fingerprint/v1', publicKey).subarray(0, 5))
  return `${s.slice(0, 4)}-${s.slice(4, 8)}`
}

export function abbreviate(text: string, max = 24): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat
}
