import { ChrysalisError, isChrysalisError } from '../errors.js'
import { parseInfohash as readInfohash } from '../transfer/infohash.js'

// Light on purpose: the TUI checks what people paste with these before the network stack loads.

/**
 * An infohash as the commands take it, in any form transfer/infohash.ts reads (40 or 64 hex,
 * 32 base32, urn:btih:/urn:btmh:), as the key bytes: USAGE (exit 2) when it is none.
 */
export function parseInfohash(text: string): Buffer {
  try {
    const { v1, v2 } = readInfohash(text)
    return (v2 ?? v1)!
  } catch (err) {
    if (isChrysalisError(err, 'BAD_INPUT')) throw new ChrysalisError('USAGE', err.message)
    throw err
  }
}

/** Whether text is meant as an infohash (then parseInfohash says if it is a good one): not a ref, a word or a path. */
export function infohashShaped(text: string): boolean {
  return /^urn:bt(ih|mh):/i.test(text) || (/^[0-9a-f]+$/i.test(text) && text.length >= 32) || isBase32Hash(text)
}

/** 32 base32 characters with a letter past f: a v1 infohash as BEP 9 writes it (or a file so named). */
export function isBase32Hash(text: string): boolean {
  return /^[a-z2-7]{32}$/i.test(text) && /[g-z]/i.test(text)
}
