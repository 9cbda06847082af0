import path from 'node:path'
import Corestore from 'corestore'
import { ChrysalisError } from '../errors.js'
import { encodeId, fingerprint, parseId, toHex } from '../identity/encoding.js'
import { clearRecovering, isRecovering, loadIdentity } from '../identity/home.js'
import type { Identity } from '../identity/keys.js'
import { Feed, OwnFeed, type StoredPost } from '../feeds/feed.js'
import { feedKeyOf, formatRef, parseRef, FOLLOW_PREFIX, BLOCK_PREFIX } from '../feeds/layout.js'
import { LocalIndex } from '../feeds/local-index.js'
import { normalizeTopic, type PostRef } from '../feeds/records.js'
import { extractMentions, extractTopics, uniqueKeys, uniqueStrings } from '../feeds/text.js'
import * as b4a from '../bytes.js'
import { postView, type PersonView, type PostView, type ProfileView, type ThreadNode, type ThreadView } from './views.js'

export interface NodeOptions {
  home: string
  /** The clock for createdAt and post ids; tests inject one. */
  now?: () => number
  /** How many of a newly followed feed's newest posts to index at once (default 500). */
  initialWindow?: number
}

export const STORE_DIR = 'store'

/**
 * One Chrysalis node: the identity, its corestore, its own feed, the feeds it follows and the
 * local index, opened once and closed once. Every consumer (CLI, TUI, tests) goes through this API.
 *
 *   const node = await ChrysalisNode.open({ home })
 *   const post = await node.post({ text: 'Kaypro II manual #vintage-manuals' })
 *   const page = await node.timeline({ limit: 20 })
 *   await node.close()
 */
export class ChrysalisNode {
  readonly home: string
  readonly identity: Identity
  readonly store: Corestore
  readonly own: OwnFeed
  readonly index: LocalIndex
  private readonly feeds = new Map<string, Feed>()
  private following = new Set<string>()
  private blocked = new Set<string>()
  private closing: Promise<void> | null = null

  private constructor(home: string, identity: Identity, store: Corestore, opts: NodeOptions) {
    this.home = home
    this.identity = identity
    this.store = store
    const now = opts.now ?? Date.now
    this.own = new OwnFeed(store.get({ keyPair: identity.keyPair() }), identity.publicKey, { now })
    this.index = new LocalIndex(store.get({ name: 'local-index' }), { now, initialWindow: opts.initialWindow ?? 500 })
  }

  static async open(opts: NodeOptions): Promise<ChrysalisNode> {
    const identity = await loadIdentity(opts.home)
    const store = await openStore(opts.home)
    const node = new ChrysalisNode(opts.home, identity, store, opts)
    try {
      await node.ready()
    } catch (err) {
      await node.close()
      throw err
    }
    return node
  }

  private async ready(): Promise<void> {
    if (await isRecovering(this.home)) {
      this.own.writeLock = new ChrysalisError(
        'RECOVERING',
        'this identity was restored and its feed has not been recovered from peers yet; writing now would fork it. Sync with peers first, or if it never posted anything, run `chrysalis identity never-posted`'
      )
    }
    await this.own.ready()
    await this.index.ready()
    this.following = new Set((await this.own.following()).map((f) => toHex(f.target)))
    this.blocked = new Set((await this.own.blocked()).map((f) => toHex(f.target)))
    await this.index.update(this.own)
    for (const hex of this.following) await this.index.update(this.feedOf(b4a.from(hex, 'hex')))
  }

  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    for (const feed of this.feeds.values()) await feed.close()
    this.feeds.clear()
    await this.index.close()
    await this.own.close()
    await this.store.close()
  }

  // -------------------------------------------------------------------------------------------
  // Identity and profile

  /** True while a restored identity's feed is not recovered: writes are refused. */
  get recovering(): boolean {
    return this.own.writeLock !== null
  }

  /**
   * The user states that this identity never posted before it was restored: there is no feed to
   * fork, so writing may start. Only valid while recovering.
   */
  async confirmNeverPosted(): Promise<void> {
    if (!this.recovering) throw new ChrysalisError('BAD_INPUT', 'this identity is not waiting for recovery; nothing to confirm')
    await clearRecovering(this.home)
    this.own.writeLock = null
  }

  async whoami(): Promise<ProfileView> {
    return this.profileOf(this.own)
  }

  async setProfile(fields: { name?: string; bio?: string }): Promise<ProfileView> {
    const current = await this.own.profile()
    const name = fields.name ?? current?.name
    if (name === undefined) throw new ChrysalisError('USAGE', 'you have no name yet; give one with --name NAME')
    const bio = fields.bio ?? current?.bio ?? ''
    await this.own.setProfile(current?.avatar ? { name, bio, avatar: current.avatar } : { name, bio })
    return this.whoami()
  }

  async profile(id: string | Buffer): Promise<ProfileView> {
    return this.profileOf(this.feedOf(typeof id === 'string' ? parseId(id) : id))
  }

  private async profileOf(feed: Feed): Promise<ProfileView> {
    const profile = await feed.profile()
    return {
      id: encodeId(feed.author),
      fingerprint: fingerprint(feed.author),
      name: profile?.name ?? null,
      bio: profile?.bio ?? '',
      feedKey: toHex(feed.core.key),
      ...(feed === this.own ? { recovering: this.recovering } : {})
    }
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  async post(input: { text: string; topics?: string[]; mentions?: string[] }): Promise<PostView> {
    const stored = await this.own.post(this.composePost(input))
    await this.index.update(this.own)
    return this.view(stored)
  }

  async comment(ref: string | PostRef, text: string, opts: { topics?: string[]; mentions?: string[] } = {}): Promise<PostView> {
    const parentRef = typeof ref === 'string' ? parseRef(ref) : ref
    const parent = await this.feedOf(parentRef.author).getPost(parentRef.id)
    if (!parent) {
      throw new ChrysalisError('NOT_FOUND', `post ${formatRef(parentRef)} is not available here; follow its author and sync, then try again`)
    }
    if (parent.record.deletedAt !== undefined) throw new ChrysalisError('DELETED', 'that post was deleted by its author; comment on another post of the thread')
    const root = parent.record.reply?.root ?? parentRef
    const stored = await this.own.post(this.composePost({ text, ...opts }), { parent: parentRef, root })
    await this.index.update(this.own)
    return this.view(stored)
  }

  async edit(ref: string | PostRef, text: string): Promise<PostView> {
    const stored = await this.own.edit(this.ownRef(ref).id, text)
    await this.index.update(this.own)
    return this.view(stored)
  }

  async delete(ref: string | PostRef): Promise<PostView> {
    const stored = await this.own.delete(this.ownRef(ref).id)
    await this.index.update(this.own)
    return this.view(stored)
  }

  private ownRef(ref: string | PostRef): PostRef {
    const r = typeof ref === 'string' ? parseRef(ref) : ref
    if (!b4a.equals(r.author, this.identity.publicKey)) {
      throw new ChrysalisError('NOT_YOURS', 'that post is not yours; you can only edit or delete your own posts')
    }
    return r
  }

  private composePost(input: { text: string; topics?: string[]; mentions?: string[] }) {
    const topics = uniqueStrings([...(input.topics ?? []).map(normalizeTopic), ...extractTopics(input.text)])
    const mentions = uniqueKeys([...(input.mentions ?? []).map((m) => parseId(m)), ...extractMentions(input.text)])
    return { text: input.text, topics, mentions }
  }

  // -------------------------------------------------------------------------------------------
  // Following and blocking

  async follow(id: string | Buffer): Promise<PersonView> {
    const target = this.otherId(id, 'follow')
    const hex = toHex(target)
    if (this.blocked.has(hex)) throw new ChrysalisError('BAD_INPUT', 'you blocked this identity; unblock it first with `chrysalis unblock ID`')
    if (!this.following.has(hex)) {
      await this.own.setRelation('follow', target)
      this.following.add(hex)
    }
    await this.index.update(this.feedOf(target))
    return this.person(target)
  }

  async unfollow(id: string | Buffer): Promise<PersonView> {
    const target = this.otherId(id, 'unfollow')
    const hex = toHex(target)
    if (!this.following.has(hex)) throw new ChrysalisError('NOT_FOUND', 'you do not follow this identity; see `chrysalis following`')
    await this.own.setRelation('unfollow', target)
    this.following.delete(hex)
    return this.person(target)
  }

  async block(id: string | Buffer): Promise<PersonView> {
    const target = this.otherId(id, 'block')
    const hex = toHex(target)
    if (this.following.has(hex)) {
      await this.own.setRelation('unfollow', target)
      this.following.delete(hex)
    }
    if (!this.blocked.has(hex)) {
      await this.own.setRelation('block', target)
      this.blocked.add(hex)
    }
    return this.person(target)
  }

  async unblock(id: string | Buffer): Promise<PersonView> {
    const target = this.otherId(id, 'unblock')
    const hex = toHex(target)
    if (!this.blocked.has(hex)) throw new ChrysalisError('NOT_FOUND', 'you have not blocked this identity')
    await this.own.setRelation('unblock', target)
    this.blocked.delete(hex)
    return this.person(target)
  }

  async followingList(): Promise<PersonView[]> {
    return this.relationList(FOLLOW_PREFIX)
  }

  async blockedList(): Promise<PersonView[]> {
    return this.relationList(BLOCK_PREFIX)
  }

  private async relationList(prefix: typeof FOLLOW_PREFIX | typeof BLOCK_PREFIX): Promise<PersonView[]> {
    const list = prefix === FOLLOW_PREFIX ? await this.own.following() : await this.own.blocked()
    return Promise.all(list.map(({ target }) => this.person(target)))
  }

  isFollowing(author: Uint8Array): boolean {
    return this.following.has(toHex(author))
  }

  isBlocked(author: Uint8Array): boolean {
    return this.blocked.has(toHex(author))
  }

  private async person(target: Buffer): Promise<PersonView> {
    const relation = (await this.own.relation(FOLLOW_PREFIX, target)) ?? (await this.own.relation(BLOCK_PREFIX, target))
    return {
      id: encodeId(target),
      fingerprint: fingerprint(target),
      name: (await this.feedOf(target).profile())?.name ?? null,
      since: relation?.at ?? 0
    }
  }

  private otherId(id: string | Buffer, verb: string): Buffer {
    const target = typeof id === 'string' ? parseId(id) : id
    if (b4a.equals(target, this.identity.publicKey)) throw new ChrysalisError('BAD_INPUT', `you cannot ${verb} yourself`)
    return target
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /**
   * Re-index every followed feed. With `update`, first ask connected peers for each feed's
   * latest length (hypercore answers at once when no peer is attached).
   */
  async refresh(opts: { update?: boolean } = {}): Promise<{ changed: number; skipped: number }> {
    let changed = 0
    let skipped = 0
    for (const feed of [this.own, ...[...this.following].map((hex) => this.feedOf(b4a.from(hex, 'hex')))]) {
      if (opts.update && feed !== this.own) await feed.core.update({ wait: true })
      const r = await this.index.update(feed)
      changed += r.changed
      skipped += r.skipped
    }
    return { changed, skipped }
  }

  /** The newest top-level posts of you and the people you follow, blocked people excluded. */
  async timeline(opts: { limit?: number; before?: string } = {}): Promise<{ posts: PostView[]; next: string | null }> {
    const limit = opts.limit ?? 20
    const include = (hex: string): boolean => this.visible(hex) && (hex === this.own.authorHex || this.following.has(hex))
    const refs = await this.index.timeline({ limit, include, ...(opts.before !== undefined ? { before: opts.before } : {}) })
    const posts: PostView[] = []
    for (const ref of refs) {
      const stored = await this.feedOf(ref.author).getPost(ref.id)
      if (!stored) continue
      const view = await this.view(stored)
      view.comments = await this.index.commentCount(ref, (hex) => this.visible(hex))
      posts.push(view)
    }
    return { posts, next: refs.length === limit ? refs[refs.length - 1]!.cursor : null }
  }

  /** One identity's posts and comments, newest first, read from their feed (sparse on remote). */
  async feed(id?: string | Buffer, opts: { limit?: number; before?: string } = {}): Promise<PostView[]> {
    const author = id === undefined ? this.identity.publicKey : typeof id === 'string' ? parseId(id) : id
    const before = opts.before !== undefined ? parseRef(`${encodeId(author)}/${opts.before}`).id : undefined
    const posts = await this.feedOf(author).posts({ limit: opts.limit ?? 20, ...(before !== undefined ? { before } : {}) })
    return Promise.all(posts.map((p) => this.view(p)))
  }

  async getPost(ref: string | PostRef): Promise<PostView | null> {
    const r = typeof ref === 'string' ? parseRef(ref) : ref
    const stored = await this.feedOf(r.author).getPost(r.id)
    return stored ? this.view(stored) : null
  }

  /** A post's whole thread: its root, and every known comment as a tree, oldest first. */
  async thread(ref: string | PostRef): Promise<ThreadView> {
    const r = typeof ref === 'string' ? parseRef(ref) : ref
    const start = await this.feedOf(r.author).getPost(r.id)
    const rootRef = start?.record.reply?.root ?? r
    const rootPost = start?.record.reply ? await this.feedOf(rootRef.author).getPost(rootRef.id) : start
    const root = rootPost ? await this.view(rootPost) : null

    const nodes = new Map<string, ThreadNode>()
    const entries = await this.index.thread(rootRef)
    for (const entry of entries) {
      if (!this.visible(toHex(entry.author))) continue
      const stored = await this.feedOf(entry.author).getPost(entry.id)
      if (stored) nodes.set(formatRef(entry), { ...(await this.view(stored)), children: [] })
    }
    const comments: ThreadNode[] = []
    for (const node of nodes.values()) {
      const parent = node.replyTo ? nodes.get(node.replyTo) : undefined
      if (parent) parent.children.push(node)
      else comments.push(node) // answers the root, or a comment not visible here
    }
    const byTime = (a: ThreadNode, b: ThreadNode): number => a.createdAt - b.createdAt || a.ref.localeCompare(b.ref)
    const sortTree = (list: ThreadNode[]): void => {
      list.sort(byTime)
      for (const n of list) sortTree(n.children)
    }
    sortTree(comments)
    if (root) root.comments = nodes.size
    return { root, rootRef: formatRef(rootRef), comments, count: nodes.size }
  }

  private visible(hex: string): boolean {
    return !this.blocked.has(hex)
  }

  /** The Feed for an identity: the own feed, or a reader over their core in this store. */
  feedOf(author: Buffer): Feed {
    if (b4a.equals(author, this.identity.publicKey)) return this.own
    const hex = toHex(author)
    let feed = this.feeds.get(hex)
    if (!feed) {
      feed = new Feed(this.store.get({ key: feedKeyOf(author) }), author)
      this.feeds.set(hex, feed)
    }
    return feed
  }

  private async view(post: StoredPost): Promise<PostView> {
    const name = (await this.feedOf(post.author).profile())?.name ?? null
    return postView(post, name)
  }
}

/** Open the corestore in HOME, turning RocksDB's lock error into one line a person can act on. */
export async function openStore(home: string): Promise<Corestore> {
  const store = new Corestore(path.join(home, STORE_DIR))
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {})
    if (err instanceof Error && /could not be locked|LOCK/i.test(err.message)) {
      throw new ChrysalisError('HOME_LOCKED', `another chrysalis process is using ${home}; close it, or run this command through it`)
    }
    throw err
  }
  return store
}
