declare const valid: unique symbol

/**
 * Data that passed its verifier: only the verifier makes these (a record from decodeRecord, a
 * torrent from parseInfo, saved state from readState), and what stores or shows such data
 * accepts only this type, so unchecked bytes cannot reach it by mistake.
 *
 *   export function decodeRecord(bytes): { ok: true; record: Valid<FeedRecord> } | …
 */
export type Valid<T> = T & { readonly [valid]: true }
