import * as b4a from '../bytes.js'
import { ChrysalisError } from '../errors.js'
import { DecodeError, Reader, Writer, utf8Length } from '../codec/primitives.js'
import type { Valid } from '../valid.js'

/**
 * Feed records, version 1: the exact layouts are in protocol.md §4. Every value in a feed is one
 * record: `version:uint type:uint body`. Writers validate before encoding (a bad post is refused,
 * never written); readers decode untrusted bytes with decodeRecord(), which never throws.
 */
export const RECORD_VERSION = 1

export const LIMITS = {
  recordBytes: 64 * 1024,
  nameBytes: 64,
  bioBytes: 1024,
  textBytes: 8192,
  topics: 16,
  topicBytes: 64,
  mentions: 32,
  attachments: 32,
  fileNameBytes: 255,
  /** Post ids are milliseconds-since-epoch-like counters: 48 bits cover the year 10889. */
  postId: 2 ** 48 - 1
} as const

export const RecordType = {
  profile: 1,
  post: 2,
  follow: 3,
  unfollow: 4,
  block: 5,
  unblock: 6,
  backlink: 7
} as const
export type RecordTypeName = keyof typeof RecordType

const TYPE_NAMES = new Map<number, RecordTypeName>(Object.entries(RecordType).map(([k, v]) => [v, k as RecordTypeName]))

// Flag bits. A record whose flags carry a bit this version does not know may carry extra bytes
// after the known fields; readers skip them (protocol.md §4.2: growing a record by appending).
// A FileRef is followed by other fields: each of its optional fields is length-prefixed.
const PROFILE_AVATAR = 1
const PROFILE_KNOWN = PROFILE_AVATAR
const POST_REPLY = 1
const POST_EDITED = 2
const POST_DELETED = 4
const POST_KNOWN = POST_REPLY | POST_EDITED | POST_DELETED
const RELATION_KNOWN = 0
const BACKLINK_KNOWN = 0
const FILE_KNOWN = 0

/** A reference to a file shared as a BitTorrent v2 torrent (filled in by src/transfer). */
export interface FileRef {
  infohash: Buffer
  name: string
  size: number
}

/** A post names another post by its author's public key and its id in that author's feed. */
export interface PostRef {
  author: Buffer
  id: number
}

export interface ProfileRecord {
  type: 'profile'
  updatedAt: number
  name: string
  bio: string
  avatar?: FileRef
}

export interface PostRecord {
  type: 'post'
  createdAt: number
  text: string
  topics: string[]
  mentions: Buffer[]
  attachments: FileRef[]
  /** Present on comments: the post answered, and the root of its thread. */
  reply?: { parent: PostRef; root: PostRef }
  editedAt?: number
  /** A deleted post keeps its place in threads; its text, topics, mentions and files are gone. */
  deletedAt?: number
}

export interface RelationRecord {
  type: 'follow' | 'unfollow' | 'block' | 'unblock'
  at: number
  target: Buffer
}

/**
 * Written by a thread's root author into their own feed: "this comment, by someone else, belongs
 * in my thread". Readers of the root learn of comments by people they do not follow this way.
 */
export interface BacklinkRecord {
  type: 'backlink'
  at: number
  comment: PostRef
  parent: PostRef
}

export type FeedRecord = ProfileRecord | PostRecord | RelationRecord | BacklinkRecord

/** A record that passed decodeRecord's checks. Only the decoder makes these. */
export type { Valid }

export type DecodeResult = { ok: true; record: Valid<FeedRecord> } | { ok: false; reason: string }

// ---------------------------------------------------------------------------------------------
// Encoding (our own records: validate first, refuse with a message a person can act on)

export function encodeRecord(record: FeedRecord): Buffer {
  validateRecord(record)
  const w = new Writer().uint(RECORD_VERSION).uint(RecordType[record.type])
  switch (record.type) {
    case 'profile':
      w.uint(record.avatar ? PROFILE_AVATAR : 0).uint(record.updatedAt).string(record.name).string(record.bio)
      if (record.avatar) writeFile(w, record.avatar)
      break
    case 'post': {
      const flags =
        (record.reply ? POST_REPLY : 0) | (record.editedAt !== undefined ? POST_EDITED : 0) | (record.deletedAt !== undefined ? POST_DELETED : 0)
      w.uint(flags).uint(record.createdAt).string(record.text)
      w.uint(record.topics.length)
      for (const t of record.topics) w.string(t)
      w.uint(record.mentions.length)
      for (const m of record.mentions) w.fixed(m, 32)
      w.uint(record.attachments.length)
      for (const f of record.attachments) writeFile(w, f)
      if (record.reply) writePostRef(writePostRef(w, record.reply.parent), record.reply.root)
      if (record.editedAt !== undefined) w.uint(record.editedAt)
      if (record.deletedAt !== undefined) w.uint(record.deletedAt)
      break
    }
    case 'follow':
    case 'unfollow':
    case 'block':
    case 'unblock':
      w.uint(0).uint(record.at).fixed(record.target, 32)
      break
    case 'backlink':
      writePostRef(writePostRef(w.uint(0).uint(record.at), record.comment), record.parent)
      break
    default:
      checkExhaustive(record)
  }
  const out = w.finish()
  if (out.byteLength > LIMITS.recordBytes) throw bad(`the record is ${out.byteLength} bytes, above the ${LIMITS.recordBytes}-byte limit`)
  return out
}

function writeFile(w: Writer, f: FileRef): Writer {
  return w.uint(0).fixed(f.infohash, 32).string(f.name).uint(f.size)
}

function writePostRef(w: Writer, ref: PostRef): Writer {
  return w.fixed(ref.author, 32).uint(ref.id)
}

/** Throws a ChrysalisError (BAD_INPUT) naming the first field that breaks a limit. */
export function validateRecord(record: FeedRecord): void {
  switch (record.type) {
    case 'profile':
      checkTime(record.updatedAt, 'updatedAt')
      checkName(record.name)
      checkBytes(record.bio, LIMITS.bioBytes, 'the bio')
      if (record.avatar) checkFile(record.avatar)
      return
    case 'post':
      checkTime(record.createdAt, 'createdAt')
      checkBytes(record.text, LIMITS.textBytes, 'the text')
      if (record.topics.length > LIMITS.topics) throw bad(`a post has at most ${LIMITS.topics} topics`)
      for (const t of record.topics) checkTopic(t)
      if (new Set(record.topics).size !== record.topics.length) throw bad('a topic is listed twice')
      if (record.mentions.length > LIMITS.mentions) throw bad(`a post mentions at most ${LIMITS.mentions} people`)
      for (const m of record.mentions) checkKey(m, 'a mention')
      if (record.attachments.length > LIMITS.attachments) throw bad(`a post has at most ${LIMITS.attachments} attachments`)
      for (const f of record.attachments) checkFile(f)
      if (record.reply) {
        checkPostRef(record.reply.parent)
        checkPostRef(record.reply.root)
      }
      if (record.editedAt !== undefined) checkTime(record.editedAt, 'editedAt')
      if (record.deletedAt !== undefined) {
        checkTime(record.deletedAt, 'deletedAt')
        if (record.text !== '' || record.topics.length || record.mentions.length || record.attachments.length) {
          throw bad('a deleted post keeps no text, topics, mentions or attachments')
        }
      } else if (record.text.trim() === '' && record.attachments.length === 0) {
        throw bad('a post needs some text or an attachment')
      }
      return
    case 'follow':
    case 'unfollow':
    case 'block':
    case 'unblock':
      checkTime(record.at, 'at')
      checkKey(record.target, 'the identity')
      return
    case 'backlink':
      checkTime(record.at, 'at')
      checkPostRef(record.comment)
      checkPostRef(record.parent)
      return
    default:
      checkExhaustive(record)
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding (anyone's bytes: never throws, says why it refused)

export function decodeRecord(bytes: Uint8Array): DecodeResult {
  if (bytes.byteLength > LIMITS.recordBytes) return { ok: false, reason: `oversized record (${bytes.byteLength} bytes)` }
  try {
    const record = readRecord(new Reader(bytes))
    validateRecord(record)
    return { ok: true, record: record as Valid<FeedRecord> }
  } catch (err) {
    if (err instanceof DecodeError || err instanceof ChrysalisError) return { ok: false, reason: err.message }
    return { ok: false, reason: 'malformed record' }
  }
}

function readRecord(r: Reader): FeedRecord {
  const version = r.uint()
  if (version !== RECORD_VERSION) throw new DecodeError(`unknown record version ${version}`)
  const code = r.uint()
  const type = TYPE_NAMES.get(code)
  if (type === undefined) throw new DecodeError(`unknown record type ${code}`)
  const flags = r.uint()
  switch (type) {
    case 'profile': {
      const updatedAt = r.uint()
      const name = r.string(LIMITS.nameBytes)
      const bio = r.string(LIMITS.bioBytes)
      const record: ProfileRecord = { type, updatedAt, name, bio }
      if (flags & PROFILE_AVATAR) record.avatar = readFile(r)
      r.end(flags, PROFILE_KNOWN)
      return record
    }
    case 'post': {
      const createdAt = r.uint()
      const text = r.string(LIMITS.textBytes)
      const topics: string[] = []
      for (let n = r.count(LIMITS.topics); n > 0; n--) topics.push(r.string(LIMITS.topicBytes))
      const mentions: Buffer[] = []
      for (let n = r.count(LIMITS.mentions); n > 0; n--) mentions.push(r.fixed(32))
      const attachments: FileRef[] = []
      for (let n = r.count(LIMITS.attachments); n > 0; n--) attachments.push(readFile(r))
      const record: PostRecord = { type, createdAt, text, topics, mentions, attachments }
      if (flags & POST_REPLY) record.reply = { parent: readPostRef(r), root: readPostRef(r) }
      if (flags & POST_EDITED) record.editedAt = r.uint()
      if (flags & POST_DELETED) record.deletedAt = r.uint()
      r.end(flags, POST_KNOWN)
      return record
    }
    case 'backlink': {
      const at = r.uint()
      const comment = readPostRef(r)
      const parent = readPostRef(r)
      r.end(flags, BACKLINK_KNOWN)
      return { type, at, comment, parent }
    }
    default: {
      const at = r.uint()
      const target = r.fixed(32)
      r.end(flags, RELATION_KNOWN)
      return { type, at, target }
    }
  }
}

function readFile(r: Reader): FileRef {
  const flags = r.uint()
  const file = { infohash: r.fixed(32), name: r.string(LIMITS.fileNameBytes), size: r.uint() }
  r.skipOptional(flags, FILE_KNOWN)
  return file
}

function readPostRef(r: Reader): PostRef {
  return { author: r.fixed(32), id: r.uint(LIMITS.postId) }
}

// ---------------------------------------------------------------------------------------------
// Field rules, shared by writers and readers

/**
 * Topics and hashtags are compared in one normal form: NFKC, lower case, a leading `#` dropped,
 * runs of whitespace, `_` and `-` folded to one `-`, no leading or trailing `-`.
 * "Vintage Manuals", "#vintage_manuals" and "vintage-manuals" are one topic.
 */
export function normalizeTopic(input: string): string {
  return input
    .normalize('NFKC')
    .toLowerCase()
    .trim()
    .replace(/^#+/, '')
    .replace(/[\s_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

const TOPIC_CHARS = /^[\p{L}\p{N}](?:[\p{L}\p{N}.-]*[\p{L}\p{N}])?$/u

function checkTopic(t: string): void {
  if (normalizeTopic(t) !== t || !TOPIC_CHARS.test(t) || utf8Length(t) > LIMITS.topicBytes) {
    throw bad(`"${t.slice(0, 40)}" is not a valid topic: use letters, digits, "." and "-", at most ${LIMITS.topicBytes} bytes`)
  }
}

function checkName(name: string): void {
  if (name.trim() === '' || name !== name.trim()) throw bad('a name must not be empty or start or end with spaces')
  if (/\p{Cc}/u.test(name)) throw bad('a name must not contain control characters')
  checkBytes(name, LIMITS.nameBytes, 'the name')
}

function checkBytes(s: string, max: number, what: string): void {
  const n = utf8Length(s)
  if (n > max) throw bad(`${what} is ${n} bytes; the limit is ${max}`)
}

function checkTime(t: number, what: string): void {
  if (!Number.isSafeInteger(t) || t < 0) throw bad(`${what} is not a valid time`)
}

function checkKey(k: Buffer, what: string): void {
  if (!b4a.isBuffer(k) || k.byteLength !== 32) throw bad(`${what} is not a 32-byte key`)
}

function checkFile(f: FileRef): void {
  checkKey(f.infohash, 'an attachment infohash')
  if (f.name === '' || f.name.includes('/') || f.name.includes('\0')) throw bad(`"${f.name}" is not a valid file name`)
  checkBytes(f.name, LIMITS.fileNameBytes, 'a file name')
  if (!Number.isSafeInteger(f.size) || f.size < 0) throw bad('an attachment size is not valid')
}

function checkPostRef(ref: PostRef): void {
  checkKey(ref.author, 'a post author')
  if (!Number.isSafeInteger(ref.id) || ref.id < 0 || ref.id > LIMITS.postId) throw bad('a post id is out of range')
}

function bad(message: string): ChrysalisError {
  return new ChrysalisError('BAD_INPUT', message)
}

export function checkExhaustive(x: never): never {
  throw new Error(`unexpected value ${String(x)}`)
}
