import type Hypercore from 'hypercore'
import Hyperbee, { type Batch } from 'hyperbee'
import * as b4a from '../bytes.js'
import { SerialByKey } from '../serial.js'
import { toHex } from '../identity/encoding.js'
import type { Feed, StoredPost } from './feed.js'
import { BACKLINK_PREFIX, POST_PREFIX, parsePostKey, postIdHex, rangeOf } from './layout.js'
import { isUnavailable, LOCAL_ONLY } from './feed.js'
import type { PostRef } from './records.js'
import { Resource } from '../lifecycle.js'
import { SearchIndex, type SearchHit, type SearchPost } from './search.js'

/**
 * The local index over the own feed and every followed feed: a hyperbee on a local-only core.
 * It answers the timeline (top-level posts, newest first) and threads (every comment under a
 * root). It is updated incrementally: per feed it remembers the bee version it has indexed and
 * reads only the diff since then. Nothing here is replicated; its layout is private.
 *
 *   tl/<time 12 hex>/<author hex>/<id hex>        a top-level post, by time
 *   th/<root author>/<root id>/<author>/<id>      a comment in a thread -> { p: parent }; from a
 *                                                 backlink not yet checked { p, b: 1 }; { x: 1 }
 *                                                 once a backlinked comment proved to belong to
 *                                                 another thread (never shown again)
 *   by/<author hex>/<id hex>                      what this post added -> { tl?, th? }
 *   cur/<author hex>                              -> { v: indexed version, skipped }
 *   interest/<topic name>                         an interest topic the user joined
 *   person/<author hex>                           what search finds an indexed feed's author by -> { n: name, i: bio }
 *   notif/<time>/<author hex>/<id hex>            a comment or mention addressed to me -> { k };
 *                                                 a follow of me: <id hex> is the follow record's time -> { k: 'follow' }
 *   out/<target hex>/<id hex>                     a notification still to deliver -> { k }; a follow
 *                                                 notice (k 'follow'): <id hex> is the record's time,
 *                                                 one per target
 *   follower/<author hex>                         someone whose feed says they follow me -> { fa: their
 *                                                 record's time, fs: since (min of it and when I learned it) }
 *
 * The time of a timeline entry is min(createdAt, time of indexing): an author cannot pin posts
 * to the top of everyone's timeline by dating them in the future.
 */
/** `s` on by/ entries: what search finds a post by (text, topics, file names, time); `n`, `i` on person/ entries: name, bio. */
type IndexValue = { v?: number; skipped?: number; p?: string; tl?: string; th?: string; k?: string; b?: 1; x?: 1; s?: Searchable; n?: string; i?: string; fa?: number; fs?: number }
type Searchable = { t: string; g: string[]; f: string[]; a: number }
type SearchChanges = Array<(s: SearchIndex) => void>
type IndexBee = Hyperbee<string, IndexValue>

export interface IndexedRef extends PostRef {
  /** Opaque cursor: pass it back as `before` for the next page. */
  cursor: string
}

export interface ThreadEntry extends PostRef {
  parent: PostRef
  /** Known only from the thread author's backlink, not yet checked against the comment itself. */
  claimed: boolean
}

export interface UpdateResult {
  /** Posts added or changed in the index. */
  changed: number
  /** True when blocks were missing (offline): nothing was indexed, the next update retries. */
  incomplete?: boolean
  /** Records the feed holds that were skipped as malformed, in this update. */
  skipped: number
  version: number
}

/** This node's private index over every feed it reads (see the key layout above): timeline, threads, notifications, outbox. */
export class LocalIndex extends Resource {
  readonly db: IndexBee
  private readonly now: () => number
  private readonly initialWindow: number
  private readonly updates = new SerialByKey<UpdateResult>()

  /** Built on the first search, then kept up to date; while building, changes wait in `pending`. */
  private search: SearchIndex | null = null
  private pending: SearchChanges | null = null
  private building: Promise<SearchIndex> | null = null

  /**
   * @param opts.initialWindow how many of the newest posts of a feed to index the first time it
   *   is seen; older ones are read from the feed on demand (`feed ID --before`). Infinity = all.
   */

  constructor(core: Hypercore, opts: { now?: () => number; initialWindow?: number } = {}) {
    super()
    this.db = new Hyperbee<string, IndexValue>(core, { keyEncoding: 'utf-8', valueEncoding: 'json' })
    this.now = opts.now ?? Date.now
    this.initialWindow = opts.initialWindow ?? 500
  }

  protected _open(): Promise<void> {
    return this.db.ready()
  }

  protected _close(): Promise<void> {
    return this.db.close()
  }

  async indexedVersion(author: Uint8Array): Promise<number> {
    return (await this.db.get('cur/' + toHex(author)))?.value.v ?? 0
  }

  /** Bring the index up to date with one feed. Calls for the same feed run one after another. */
  update(feed: Feed): Promise<UpdateResult> {
    return this.updates.run(feed.authorHex, () => this.runUpdate(feed))
  }

  private async runUpdate(feed: Feed): Promise<UpdateResult> {
    await feed.ready()
    const hex = feed.authorHex
    const snap = feed.bee.snapshot()
    try {
      await snap.ready() // a snapshot's version is only right once it is ready
      const version = snap.version
      const cur = await this.db.get('cur/' + hex)
      let from = cur?.value.v ?? 0
      if (from === version) return { changed: 0, skipped: 0, version }
      if (from > version) from = 0 // the feed is shorter than what we indexed: start over
      const skippedBefore = feed.skipped.count
      const batch = this.db.batch()
      let changed = 0
      const changes: SearchChanges = []
      const opts = feed.readOptions()
      const read = async (): Promise<void> => {
        if (from === 0 && Number.isFinite(this.initialWindow)) {
          // First sight of this feed: index only its newest posts (a sparse read), not its history.
          for await (const entry of snap.createReadStream(rangeOf(POST_PREFIX), { reverse: true, limit: this.initialWindow, ...opts })) {
            const post = feed.toPost(entry.key, entry.value, entry.seq)
            if (post && (await this.add(batch, post, changes))) changed++
          }
          for await (const entry of snap.createReadStream(rangeOf(BACKLINK_PREFIX), { limit: 10 * this.initialWindow, ...opts })) {
            if (await this.addBacklink(batch, feed, entry.key, entry.value)) changed++
          }
        } else {
          for await (const { left, right } of snap.createDiffStream(from, { ...rangeOf(POST_PREFIX), ...opts })) {
            const id = parsePostKey((left ?? right)!.key)
            if (id === null) continue
            if (right) await this.remove(batch, feed.author, id, changes)
            const post = left ? feed.toPost(left.key, left.value, left.seq) : null
            if (post) await this.add(batch, post, changes)
            changed++
          }
          for await (const { left } of snap.createDiffStream(from, { ...rangeOf(BACKLINK_PREFIX), ...opts })) {
            if (left && (await this.addBacklink(batch, feed, left.key, left.value))) changed++
          }
        }
        // What is here only: indexing never waits on the network for a name (it comes with a later update).
        const profile = await feed.profile(LOCAL_ONLY)
        if (profile) {
          const person = await batch.get('person/' + hex)
          if (person?.value.n !== profile.name || person.value.i !== profile.bio) {
            await batch.put('person/' + hex, { n: profile.name, i: profile.bio })
            changes.push((x) => x.setPerson({ author: hex, name: profile.name, bio: profile.bio }))
          }
        }
      }
      try {
        // A feed whose newest block is not a bee node is unreadable at this version: counted and
        // passed over; its next valid write makes it readable again.
        await feed.guardDecoding(read(), undefined)
      } catch (err) {
        if (!isUnavailable(err)) throw err
        await batch.close()
        return { changed: 0, skipped: 0, version: from, incomplete: true }
      }
      const skipped = feed.skipped.count - skippedBefore
      await batch.put('cur/' + hex, { v: version, skipped: (cur?.value.skipped ?? 0) + skipped })
      await batch.flush()
      for (const change of changes) this.applySearch(change)
      return { changed, skipped, version }
    } finally {
      await snap.close()
    }
  }

  private async add(batch: Batch<string, IndexValue>, post: StoredPost, changes: SearchChanges): Promise<boolean> {
    const author = toHex(post.author)
    const id = `${author}/${postIdHex(post.id)}`
    const byKey = `by/${id}`
    const s = searchable(post)
    if (await batch.get(byKey)) return false // indexed already (by an older version: the first search adds its document)
    if (s) changes.push((x) => x.addPost(searchPost(id, s)))
    const reply = post.record.reply
    const value: IndexValue = s ? { s } : {}
    if (reply) {
      value.th = `th/${refPath(reply.root)}/${author}/${postIdHex(post.id)}`
      await batch.put(value.th, { p: refPath(reply.parent) })
    } else {
      const t = Math.min(post.record.createdAt, this.now())
      value.tl = `tl/${postIdHex(t)}/${author}/${postIdHex(post.id)}`
      await batch.put(value.tl, {})
    }
    await batch.put(byKey, value)
    return true
  }

  /** A backlink in the root author's feed adds someone else's comment to that thread. */
  private async addBacklink(batch: Batch<string, IndexValue>, feed: Feed, key: string, value: Buffer): Promise<boolean> {
    const link = feed.toBacklink(key, value)
    if (!link) return false
    const th = `th/${feed.authorHex}/${postIdHex(link.rootId)}/${toHex(link.comment.author)}/${postIdHex(link.comment.id)}`
    if (await batch.get(th)) return false
    await batch.put(th, { p: refPath(link.parent), b: 1 })
    return true
  }

  private async remove(batch: Batch<string, IndexValue>, author: Buffer, postId: number, changes: SearchChanges): Promise<void> {
    const id = `${toHex(author)}/${postIdHex(postId)}`
    const byKey = `by/${id}`
    const entry = await batch.get(byKey)
    if (!entry) return
    if (entry.value.tl) await batch.del(entry.value.tl)
    if (entry.value.th) await batch.del(entry.value.th)
    await batch.del(byKey)
    changes.push((x) => x.removePost(id))
  }

  /**
   * Posts (text, topics, attached file names) and people (name, bio) indexed here that match
   * `query`, best first. The first search builds the full-text index from the stored documents;
   * `read` gives the posts indexed by an earlier version without them (read from what is here,
   * then kept), so a home made before search finds its old posts too.
   */
  async find(query: string, opts: { limit?: number; kind?: 'post' | 'person'; exclude?: (author: string) => boolean; read?: (ref: PostRef) => Promise<StoredPost | null> } = {}): Promise<SearchHit[]> {
    return (await this.searchIndex(opts.read)).query(query, opts)
  }

  private searchIndex(read?: (ref: PostRef) => Promise<StoredPost | null>): Promise<SearchIndex> {
    if (this.search) return Promise.resolve(this.search)
    this.building ??= this.buildSearch(read).finally(() => {
      this.building = null
    })
    return this.building
  }

  private async buildSearch(read?: (ref: PostRef) => Promise<StoredPost | null>): Promise<SearchIndex> {
    const pending: SearchChanges = []
    this.pending = pending
    try {
      const built = new SearchIndex({ now: this.now })
      const missing: Array<{ key: string; value: IndexValue; ref: PostRef }> = []
      for await (const entry of this.db.createReadStream(rangeOf('by/'))) {
        if (entry.value.s) built.addPost(searchPost(entry.key.slice('by/'.length), entry.value.s))
        else if (read) {
          const ref = parseRefPath(entry.key.slice('by/'.length))
          if (ref) missing.push({ key: entry.key, value: entry.value, ref })
        }
      }
      for await (const entry of this.db.createReadStream(rangeOf('person/'))) {
        built.setPerson({ author: entry.key.slice('person/'.length), name: entry.value.n ?? '', bio: entry.value.i ?? '' })
      }
      if (missing.length > 0 && read) {
        const batch = this.db.batch()
        for (const m of missing) {
          const post = await read(m.ref).catch(() => null)
          const s = post ? searchable(post) : null
          if (!s) continue
          await batch.put(m.key, { ...m.value, s })
          built.addPost(searchPost(m.key.slice('by/'.length), s))
        }
        await batch.flush()
      }
      // What updates flushed while the documents were read, again (adds and removes are idempotent).
      for (const change of pending) change(built)
      this.search = built
      return built
    } finally {
      this.pending = null // a failed build is tried again by the next search
    }
  }

  private applySearch(change: (s: SearchIndex) => void): void {
    try {
      if (this.search) change(this.search)
      else this.pending?.push(change)
    } catch {
      this.search = null // out of step with what is stored: rebuilt from it by the next search
    }
  }

  /**
   * Top-level posts, newest first, of the authors `include` accepts (following and not blocked:
   * the caller decides). Pages with `before`, the cursor of the last entry of the previous page.
   */
  async timeline(opts: { limit: number; before?: string; include: (authorHex: string) => boolean }): Promise<IndexedRef[]> {
    const out: IndexedRef[] = []
    const range = rangeOf('tl/')
    if (opts.before !== undefined) range.lt = opts.before
    for await (const entry of this.db.createReadStream(range, { reverse: true })) {
      const parts = entry.key.split('/')
      const author = parts[2]
      const id = parts[3]
      if (author === undefined || id === undefined || !opts.include(author)) continue
      out.push({ author: b4a.from(author, 'hex'), id: parseInt(id, 16), cursor: entry.key })
      if (out.length >= opts.limit) break
    }
    return out
  }

  /**
   * Authors (hex) by their newest top-level post, newest first, as far as the newest `scan`
   * timeline entries reach: who has been active lately.
   */
  async recentAuthors(scan = 10_000): Promise<string[]> {
    const seen = new Set<string>()
    let n = 0
    for await (const entry of this.db.createReadStream(rangeOf('tl/'), { reverse: true })) {
      const author = entry.key.split('/')[2]
      if (author !== undefined) seen.add(author)
      if (++n >= scan) break
    }
    return [...seen]
  }

  /** Every comment indexed under a thread root, oldest first by author then id. */
  async thread(root: PostRef): Promise<ThreadEntry[]> {
    const out: ThreadEntry[] = []
    for await (const entry of this.db.createReadStream(rangeOf(`th/${refPath(root)}/`))) {
      const parts = entry.key.split('/')
      const parent = entry.value.p ? parseRefPath(entry.value.p) : null
      if (parts.length !== 5 || !parent || entry.value.x) continue
      out.push({ author: b4a.from(parts[3]!, 'hex'), id: parseInt(parts[4]!, 16), parent, claimed: entry.value.b === 1 })
    }
    return out
  }

  /** Comments indexed in threads (their own or through a backlink), for fetching and checking. */
  async threadComments(limit: number): Promise<Array<{ root: PostRef; comment: PostRef }>> {
    const out: Array<{ root: PostRef; comment: PostRef }> = []
    for await (const entry of this.db.createReadStream(rangeOf('th/'), { limit })) {
      const parts = entry.key.split('/')
      if (parts.length !== 5 || entry.value.x) continue
      const root = parseRefPath(`${parts[1]}/${parts[2]}`)
      const comment = parseRefPath(`${parts[3]}/${parts[4]}`)
      if (root && comment) out.push({ root, comment })
    }
    return out
  }

  /**
   * A backlink claimed `comment` for the thread of `root`; the comment's own record was read.
   * When it answers that thread the claim is kept as checked (counted from then on without
   * reading the comment again). When it answers another thread (or none), a thread author
   * tried to pull someone's words into their thread: the entry stays, marked, so that re-reading
   * the backlink does not add it again, and it is never shown or counted.
   */
  async settleThreadEntry(root: PostRef, comment: PostRef, answers: boolean): Promise<void> {
    const key = `th/${refPath(root)}/${refPath(comment)}`
    const entry = await this.db.get(key)
    if (!entry || entry.value.x) return
    if (!answers) await this.db.put(key, { x: 1 })
    else if (entry.value.b) await this.db.put(key, { p: entry.value.p! })
  }

  /** Interest topics the user joined (local settings live beside the index, never replicated). */
  async interests(): Promise<string[]> {
    const out: string[] = []
    for await (const entry of this.db.createReadStream(rangeOf('interest/'))) out.push(entry.key.slice('interest/'.length))
    return out
  }

  /** Remember an interest topic; false when it was remembered already. */
  async addInterest(name: string): Promise<boolean> {
    if (await this.db.get('interest/' + name)) return false
    await this.db.put('interest/' + name, {})
    return true
  }

  async hasInterest(name: string): Promise<boolean> {
    return (await this.db.get('interest/' + name)) !== null
  }

  /** Forget an interest topic; false when it was not remembered. */
  async removeInterest(name: string): Promise<boolean> {
    if (!(await this.db.get('interest/' + name))) return false
    await this.db.del('interest/' + name)
    return true
  }

  /** Record a notification once; false when it was already there. */
  async addNotification(kind: string, ref: PostRef, at: number): Promise<boolean> {
    const by = `notified/${refPath(ref)}`
    if (await this.db.get(by)) return false
    const batch = this.db.batch()
    await batch.put(`notif/${postIdHex(at)}/${refPath(ref)}`, { k: kind })
    await batch.put(by, {})
    await batch.flush()
    return true
  }

  async notifications(limit: number): Promise<Array<{ kind: string; ref: PostRef; at: number }>> {
    const out: Array<{ kind: string; ref: PostRef; at: number }> = []
    for await (const entry of this.db.createReadStream(rangeOf('notif/'), { reverse: true, limit })) {
      const [, at, author, id] = entry.key.split('/')
      const ref = parseRefPath(`${author}/${id}`)
      if (ref && at) out.push({ kind: entry.value.k ?? 'comment', ref, at: parseInt(at, 16) })
    }
    return out
  }

  async queueOutgoing(target: Uint8Array, id: number, kind: string): Promise<void> {
    await this.db.put(`out/${toHex(target)}/${postIdHex(id)}`, { k: kind })
  }

  /** Notifications still to deliver, to everyone or to one identity (`to`), by target then id. */
  async outgoing(to?: Uint8Array): Promise<Array<{ target: Buffer; id: number; kind: string }>> {
    const out: Array<{ target: Buffer; id: number; kind: string }> = []
    for await (const entry of this.db.createReadStream(rangeOf(to ? `out/${toHex(to)}/` : 'out/'))) {
      const [, target, id] = entry.key.split('/')
      if (target && id) out.push({ target: b4a.from(target, 'hex'), id: parseInt(id, 16), kind: entry.value.k ?? 'comment' })
    }
    return out
  }

  async delivered(target: Uint8Array, id: number): Promise<void> {
    await this.db.del(`out/${toHex(target)}/${postIdHex(id)}`)
  }

  /** Queue a follow notice for `target` about our record of time `at`, replacing an older one for them. */
  async queueFollowNotice(target: Uint8Array, at: number): Promise<void> {
    const older: string[] = []
    for await (const entry of this.db.createReadStream(rangeOf(`out/${toHex(target)}/`))) if (entry.value.k === 'follow') older.push(entry.key)
    const batch = this.db.batch()
    for (const key of older) await batch.del(key)
    await batch.put(`out/${toHex(target)}/${postIdHex(at)}`, { k: 'follow' })
    await batch.flush()
  }

  /**
   * `author`'s feed says they follow us, by their record of time `at`: remember them, and a 'follow'
   * notification the first time this record is seen. True when it is new.
   */
  async addFollower(author: Uint8Array, at: number, now: number): Promise<boolean> {
    const key = `follower/${toHex(author)}`
    if ((await this.db.get(key))?.value.fa === at) return false
    const batch = this.db.batch()
    await batch.put(key, { fa: at, fs: Math.min(at, now) })
    await batch.put(`notif/${postIdHex(now)}/${toHex(author)}/${postIdHex(at)}`, { k: 'follow' })
    await batch.flush()
    return true
  }

  /** `author`'s feed no longer says they follow us; false when they were not a follower. */
  async removeFollower(author: Uint8Array): Promise<boolean> {
    const key = `follower/${toHex(author)}`
    if (!(await this.db.get(key))) return false
    await this.db.del(key)
    return true
  }

  /** Who follows us, as their feeds said when they told us; newest first. */
  async followers(): Promise<Array<{ author: Buffer; since: number }>> {
    const out: Array<{ author: Buffer; since: number }> = []
    for await (const entry of this.db.createReadStream(rangeOf('follower/'))) {
      const hex = entry.key.slice('follower/'.length)
      if (/^[0-9a-f]{64}$/.test(hex)) out.push({ author: b4a.from(hex, 'hex'), since: entry.value.fs ?? 0 })
    }
    return out.sort((a, b) => b.since - a.since)
  }

  async skippedCount(author: Uint8Array): Promise<number> {
    return (await this.db.get('cur/' + toHex(author)))?.value.skipped ?? 0
  }
}

/** What search finds a post by; null for a deleted post (nothing of it is shown, so nothing is found). */
function searchable(post: StoredPost): Searchable | null {
  const r = post.record
  if (r.deletedAt !== undefined) return null
  return { t: r.text, g: r.topics, f: r.attachments.map((a) => a.name), a: r.createdAt }
}

/** `id` is the by/ key's path: AUTHOR-HEX/ID-HEX. */
function searchPost(id: string, s: Searchable): SearchPost {
  return { id, author: id.slice(0, 64), at: s.a, text: s.t, topics: s.g, files: s.f }
}

function refPath(ref: PostRef): string {
  return `${toHex(ref.author)}/${postIdHex(ref.id)}`
}

function parseRefPath(s: string): PostRef | null {
  const m = /^([0-9a-f]{64})\/([0-9a-f]{12})$/.exec(s)
  return m ? { author: b4a.from(m[1]!, 'hex'), id: parseInt(m[2]!, 16) } : null
}
