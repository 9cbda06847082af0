import sodium from 'sodium-native'
import * as b4a from '../bytes.js'

/**
 * Every value Chrysalis derives by hashing is domain separated: BLAKE2b-256 over the UTF-8 tag,
 * one zero byte, then the parts as they are. Tags contain no zero byte, so no two (tag, parts)
 * pairs collide by construction. protocol.md §2 lists every tag in use.
 *
 *   const fp = domainHash('chrysalis/fingerprint/v1', publicKey)
 */
export function domainHash(tag: string, ...parts: Uint8Array[]): Buffer {
  const out = b4a.alloc(32)
  sodium.crypto_generichash_batch(out, [b4a.from(tag + '\0', 'utf-8'), ...parts])
  return out
}
