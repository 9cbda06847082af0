import type Hypercore from 'hypercore'
import Hyperbee from 'hyperbee'
import * as b4a from '../bytes.js'
import { ChrysalisError } from '../errors.js'
import { toHex } from '../identity/encoding.js'
import {
  BLOCK_PREFIX,
  FOLLOW_PREFIX,
  PROFILE_KEY,
  POST_PREFIX,
  parsePostKey,
  parseRelationKey,
  postKey,
  rangeOf,
  followKey,
  blockKey,
  BACKLINK_PREFIX,
  backlinkKey,
  parseBacklinkKey,
  postIdHex,
  sameRef,
  torrentKey
} from './layout.js'
import {
  decodeRecord,
  encodeRecord,
  LIMITS,
  type FeedRecord,
  type FileRef,
  type PostRecord,
  type PostRef,
  type ProfileRecord,
  type RelationRecord,
  type Valid
} from './records.js'

export type FeedBee = Hyperbee<string, Buffer>

export interface ReadOptions {
  wait: boolean
  timeout?: number
}

export const READ_TIMEOUT_MS = 8000
/** Answer with what is here, never waiting for peers. */
export const LOCAL_ONLY: ReadOptions = { wait: false }

/** One post as stored: its id in the author's feed, the record, and the block it came from. */
export interface StoredPost {
  author: Buffer
  id: number
  seq: number
  record: Valid<PostRecord>
}

/** Is `post` a comment in the thread of `root`, by its own (signed) record? */
export function answers(post: StoredPost, root: PostRef): boolean {
  const reply = post.record.reply
  return reply !== undefined && sameRef(reply.root, root)
}

export interface SkipStats {
  count: number
  lastReason: string | null
}

/**
 * Reads one identity's feed, local or remote. Every value is decoded from untrusted bytes:
 * malformed, oversized, unknown or misplaced records are skipped and counted, never thrown.
 *
 *   const feed = new Feed(store.get({ key: feedKeyOf(author) }), author)
 *   const newest = await feed.posts({ limit: 20 })   // a sparse read on a remote feed
 */
export class Feed {
  readonly author: Buffer
  readonly bee: FeedBee
  readonly skipped: SkipStats = { count: 0, lastReason: null }
  /** Set while the node is online: reads may wait for peers that are still connecting. */
  online = false

  /**
   * How a read treats blocks this store does not have: when online or replicating with someone,
   * ask peers for up to 8 s; otherwise answer at once with what is here (no read ever hangs
   * offline).
   */
  readOptions(): ReadOptions {
    return this.online || this.core.peers.length > 0 ? { wait: true, timeout: READ_TIMEOUT_MS } : { wait: false }
  }

  constructor(core: Hypercore, author: Buffer) {
    this.author = author
    this.bee = new Hyperbee<string, Buffer>(core, { keyEncoding: 'utf-8', valueEncoding: 'binary' })
  }

  get core(): Hypercore {
    return this.bee.core
  }

  get version(): number {
    return this.bee.version
  }

  get authorHex(): string {
    return toHex(this.author)
  }

  ready(): Promise<void> {
    return this.bee.ready()
  }

  close(): Promise<void> {
    return this.bee.close()
  }

  async profile(readOptions = this.readOptions()): Promise<Valid<ProfileRecord> | null> {
    const entry = await this.guard(this.bee.get(PROFILE_KEY, readOptions), null)
    if (!entry) return null
    const record = this.decode(entry.value, 'profile')
    return record?.type === 'profile' ? record : null
  }

  async getPost(id: number, readOptions = this.readOptions()): Promise<StoredPost | null> {
    const entry = await this.guard(this.bee.get(postKey(id), readOptions), null)
    return entry ? this.toPost(entry.key, entry.value, entry.seq) : null
  }

  /**
   * The .torrent this author published for an infohash, as stored: the caller (src/transfer)
   * parses it and checks it against the infohash before trusting a byte of it.
   */
  async torrent(infohash: Uint8Array): Promise<Buffer | null> {
    const entry = await this.guard(this.bee.get(torrentKey(infohash), this.readOptions()), null)
    return entry ? entry.value : null
  }

  /** The newest posts and comments first; `before` pages back from a post id. */
  async posts(opts: { limit?: number; before?: number } = {}): Promise<StoredPost[]> {
    const limit = opts.limit ?? 50
    const range = rangeOf(POST_PREFIX)
    if (opts.before !== undefined) range.lt = postKey(opts.before)
    const out: StoredPost[] = []
    await this.guard(
      (async () => {
        for await (const entry of this.bee.createReadStream(range, { reverse: true, limit, ...this.readOptions() })) {
          const post = this.toPost(entry.key, entry.value, entry.seq)
          if (post) out.push(post)
        }
      })(),
      undefined
    )
    return out
  }

  /** Identities this feed follows now (the newest follow/unfollow record per identity wins). */
  following(): Promise<Array<{ target: Buffer; at: number }>> {
    return this.relations(FOLLOW_PREFIX, 'follow')
  }

  blocked(): Promise<Array<{ target: Buffer; at: number }>> {
    return this.relations(BLOCK_PREFIX, 'block')
  }

  async relation(prefix: typeof FOLLOW_PREFIX | typeof BLOCK_PREFIX, target: Uint8Array): Promise<RelationRecord | null> {
    const key = prefix === FOLLOW_PREFIX ? followKey(target) : blockKey(target)
    const entry = await this.guard(this.bee.get(key, this.readOptions()), null)
    if (!entry) return null
    const record = this.decode(entry.value, key)
    return record && isRelation(record) && b4a.equals(record.target, target) ? record : null
  }

  private async relations(prefix: string, active: 'follow' | 'block'): Promise<Array<{ target: Buffer; at: number }>> {
    const out: Array<{ target: Buffer; at: number }> = []
    const read = async (): Promise<void> => {
      for await (const entry of this.bee.createReadStream(rangeOf(prefix), this.readOptions())) {
        const target = parseRelationKey(entry.key)
        const record = target ? this.decode(entry.value, entry.key) : null
        if (!target || !record || !isRelation(record) || !b4a.equals(record.target, target)) {
          if (record) this.skip(`record under ${entry.key} does not match its key`)
          continue
        }
        if (record.type === active) out.push({ target, at: record.at })
      }
    }
    await this.guard(read(), undefined)
    return out
  }

  /** Decode a post entry from this feed; null (and counted) when it is not a valid post. */
  toPost(key: string, value: Buffer, seq: number): StoredPost | null {
    const id = parsePostKey(key)
    if (id === null || id > LIMITS.postId) {
      this.skip(`unknown key ${key.slice(0, 40)}`)
      return null
    }
    const record = this.decode(value, key)
    if (!record) return null
    if (record.type !== 'post') {
      this.skip(`a ${record.type} record under ${key}`)
      return null
    }
    return { author: this.author, id, seq, record }
  }

  decode(value: Buffer | null, where: string): Valid<FeedRecord> | null {
    if (value === null) {
      this.skip(`empty value under ${where}`)
      return null
    }
    const result = decodeRecord(value)
    if (result.ok) return result.record
    this.skip(`${where}: ${result.reason}`)
    return null
  }

  /** Like guard(), but lets unavailability through (the index must not advance past a gap). */
  async guardDecoding<T>(read: Promise<T>, fallback: T): Promise<T> {
    try {
      return await read
    } catch (err) {
      if (!isDecodingError(err)) throw err
      this.skip(`unreadable feed structure (${(err as Error).message.split(' (')[0]})`)
      return fallback
    }
  }

  /** Comments by others that this feed's author linked into the thread of their post `rootId`. */
  async backlinks(rootId: number): Promise<Array<{ comment: PostRef; parent: PostRef }>> {
    const out: Array<{ comment: PostRef; parent: PostRef }> = []
    const read = async (): Promise<void> => {
      for await (const entry of this.bee.createReadStream(rangeOf(`${BACKLINK_PREFIX}${postIdHex(rootId)}/`), this.readOptions())) {
        const link = this.toBacklink(entry.key, entry.value)
        if (link) out.push(link)
      }
    }
    await this.guard(read(), undefined)
    return out
  }

  /** Decode a backlink entry; null (and counted) unless the record matches its key. */
  toBacklink(key: string, value: Buffer): { rootId: number; comment: PostRef; parent: PostRef } | null {
    const parsed = parseBacklinkKey(key)
    const record = parsed ? this.decode(value, key) : null
    if (!parsed || !record) {
      if (!parsed) this.skip(`unknown key ${key.slice(0, 40)}`)
      return null
    }
    if (record.type !== 'backlink' || !sameRef(record.comment, parsed.comment) || b4a.equals(record.comment.author, this.author)) {
      this.skip(`record under ${key.slice(0, 40)} does not match its key`)
      return null
    }
    return { rootId: parsed.rootId, comment: record.comment, parent: record.parent }
  }

  /**
   * A block that is not a hyperbee node (a hostile or broken writer) makes hyperbee throw
   * DECODING_ERROR: that read yields `fallback` and counts as skipped. A block that is not here
   * (offline, or no peer answered in time) yields `fallback` too, uncounted. Others propagate.
   */
  async guard<T>(read: Promise<T>, fallback: T): Promise<T> {
    try {
      return await this.guardDecoding(read, fallback)
    } catch (err) {
      if (isUnavailable(err)) return fallback
      throw err
    }
  }

  skip(reason: string): void {
    this.skipped.count++
    this.skipped.lastReason = reason
  }
}

export function isDecodingError(err: unknown): boolean {
  return errorCode(err) === 'DECODING_ERROR'
}

/** A block this store does not have and could not get: offline, or no peer answered in time. */
export function isUnavailable(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'BLOCK_NOT_AVAILABLE' || code === 'REQUEST_TIMEOUT'
}

function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
}

function isRelation(r: FeedRecord): r is RelationRecord {
  return r.type === 'follow' || r.type === 'unfollow' || r.type === 'block' || r.type === 'unblock'
}

export interface NewPost {
  text: string
  topics?: string[]
  mentions?: Buffer[]
  attachments?: FileRef[]
}

/**
 * The identity's own feed: the only feed this node writes. Post ids come from a monotonic
 * millisecond clock (max(now, last id + 1)), so they sort by time and never repeat.
 *
 *   const own = new OwnFeed(store.get({ keyPair }), publicKey)
 *   const { id } = await own.post({ text: 'Kaypro II manual, 1982', topics: ['vintage-manuals'] })
 */
export class OwnFeed extends Feed {
  private lastId = -1
  private readonly now: () => number
  /** When set, every write is refused with this error (a restored identity still recovering). */
  writeLock: ChrysalisError | null = null
  /** Writes run one at a time: two concurrent posts must not draw the same id. */
  private writing: Promise<unknown> = Promise.resolve()

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writing.then(fn, fn)
    this.writing = next.catch(() => {})
    return next
  }

  constructor(core: Hypercore, author: Buffer, opts: { now?: () => number } = {}) {
    super(core, author)
    this.now = opts.now ?? Date.now
  }

  override async ready(): Promise<void> {
    await super.ready()
    const last = await this.bee.peek(rangeOf(POST_PREFIX), { reverse: true })
    this.lastId = last ? (parsePostKey(last.key) ?? -1) : -1
  }

  setProfile(fields: { name: string; bio: string; avatar?: FileRef }): Promise<ProfileRecord> {
    return this.serial(() => this.#setProfile(fields))
  }

  async #setProfile(fields: { name: string; bio: string; avatar?: FileRef }): Promise<ProfileRecord> {
    this.checkWritable()
    const record: ProfileRecord = { type: 'profile', updatedAt: this.now(), name: fields.name, bio: fields.bio }
    if (fields.avatar) record.avatar = fields.avatar
    await this.bee.put(PROFILE_KEY, encodeRecord(record))
    return record
  }

  post(input: NewPost, reply?: { parent: PostRef; root: PostRef }): Promise<StoredPost> {
    return this.serial(() => this.#post(input, reply))
  }

  async #post(input: NewPost, reply?: { parent: PostRef; root: PostRef }): Promise<StoredPost> {
    this.checkWritable()
    const createdAt = this.now()
    const record: PostRecord = {
      type: 'post',
      createdAt,
      text: input.text,
      topics: input.topics ?? [],
      mentions: input.mentions ?? [],
      attachments: input.attachments ?? []
    }
    if (reply) record.reply = reply
    const value = encodeRecord(record) // validates before anything is written
    const id = Math.max(createdAt, this.lastId + 1)
    await this.bee.put(postKey(id), value)
    this.lastId = id
    return (await this.getPost(id))!
  }

  edit(id: number, text: string): Promise<StoredPost> {
    return this.serial(() => this.#edit(id, text))
  }

  async #edit(id: number, text: string): Promise<StoredPost> {
    this.checkWritable()
    const current = await this.own(id)
    const record: PostRecord = { ...current.record, text, editedAt: this.now() }
    await this.bee.put(postKey(id), encodeRecord(record))
    return (await this.getPost(id))!
  }

  /** Replaces the post with a tombstone: its place in threads stays, its content goes. */
  delete(id: number): Promise<StoredPost> {
    return this.serial(() => this.#delete(id))
  }

  async #delete(id: number): Promise<StoredPost> {
    this.checkWritable()
    const current = await this.own(id)
    const record: PostRecord = {
      type: 'post',
      createdAt: current.record.createdAt,
      text: '',
      topics: [],
      mentions: [],
      attachments: [],
      deletedAt: this.now()
    }
    if (current.record.reply) record.reply = current.record.reply
    await this.bee.put(postKey(id), encodeRecord(record))
    return (await this.getPost(id))!
  }

  /** Publish a torrent's metadata (the caller built and checked it), once per infohash. */
  putTorrent(infohash: Uint8Array, torrent: Buffer): Promise<void> {
    return this.serial(async () => {
      this.checkWritable()
      const key = torrentKey(infohash)
      if (await this.bee.get(key)) return
      await this.bee.put(key, torrent)
    })
  }

  /** Link someone else's comment into the thread of my post `rootId` (once). */
  addBacklink(rootId: number, comment: PostRef, parent: PostRef): Promise<boolean> {
    return this.serial(async () => {
      this.checkWritable()
      const key = backlinkKey(rootId, comment)
      if (await this.bee.get(key)) return false
      await this.bee.put(key, encodeRecord({ type: 'backlink', at: this.now(), comment, parent }))
      return true
    })
  }

  setRelation(type: RelationRecord['type'], target: Buffer): Promise<RelationRecord> {
    return this.serial(() => this.#setRelation(type, target))
  }

  async #setRelation(type: RelationRecord['type'], target: Buffer): Promise<RelationRecord> {
    this.checkWritable()
    const record: RelationRecord = { type, at: this.now(), target }
    const key = type === 'follow' || type === 'unfollow' ? followKey(target) : blockKey(target)
    await this.bee.put(key, encodeRecord(record))
    return record
  }

  private checkWritable(): void {
    if (this.writeLock) throw this.writeLock
  }

  private async own(id: number): Promise<StoredPost> {
    const current = await this.getPost(id)
    if (!current) throw new ChrysalisError('NOT_FOUND', 'no such post in your feed; check the ref with `chrysalis feed`')
    if (current.record.deletedAt !== undefined) throw new ChrysalisError('DELETED', 'that post is already deleted')
    return current
  }
}
