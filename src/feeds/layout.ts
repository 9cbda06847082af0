import Hypercore from 'hypercore'
import * as b4a from '../bytes.js'
import { ChrysalisError } from '../errors.js'
import { encodeId, parseId, toHex, abbreviate } from '../identity/encoding.js'
import { LIMITS, type PostRef } from './records.js'

/**
 * Where records live in a feed's hyperbee (protocol.md §5). Keys are UTF-8 strings laid out so
 * that a reader's common queries are sparse range reads on a remote bee:
 *
 *   profile                    the profile record
 *   post/<id: 12 hex digits>   posts and comments, newest = highest id
 *   follow/<identity: 64 hex>  the latest follow or unfollow of that identity
 *   block/<identity: 64 hex>   the latest block or unblock of that identity
 *   backlink/<root id>/<commenter: 64 hex>/<comment id>   a comment by someone else in my thread
 */
export const PROFILE_KEY = 'profile'
export const POST_PREFIX = 'post/'
export const FOLLOW_PREFIX = 'follow/'
export const BLOCK_PREFIX = 'block/'
export const BACKLINK_PREFIX = 'backlink/'
/** `torrent/<64 hex v2 infohash>` → a standard .torrent (info and piece layers), protocol.md §4.4. */
export const TORRENT_PREFIX = 'torrent/'

export function torrentKey(infohash: Uint8Array): string {
  return TORRENT_PREFIX + toHex(infohash)
}

export function backlinkKey(rootId: number, comment: PostRef): string {
  return `${BACKLINK_PREFIX}${postIdHex(rootId)}/${toHex(comment.author)}/${postIdHex(comment.id)}`
}

const BACKLINK_KEY = /^backlink\/([0-9a-f]{12})\/([0-9a-f]{64})\/([0-9a-f]{12})$/
export function parseBacklinkKey(key: string): { rootId: number; comment: PostRef } | null {
  const m = BACKLINK_KEY.exec(key)
  return m ? { rootId: parseInt(m[1]!, 16), comment: { author: b4a.from(m[2]!, 'hex'), id: parseInt(m[3]!, 16) } } : null
}

export const POST_ID_DIGITS = 12

export function rangeOf(prefix: string): { gt: string; lt: string } {
  // '/' + 1 === '0': every key that starts with the prefix sorts strictly between these two.
  return { gt: prefix, lt: prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1) }
}

export function postIdHex(id: number): string {
  return id.toString(16).padStart(POST_ID_DIGITS, '0')
}

export function postKey(id: number): string {
  return POST_PREFIX + postIdHex(id)
}

const POST_KEY = /^post\/([0-9a-f]{12})$/
export function parsePostKey(key: string): number | null {
  const m = POST_KEY.exec(key)
  return m ? parseInt(m[1]!, 16) : null
}

export function followKey(target: Uint8Array): string {
  return FOLLOW_PREFIX + toHex(target)
}

export function blockKey(target: Uint8Array): string {
  return BLOCK_PREFIX + toHex(target)
}

const RELATION_KEY = /^(?:follow|block)\/([0-9a-f]{64})$/
export function parseRelationKey(key: string): Buffer | null {
  const m = RELATION_KEY.exec(key)
  return m ? b4a.from(m[1]!, 'hex') : null
}

/**
 * The feed of an identity is the hypercore whose manifest (hypercore 11, version 1) has the
 * identity public key as its single ed25519 signer; its key is that manifest's hash. Anyone who
 * knows the identity can compute it, and only the identity can write it.
 */
export function feedKeyOf(publicKey: Uint8Array): Buffer {
  return Hypercore.key({ version: 1, signers: [{ publicKey: b4a.from(publicKey) }] })
}

export function discoveryKeyOf(feedKey: Uint8Array): Buffer {
  return Hypercore.discoveryKey(b4a.from(feedKey))
}

/**
 * A post reference names a post anywhere: `<author ID>/<post id>`, the author as the 52-character
 * z-base-32 ID (hex accepted too) and the post id as 12 hex digits (leading zeros optional).
 *
 *   formatRef({ author, id })   // 'kfu3…w8ro/019a9f3c2b10'
 */
export function formatRef(ref: PostRef): string {
  return `${encodeId(ref.author)}/${postIdHex(ref.id)}`
}

export function parseRef(text: string): PostRef {
  const s = text.trim()
  const slash = s.indexOf('/')
  const idPart = slash === -1 ? '' : s.slice(slash + 1).toLowerCase()
  if (slash === -1 || !/^[0-9a-f]{1,12}$/.test(idPart)) {
    throw new ChrysalisError('BAD_REF', `"${abbreviate(text, 40)}" is not a post reference; use the ref that \`chrysalis post\`, \`feed\` or \`timeline\` print (AUTHOR-ID/POST-ID)`)
  }
  let author: Buffer
  try {
    author = parseId(s.slice(0, slash))
  } catch {
    throw new ChrysalisError('BAD_REF', `the author part of "${abbreviate(text, 40)}" is not an identity ID; use the ref exactly as printed (AUTHOR-ID/POST-ID)`)
  }
  const id = parseInt(idPart, 16)
  if (id > LIMITS.postId) throw new ChrysalisError('BAD_REF', `the post id in "${abbreviate(text, 40)}" is out of range`)
  return { author, id }
}

export function sameRef(a: PostRef, b: PostRef): boolean {
  return a.id === b.id && b4a.equals(a.author, b.author)
}
