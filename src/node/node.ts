import path from 'node:path'
import type Corestore from 'corestore'
import type HyperDHT from 'hyperdht'
import type { DhtNodeAddress } from 'hyperdht'
import { ChrysalisError } from '../errors.js'
import { Resource } from '../lifecycle.js'
import { parseId } from '../identity/encoding.js'
import { clearRecovering, HOME_FILES, isRecovering, loadIdentity } from '../identity/home.js'
import type { Identity } from '../identity/keys.js'
import { restrictTree } from '../fs.js'
import * as b4a from '../bytes.js'
import { OwnFeed } from '../feeds/feed.js'
import { formatRef, parseRef } from '../feeds/layout.js'
import { LocalIndex } from '../feeds/local-index.js'
import type { PostRef } from '../feeds/records.js'
import { composePost } from '../feeds/text.js'
import { Transfers } from '../transfer/transfers.js'
import type { BtOptions } from '../transfer/bt-options.js'
import { Conversations } from './conversations.js'
import { FeedSet } from './feed-set.js'
import { Followers } from './followers.js'
import { Finding, type LookResult, type TopicUpdate, type TopicView } from './finding.js'
import { NodeFiles } from './files.js'
import { Presence, type DiscoveredPerson } from './presence.js'
import { Reading, type SearchResult } from './reading.js'
import { Relations } from './relations.js'
import { openStore, STORE_DIR } from './store.js'
import type { AttachmentView, DiscoverResult, FollowerView, NodeStatus, NotificationView, PersonView, PostView, ProfileView, SyncResult, ThreadView } from './views.js'

export type { DiscoveredPerson, DiscoverResult, LookResult, NodeStatus, SearchResult, SyncResult, TopicUpdate, TopicView }
export { STORE_DIR }
export const TORRENTS_DIR = 'torrents'

export interface NodeOptions {
  home: string
  /** The clock for createdAt and post ids; tests inject one. */
  now?: () => number
  /** How many of a newly followed feed's newest posts to index at once (default 500). */
  initialWindow?: number
}

export interface NodeEvents {
  /** A followed feed brought new or changed posts into the index. */
  'feed-update': [{ id: string; changed: number }]
  /** Someone commented on your post, mentioned you or followed you (verified from their feed). */
  notification: [NotificationView]
}

/**
 * One Chrysalis node: the identity, its corestore, its own feed, the feeds it follows and the
 * local index, opened once and closed once. Every consumer (CLI, TUI, tests) goes through this
 * API. The state lives in its parts, each the one owner of what it holds: `Relations` (whom we
 * follow and block), `Reading` (views of what is here), `Presence` (the swarm, live feeds,
 * discovery), `Conversations` (notifications and backlinks), `NodeFiles` (torrents).
 *
 *   const node = await ChrysalisNode.open({ home })
 *   const post = await node.post({ text: 'Kaypro II manual #vintage-manuals' })
 *   const page = await node.timeline({ limit: 20 })
 *   await node.close()
 */
export class ChrysalisNode extends Resource<NodeEvents> {
  readonly home: string
  readonly identity: Identity
  /** Shared and fetched torrents, as views; the CLI and TUI go through this. */
  readonly files: NodeFiles
  private readonly store: Corestore
  private readonly releaseStore: () => void
  private readonly own: OwnFeed
  private readonly feeds: FeedSet
  private readonly index: LocalIndex
  private readonly transfers: Transfers
  private readonly relations: Relations
  private readonly reading: Reading
  private readonly presence: Presence
  private readonly conversations: Conversations
  private readonly followedBy: Followers
  private readonly finding: Finding

  private constructor(home: string, identity: Identity, store: { store: Corestore; release: () => void }, transfers: Transfers, opts: NodeOptions) {
    super()
    this.home = home
    this.identity = identity
    this.store = store.store
    this.releaseStore = store.release
    const now = opts.now ?? Date.now
    this.own = new OwnFeed(this.store.get({ keyPair: identity.keyPair() }), identity.publicKey, { now })
    this.feeds = new FeedSet(this.store, this.own)
    this.index = new LocalIndex(this.store.get({ name: 'local-index' }), { now, initialWindow: opts.initialWindow ?? 500 })
    this.transfers = transfers
    this.relations = new Relations(this.feeds)
    this.reading = new Reading(this.feeds, this.index, this.relations)
    this.presence = new Presence({ identity, store: this.store, feeds: this.feeds, index: this.index, relations: this.relations })
    const notify = (n: NotificationView): void => void this.emit('notification', n)
    this.followedBy = new Followers({ feeds: this.feeds, index: this.index, relations: this.relations, now, notify })
    this.conversations = new Conversations({
      feeds: this.feeds,
      index: this.index,
      relations: this.relations,
      presence: this.presence,
      reading: this.reading,
      now,
      notify,
      follower: (author, since) => this.followedBy.view(author, since)
    })
    this.finding = new Finding({ feeds: this.feeds, relations: this.relations, reading: this.reading, presence: this.presence, whoami: () => this.whoami() })
    this.presence.on('feed-update', (e) => this.emit('feed-update', e))
    this.presence.on('notify', (from, id, done) => void this.conversations.onNotify(from, id).then(done, done))
    this.presence.on('follow-notice', (from, done) => void this.followedBy.onNotice(from).then((read) => read && done(), done)) // unread: sent again later
    this.presence.on('peer', (publicKey) => void this.conversations.deliverSoon(publicKey, 10_000))
    this.files = new NodeFiles({
      transfers,
      feeds: this.feeds,
      findPost: (ref) => this.presence.findPost(ref, Date.now() + 10_000),
      presence: this.presence
    })
  }

  static async open(opts: NodeOptions): Promise<ChrysalisNode> {
    const identity = await loadIdentity(opts.home)
    const store = await openStore(opts.home)
    let transfers: Transfers
    try {
      transfers = await Transfers.open(path.join(opts.home, TORRENTS_DIR))
      // Homes made by earlier versions (or files written while a node was killed) get owner-only modes.
      await restrictHome(opts.home)
    } catch (err) {
      await store.store.close()
      store.release()
      throw err
    }
    const node = new ChrysalisNode(opts.home, identity, store, transfers, opts)
    try {
      await node.ready()
    } catch (err) {
      await node.close()
      throw err
    }
    return node
  }

  protected async _open(): Promise<void> {
    if (await isRecovering(this.home)) {
      this.own.writeLock = new ChrysalisError(
        'RECOVERING',
        'this identity was restored and its feed has not been recovered from peers yet; writing now would fork it. Sync with peers first, or if it never posted anything, run `chrysalis identity never-posted`'
      )
    }
    await this.own.ready()
    await this.index.ready()
    const profile = await this.own.profile()
    this.presence.hello = { name: profile?.name ?? '', bio: profile?.bio ?? '' }
    await this.relations.load()
    await this.index.update(this.own)
    for (const feed of this.relations.followed()) await this.index.update(feed)
  }

  /** Closes in reverse order of dependency: what uses the swarm, the swarm, the feeds, the store. */
  protected async _close(): Promise<void> {
    try {
      this.presence.stopLive() // no more indexing from appends while the rest closes
      await this.transfers.close()
      await this.presence.close()
      await this.index.close()
      await this.feeds.close()
      await this.store.close()
    } finally {
      this.releaseStore() // whatever failed above, the home is not left locked
    }
    await restrictHome(this.home) // RocksDB files created since open, should a watch have missed one
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
    if (!this.recovering) throw new ChrysalisError('BAD_STATE', 'this identity is not waiting for recovery; nothing to confirm')
    await clearRecovering(this.home)
    this.own.writeLock = null
  }

  whoami(): Promise<ProfileView> {
    return this.reading.profile(this.own, { recovering: this.recovering })
  }

  async setProfile(fields: { name?: string; bio?: string }): Promise<ProfileView> {
    const current = await this.own.profile()
    const name = fields.name ?? current?.name
    if (name === undefined) throw new ChrysalisError('USAGE', 'you have no name yet; give one with --name NAME')
    const bio = fields.bio ?? current?.bio ?? ''
    await this.own.setProfile(current?.avatar ? { name, bio, avatar: current.avatar } : { name, bio })
    this.presence.hello = { name, bio }
    await this.index.update(this.own) // search finds us by the new name
    return this.whoami()
  }

  profile(id: string | Buffer): Promise<ProfileView> {
    const feed = this.feeds.of(typeof id === 'string' ? parseId(id) : id)
    return feed === this.own ? this.whoami() : this.reading.profile(feed)
  }

  /**
   * Look before you follow: someone's profile, newest posts and follows, read sparsely from their
   * feed through whoever has it, without following them (Finding.look).
   *
   *   const { profile, posts, follows } = await node.look(id)
   */
  look(id: string | Buffer, opts: { limit?: number; timeoutMs?: number } = {}): Promise<LookResult> {
    return this.finding.look(typeof id === 'string' ? parseId(id) : id, opts)
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /**
   * Publish a post. `attach` lists paths to hash and share now; `shared` lists files already
   * shared by this node (files.share, e.g. while the TUI's compose showed their hashing).
   * Nothing is posted if any of them cannot be shared.
   */
  async post(input: {
    text: string
    topics?: string[]
    mentions?: string[]
    attach?: string[]
    shared?: AttachmentView[]
    /** Attached files as hybrid torrents (v1 + v2, the default) or v2 only (false). */
    hybrid?: boolean
    onProgress?: (file: string, done: number, total: number) => void
  }): Promise<PostView> {
    const attachments = []
    const composed = composePost(input) // bad topics or mentions fail before any hashing
    for (const a of input.shared ?? []) attachments.push(this.files.sharedAttachment(a))
    for (const file of input.attach ?? []) {
      attachments.push(await this.files.attachment(file, { ...(input.hybrid !== undefined ? { hybrid: input.hybrid } : {}), onProgress: (d, t) => input.onProgress?.(file, d, t) }))
    }
    const stored = await this.own.post({ ...composed, attachments })
    await this.index.update(this.own)
    await this.conversations.queue(stored)
    await this.presence.joinTopics(stored.record.topics) // posting on a topic makes you findable there
    return this.reading.view(stored)
  }

  async comment(ref: string | PostRef, text: string, opts: { topics?: string[]; mentions?: string[] } = {}): Promise<PostView> {
    const parentRef = typeof ref === 'string' ? parseRef(ref) : ref
    const parent = await this.feeds.of(parentRef.author).getPost(parentRef.id)
    if (!parent) {
      throw new ChrysalisError('NOT_FOUND', `post ${formatRef(parentRef)} is not available here; follow its author and sync, then try again`)
    }
    if (parent.record.deletedAt !== undefined) throw new ChrysalisError('DELETED', 'that post was deleted by its author; comment on another post of the thread')
    const root = parent.record.reply?.root ?? parentRef
    const stored = await this.own.post(composePost({ text, ...opts }), { parent: parentRef, root })
    await this.index.update(this.own)
    await this.conversations.queue(stored)
    await this.presence.joinTopics(stored.record.topics)
    return this.reading.view(stored)
  }

  async edit(ref: string | PostRef, text: string): Promise<PostView> {
    const stored = await this.own.edit(this.ownRef(ref).id, text)
    await this.index.update(this.own)
    return this.reading.view(stored)
  }

  async delete(ref: string | PostRef): Promise<PostView> {
    const stored = await this.own.delete(this.ownRef(ref).id)
    await this.index.update(this.own)
    return this.reading.view(stored)
  }

  private ownRef(ref: string | PostRef): PostRef {
    const r = typeof ref === 'string' ? parseRef(ref) : ref
    if (!b4a.equals(r.author, this.identity.publicKey)) {
      throw new ChrysalisError('NOT_YOURS', 'that post is not yours; you can only edit or delete your own posts')
    }
    return r
  }

  // -------------------------------------------------------------------------------------------
  // Following and blocking (Relations), and the feeds that come and go with them (Presence)

  async follow(id: string | Buffer): Promise<PersonView> {
    const target = this.relations.other(id, 'follow')
    const record = await this.relations.follow(target)
    const feed = this.feeds.of(target)
    await this.presence.watch(feed)
    await this.index.update(feed)
    await this.conversations.queueFollowNotice(target, record) // "X followed you"; after watch() (see there)
    return this.relations.person(target)
  }

  async unfollow(id: string | Buffer): Promise<PersonView> {
    const target = this.relations.other(id, 'unfollow')
    const record = await this.relations.unfollow(target)
    if (!record) throw new ChrysalisError('NOT_FOUND', 'you do not follow this identity; see `chrysalis following`')
    await this.conversations.queueFollowNotice(target, record) // they take us off their followers
    await this.presence.unwatch(this.feeds.of(target))
    return this.relations.person(target)
  }

  async block(id: string | Buffer): Promise<PersonView> {
    const target = this.relations.other(id, 'block')
    const unfollowed = await this.relations.block(target)
    await this.conversations.queueFollowNotice(target, unfollowed)
    if (unfollowed) await this.presence.unwatch(this.feeds.of(target))
    return this.relations.person(target)
  }

  async unblock(id: string | Buffer): Promise<PersonView> {
    const target = this.relations.other(id, 'unblock')
    await this.relations.unblock(target)
    return this.relations.person(target)
  }

  followingList(): Promise<PersonView[]> {
    return this.relations.list('following')
  }

  blockedList(): Promise<PersonView[]> {
    return this.relations.list('blocked')
  }

  /** Whom someone follows, as their feed says (yours too); names where their feeds are here. */
  followsOf(id: string | Buffer): Promise<PersonView[]> {
    return this.relations.followsOf(id)
  }

  followingCount(): number {
    return this.relations.followingCount()
  }

  /** Who follows you, newest first, as their feeds said when they told you (§8.3); `following`: you follow them back. */
  followers(opts: { limit?: number } = {}): Promise<FollowerView[]> {
    return this.followedBy.list(opts)
  }

  // -------------------------------------------------------------------------------------------
  // Network (Presence; the torrents follow it online)

  /**
   * Go online: one swarm keyed by the identity; announce the own feed and interest topics; serve
   * the most recently active followed feeds and look the others up on demand (protocol.md §8.4);
   * seed every torrent and go on with unfinished downloads.
   *
   * @param opts.bootstrap DHT bootstrap nodes; null = the public HyperDHT.
   * @param opts.dht an already-made DHT node (tests pass a testnet node).
   * @param opts.bt the BitTorrent side (TCP port, encrypted-only, mainline DHT, trackers); its
   *   defaults are the safe ones for tests: no mainline DHT.
   * @param opts.waitMs how long to wait for the DHT to take our announcements (default 5 s): on a
   *   network that does not answer, the rest goes on in the background.
   */
  async online(opts: { bootstrap?: DhtNodeAddress[] | null; dht?: HyperDHT; bt?: BtOptions; waitMs?: number } = {}): Promise<void> {
    if (this.presence.network) return
    if (this.closing) throw new ChrysalisError('CLOSED', 'the node was closed; open it again to go online')
    const network = await this.presence.online(opts)
    if (this.closing) return // closed while going online: nothing more to start
    await this.transfers.attach(network, opts.bt ?? {})
    await this.transfers.resumeAll()
  }

  /**
   * Bring every followed feed up to date as far as reachable peers allow, then index what
   * arrived. Each feed waits at most until the deadline. A restored identity also looks for its
   * own feed, and may write again once it has found it. Then deliver owed notifications and fetch
   * comments by people not followed.
   */
  async sync(opts: { timeoutMs?: number } = {}): Promise<SyncResult> {
    const network = this.presence.requireOnline()
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
    const { feeds, recovered } = await this.presence.syncFeeds(deadline, { recover: this.recovering })
    if (recovered) {
      await clearRecovering(this.home)
      this.own.writeLock = null
      await this.own.ready() // re-reads the newest post id from the recovered feed
    }
    await this.index.update(this.own)
    const delivered = await this.conversations.flushOutbox(deadline)
    const fetched = await this.conversations.prefetchComments(deadline)
    const changed = feeds.reduce((n, f) => n + f.changedPosts, 0)
    return { feeds, changed, peers: network.connectionCount(), recovered, delivered, fetchedComments: fetched }
  }

  /**
   * Join an interest topic and list the people found there, plus people followed by the people
   * you follow. Returns once every connection made has said hello, or at the deadline.
   */
  discover(topic: string, opts: { timeoutMs?: number } = {}): Promise<DiscoverResult> {
    return this.presence.discover(topic, Date.now() + (opts.timeoutMs ?? 10_000))
  }

  /**
   * A topic as a place: the newest posts on it from everyone found there (followed or not, read
   * sparsely), from the people you follow, and yours; newest first (Finding.topicView).
   *
   *   const { posts, people } = await node.topicView('vintage-manuals')
   */
  topicView(topic: string, opts: { limit?: number; timeoutMs?: number } = {}): Promise<TopicView> {
    return this.finding.topicView(topic, opts)
  }

  /** The topics you are findable on (posted to or discovered), and whether they are announced now. */
  topics(): Promise<Array<{ name: string; announced: boolean }>> {
    return this.presence.topics()
  }

  /** Stop being findable on a topic (posting on it again joins it again); false when you were not on it. */
  leaveTopic(name: string): Promise<boolean> {
    return this.presence.leaveTopic(name)
  }

  /** Live discovery (the TUI): reports each person found on the topic; returns the stop function. */
  watchTopic(topic: string, onPerson: (person: DiscoveredPerson) => void): Promise<() => void> {
    return this.presence.watchTopic(topic, onPerson)
  }

  /** The topic view, live (the TUI): the posts here at once, then each found person's, read sparsely (Finding.watchTopicPosts). */
  watchTopicPosts(topic: string, onUpdate: (view: TopicUpdate) => void): Promise<() => void> {
    return this.finding.watchTopicPosts(topic, onUpdate)
  }

  /** For `serve` and the TUI: also download each followed feed's whole history, to serve it. */
  live(): void {
    this.presence.live()
  }

  /** A one-line summary for status bars: peers, and followed feeds that have a peer now. */
  status(): NodeStatus {
    return { ...this.presence.status(), recovering: this.recovering, bt: this.transfers.btStatus() }
  }

  /** Comments on you, mentions of you and follows of you, newest first. */
  notifications(opts: { limit?: number } = {}): Promise<NotificationView[]> {
    return this.conversations.list(opts)
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
    for (const feed of [this.own, ...this.relations.followed()]) {
      if (opts.update && feed !== this.own) await feed.core.update({ wait: true })
      const r = await this.index.update(feed)
      changed += r.changed
      skipped += r.skipped
    }
    return { changed, skipped }
  }

  /** The newest top-level posts of you and the people you follow, blocked people excluded. */
  timeline(opts: { limit?: number; before?: string } = {}): Promise<{ posts: PostView[]; next: string | null }> {
    return this.reading.timeline(opts)
  }

  /** One identity's posts and comments, newest first, read from their feed (sparse on remote). */
  feed(id?: string | Buffer, opts: { limit?: number; before?: string } = {}): Promise<PostView[]> {
    return this.reading.feed(id, opts)
  }

  getPost(ref: string | PostRef): Promise<PostView | null> {
    return this.reading.getPost(ref)
  }

  /** A post's whole thread: its root, and every known comment as a tree, oldest first. */
  thread(ref: string | PostRef): Promise<ThreadView> {
    return this.reading.thread(ref)
  }

  /**
   * Search everything indexed here: posts by words of their text, their topics and their files'
   * names; people by name and bio. Best and newest first.
   *
   *   const { posts, people } = await node.search('kaypro manual')
   */
  search(query: string, opts: { limit?: number } = {}): Promise<SearchResult> {
    return this.reading.search(query, opts)
  }
}

/**
 * Owner-only modes for what the node keeps in HOME: the identity files, the store (which holds the
 * feed's key pair) and the torrents' state. Named entries only: HOME may also hold the user's
 * download folder (HOME/downloads), whose files keep the user's own modes.
 */
async function restrictHome(home: string): Promise<void> {
  for (const name of [...HOME_FILES, STORE_DIR, TORRENTS_DIR]) await restrictTree(path.join(home, name))
}
