import { EventEmitter } from 'node:events'
import path from 'node:path'
import type Corestore from 'corestore'
import { ChrysalisError } from '../errors.js'
import { encodeId, fingerprint, parseId, toHex } from '../identity/encoding.js'
import { clearRecovering, HOME_FILES, isRecovering, loadIdentity } from '../identity/home.js'
import { restrictTree } from '../fs.js'
import { openStore, STORE_DIR } from './store.js'
import type { Identity } from '../identity/keys.js'
import { Feed, LOCAL_ONLY, OwnFeed, answers, type StoredPost } from '../feeds/feed.js'
import { feedKeyOf, formatRef, parseRef, FOLLOW_PREFIX, BLOCK_PREFIX } from '../feeds/layout.js'
import { LocalIndex } from '../feeds/local-index.js'
import { normalizeTopic, type PostRef } from '../feeds/records.js'
import { extractMentions, extractTopics, uniqueKeys, uniqueStrings } from '../feeds/text.js'
import * as b4a from '../bytes.js'
import type HyperDHT from 'hyperdht'
import type { DhtNodeAddress } from 'hyperdht'
import { createDht } from '../net/dht.js'
import { Network, type Peer } from '../net/network.js'
import { Conversations } from './conversations.js'
import { firstPeer, untilDeadline } from './deadline.js'
import { interestTopic } from '../net/topics.js'
import { Transfers } from '../transfer/transfers.js'
import type { BtOptions, BtStatus } from '../transfer/bt-options.js'
import { NodeFiles } from './files.js'
import { postView, type AttachmentView, type NotificationView, type PersonView, type PostView, type ProfileView, type ThreadNode, type ThreadView } from './views.js'

export interface NodeOptions {
  home: string
  /** The clock for createdAt and post ids; tests inject one. */
  now?: () => number
  /** How many of a newly followed feed's newest posts to index at once (default 500). */
  initialWindow?: number
}

export { STORE_DIR }
export const TORRENTS_DIR = 'torrents'


/**
 * One Chrysalis node: the identity, its corestore, its own feed, the feeds it follows and the
 * local index, opened once and closed once. Every consumer (CLI, TUI, tests) goes through this API.
 *
 *   const node = await ChrysalisNode.open({ home })
 *   const post = await node.post({ text: 'Kaypro II manual #vintage-manuals' })
 *   const page = await node.timeline({ limit: 20 })
 *   await node.close()
 */
export interface NodeEvents {
  /** A followed feed brought new or changed posts into the index. */
  'feed-update': [{ id: string; changed: number }]
  /** Someone commented on your post or mentioned you (verified from their feed). */
  notification: [NotificationView]
}

export interface NodeStatus {
  online: boolean
  peers: number
  feeds: number
  feedsReachable: number
  recovering: boolean
  /** The BitTorrent side: TCP port, encrypted-only, mainline DHT. */
  bt: BtStatus
}

export class ChrysalisNode extends EventEmitter<NodeEvents> {
  readonly home: string
  readonly identity: Identity
  readonly store: Corestore
  readonly own: OwnFeed
  readonly index: LocalIndex
  private readonly feeds = new Map<string, Feed>()
  private following = new Set<string>()
  private blocked = new Set<string>()
  private closing: Promise<void> | null = null
  private releaseStore: () => void = () => {}
  private profileName = ''
  /** The BitTorrent options online() was given. */
  private bt: BtOptions = {}
  private profileBio = ''
  network: Network | null = null
  private readonly liveFeeds = new Map<string, () => void>()
  private backfill = false
  private readonly clock: () => number
  private readonly conversations: Conversations
  /** Torrents shared and fetched (HOME/torrents). */
  readonly transfers: Transfers
  readonly files: NodeFiles

  private constructor(home: string, identity: Identity, store: Corestore, transfers: Transfers, opts: NodeOptions) {
    super()
    this.home = home
    this.identity = identity
    this.store = store
    const now = opts.now ?? Date.now
    this.clock = now
    this.own = new OwnFeed(store.get({ keyPair: identity.keyPair() }), identity.publicKey, { now })
    this.index = new LocalIndex(store.get({ name: 'local-index' }), { now, initialWindow: opts.initialWindow ?? 500 })
    this.conversations = new Conversations({
      own: this.own,
      index: this.index,
      network: () => this.network,
      feedOf: (author) => this.feedOf(author),
      isBlocked: (hex) => this.blocked.has(hex),
      isFollowed: (hex) => this.following.has(hex),
      recovering: () => this.recovering,
      now: () => this.clock(),
      view: (post) => this.view(post),
      notify: (n) => this.emit('notification', n)
    })
    this.transfers = transfers
    this.files = new NodeFiles({
      transfers,
      own: this.own,
      feedOf: (author) => this.feedOf(author),
      getPost: (ref) => this.findPost(ref),
      network: () => this.network
    })
  }

  static async open(opts: NodeOptions): Promise<ChrysalisNode> {
    const identity = await loadIdentity(opts.home)
    const { store, release } = await openStore(opts.home)
    let transfers: Transfers
    try {
      transfers = await Transfers.open(path.join(opts.home, TORRENTS_DIR))
      // Homes made by earlier versions (or files written while a node was killed) get owner-only modes.
      await restrictHome(opts.home)
    } catch (err) {
      await store.close()
      release()
      throw err
    }
    const node = new ChrysalisNode(opts.home, identity, store, transfers, opts)
    node.releaseStore = release
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
    const profile = await this.own.profile()
    this.profileName = profile?.name ?? ''
    this.profileBio = profile?.bio ?? ''
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
    for (const stop of this.liveFeeds.values()) stop()
    this.liveFeeds.clear()
    await this.transfers.close()
    if (this.network) await this.network.destroy()
    for (const feed of this.feeds.values()) await feed.close()
    this.feeds.clear()
    await this.index.close()
    await this.own.close()
    await this.store.close()
    this.releaseStore()
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
    this.profileName = name
    this.profileBio = bio
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

  /**
   * Post; `attach` paths are shared first (hashed, published, seeded) and referenced by the post.
   * Nothing is posted if any of them cannot be shared.
   */
  /**
   * Publish a post. `attach` lists paths to hash and share now; `shared` lists files already
   * shared by this node (files.share, e.g. while the TUI's compose showed their hashing).
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
    const composed = this.composePost(input) // bad topics or mentions fail before any hashing
    for (const a of input.shared ?? []) {
      const infohash = b4a.from(a.infohash, 'hex')
      const meta = infohash.byteLength === 32 ? this.transfers.metadata(infohash) : null
      if (!meta) throw new ChrysalisError('NOT_FOUND', `${a.name} is not shared by this node; attach it again`)
      attachments.push({ infohash, name: meta.name, size: meta.totalLength })
    }
    for (const file of input.attach ?? []) {
      attachments.push(await this.files.attachment(file, { ...(input.hybrid !== undefined ? { hybrid: input.hybrid } : {}), onProgress: (d, t) => input.onProgress?.(file, d, t) }))
    }
    const stored = await this.own.post({ ...composed, attachments })
    await this.index.update(this.own)
    await this.conversations.queue(stored)
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
    await this.conversations.queue(stored)
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
    const feed = this.feedOf(target)
    if (this.network) {
      const done = feed.core.findingPeers()
      // The author, when online, announces this topic: no direct connection attempt needed (one to
      // an offline author would hold up the flush for its whole timeout).
      await this.network.joinFeed(feed.core.discoveryKey)
      await this.network.flush()
      done()
      this.keepLive(feed)
    }
    await this.index.update(feed)
    return this.person(target)
  }

  async unfollow(id: string | Buffer): Promise<PersonView> {
    const target = this.otherId(id, 'unfollow')
    const hex = toHex(target)
    if (!this.following.has(hex)) throw new ChrysalisError('NOT_FOUND', 'you do not follow this identity; see `chrysalis following`')
    await this.own.setRelation('unfollow', target)
    this.following.delete(hex)
    this.dropLive(this.feedOf(target))
    await this.network?.leaveFeed(this.feedOf(target).core.discoveryKey)
    return this.person(target)
  }

  async block(id: string | Buffer): Promise<PersonView> {
    const target = this.otherId(id, 'block')
    const hex = toHex(target)
    if (this.following.has(hex)) {
      await this.own.setRelation('unfollow', target)
      this.following.delete(hex)
      this.dropLive(this.feedOf(target))
      await this.network?.leaveFeed(this.feedOf(target).core.discoveryKey)
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

  /** Whom someone follows, as their feed says (yours too); names where their feeds are here. */
  async followsOf(id: string | Buffer): Promise<PersonView[]> {
    const author = typeof id === 'string' ? parseId(id) : id
    const feed = b4a.equals(author, this.identity.publicKey) ? this.own : this.feedOf(author)
    const people: PersonView[] = []
    for (const { target, at } of await feed.following()) {
      const profile = await untilDeadline(this.feedOf(target).profile(), Date.now() + 500)
      people.push({ id: encodeId(target), fingerprint: fingerprint(target), name: profile?.name ?? null, since: at })
    }
    return people
  }

  followingCount(): number {
    return this.following.size
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
  // Network

  /**
   * Go online: one swarm keyed by the identity; announce the own feed; join every followed
   * feed's topic as client and server (followers serve what they follow).
   *
   * @param opts.bootstrap DHT bootstrap nodes; null = the public HyperDHT.
   * @param opts.dht an already-made DHT node (tests pass a testnet node).
   * @param opts.bt the BitTorrent side (TCP port, encrypted-only, mainline DHT, trackers); its
   *   defaults are the safe ones for tests: no mainline DHT.
   */
  async online(opts: { bootstrap?: DhtNodeAddress[] | null; dht?: HyperDHT; bt?: BtOptions } = {}): Promise<Network> {
    if (this.network) return this.network
    this.bt = opts.bt ?? {}
    const dht = opts.dht ?? createDht(opts.bootstrap ?? null)
    const network: Network = new Network({
      keyPair: this.identity.keyPair(),
      store: this.store,
      dht,
      hello: () => ({ name: this.profileName, bio: this.profileBio, topics: network.interestNames() })
    })
    this.network = network
    for (const feed of this.feeds.values()) feed.online = true
    this.own.online = true
    network.on('notify', (peer, message, done) => {
      this.onNotify(peer.publicKey, message.id).then(done, done)
    })
    network.on('peer', (peer) => {
      void this.conversations.deliverTo(peer.publicKey, Date.now() + 10_000)
    })
    const feeds = [this.own, ...this.followedFeeds()]
    const done = feeds.map((f) => f.core.findingPeers())
    await Promise.all(feeds.map((f) => network.joinFeed(f.core.discoveryKey)))
    for (const name of await this.index.interests()) await network.joinInterest(name)
    await network.flush()
    for (const d of done) d()
    for (const feed of this.followedFeeds()) this.keepLive(feed)
    // Seed everything shared or fetched, and go on with unfinished downloads.
    await this.transfers.attach(network, opts.bt ?? {})
    await this.transfers.resumeAll()
    return network
  }

  /**
   * Bring every followed feed up to date as far as reachable peers allow, then index what
   * arrived. Each feed waits at most until the deadline. A restored identity also looks for its
   * own feed, and may write again once it has found it.
   */
  async sync(opts: { timeoutMs?: number } = {}): Promise<SyncResult> {
    const network = this.requireOnline()
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
    await untilDeadline(network.flush(), deadline)
    const feeds: SyncResult['feeds'] = []
    const followed = this.followedFeeds()
    // Live indexing (new blocks as they arrive) may index a feed before we do: count both.
    const liveChanges = new Map<string, number>()
    const onUpdate = (e: { id: string; changed: number }): void => void liveChanges.set(e.id, (liveChanges.get(e.id) ?? 0) + e.changed)
    this.on('feed-update', onUpdate)
    const lengths = await Promise.all(
      followed.map(async (feed) => {
        const before = feed.core.length
        await untilDeadline(feed.core.update({ wait: true }), deadline)
        return before
      })
    )
    let recovered: boolean | null = null
    if (this.recovering) {
      // Our own core is writable, and hypercore does not update a writable core unless forced.
      await firstPeer(this.own, deadline)
      await untilDeadline(this.own.core.update({ wait: true, force: true }), deadline)
      recovered = this.own.core.length > 0
      if (recovered) await this.finishRecovery()
    }
    let changed = 0
    for (const [i, feed] of followed.entries()) {
      const r = await this.index.update(feed)
      const id = encodeId(feed.author)
      const n = r.changed + (liveChanges.get(id) ?? 0)
      changed += n
      feeds.push({
        id,
        name: (await feed.profile())?.name ?? null,
        length: feed.core.length,
        newBlocks: feed.core.length - lengths[i]!,
        changedPosts: n,
        reachable: feed.core.peers.length > 0
      })
    }
    this.off('feed-update', onUpdate)
    await this.index.update(this.own)
    const delivered = await this.conversations.flushOutbox(deadline)
    const fetched = await this.conversations.prefetchComments(deadline)
    return { feeds, changed, peers: network.connectionCount(), recovered, delivered, fetchedComments: fetched }
  }

  /**
   * Join an interest topic and list the people found there, plus people followed by the people
   * you follow. Returns once every connection made has said hello, or at the deadline.
   */
  async discover(topic: string, opts: { timeoutMs?: number } = {}): Promise<DiscoverResult> {
    const normal = interestTopic(topic).name // refuse a bad topic before going online
    const network = this.requireOnline()
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
    await this.index.addInterest(normal) // remembered: the node announces itself there from now on
    await untilDeadline(network.joinInterest(normal), deadline)
    await untilDeadline(network.flush(), deadline)
    await untilDeadline(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (network.list().length >= network.connectionCount()) {
            network.off('peer', check)
            resolve()
          }
        }
        network.on('peer', check)
        check()
      }),
      deadline
    )
    const people: DiscoveredPerson[] = []
    const seen = new Set<string>([this.own.authorHex])
    for (const peer of network.list()) {
      const person = this.foundOn(peer, normal, seen)
      if (person) people.push(person)
    }
    people.push(...(await this.followedByFollows(seen)))
    return { topic: normal, people }
  }

  /**
   * Live discovery (the TUI): join an interest topic and report each person as they say hello
   * there, then the people your follows follow. Returns a function that stops the reports (the
   * interest stays remembered, as with discover).
   */
  async watchTopic(topic: string, onPerson: (person: DiscoveredPerson) => void): Promise<() => void> {
    const normal = interestTopic(topic).name
    const network = this.requireOnline()
    await this.index.addInterest(normal)
    const seen = new Set<string>([this.own.authorHex])
    let stopped = false
    const onPeer = (peer: Peer): void => {
      const person = stopped ? null : this.foundOn(peer, normal, seen)
      if (person) onPerson(person)
    }
    network.on('peer', onPeer)
    for (const peer of network.list()) onPeer(peer)
    network.joinInterest(normal).then(
      async () => {
        for (const peer of network.list()) onPeer(peer)
        for (const person of await this.followedByFollows(seen)) if (!stopped) onPerson(person)
      },
      () => {}
    )
    return () => {
      stopped = true
      network.off('peer', onPeer)
    }
  }

  private foundOn(peer: Peer, topic: string, seen: Set<string>): DiscoveredPerson | null {
    const hex = toHex(peer.publicKey)
    if (seen.has(hex) || this.blocked.has(hex)) return null
    if (!peer.hello?.topics.includes(topic) && !peer.foundVia.has(topic)) return null
    seen.add(hex)
    return { id: peer.id, fingerprint: fingerprint(peer.publicKey), name: peer.hello?.name || null, bio: peer.hello?.bio ?? '', via: `topic ${topic}`, following: this.following.has(hex) }
  }

  private async followedByFollows(seen: Set<string>): Promise<DiscoveredPerson[]> {
    const people: DiscoveredPerson[] = []
    for (const feed of this.followedFeeds()) {
      const via = (await feed.profile())?.name ?? encodeId(feed.author).slice(0, 8)
      for (const { target } of await feed.following()) {
        const hex = toHex(target)
        if (seen.has(hex) || this.blocked.has(hex) || this.following.has(hex)) continue
        seen.add(hex)
        const profile = await untilDeadline(this.feedOf(target).profile(), Date.now() + 500)
        people.push({ id: encodeId(target), fingerprint: fingerprint(target), name: profile?.name ?? null, bio: profile?.bio ?? '', via: `followed by ${via}`, following: false })
      }
    }
    return people
  }

  /**
   * For `serve` and the TUI: also download each followed feed's whole history in the
   * background, so this node can serve all of it to others while its author is away.
   */
  live(): void {
    this.backfill = true
    for (const stop of this.liveFeeds.values()) stop()
    this.liveFeeds.clear()
    for (const feed of this.followedFeeds()) this.keepLive(feed)
  }

  /**
   * While online, every followed feed stays readable offline: blocks appended from now on are
   * downloaded as they arrive, and indexed.
   */
  private keepLive(feed: Feed): void {
    if (this.liveFeeds.has(feed.authorHex)) return
    const download = feed.core.download({ start: this.backfill ? 0 : feed.core.length, end: -1 })
    const onAppend = (): void => {
      this.index.update(feed).then(
        (r) => {
          if (r.changed > 0) this.emit('feed-update', { id: encodeId(feed.author), changed: r.changed })
        },
        () => {}
      )
    }
    feed.core.on('append', onAppend)
    this.liveFeeds.set(feed.authorHex, () => {
      download.destroy()
      feed.core.off('append', onAppend)
    })
  }

  private dropLive(feed: Feed): void {
    this.liveFeeds.get(feed.authorHex)?.()
    this.liveFeeds.delete(feed.authorHex)
  }

  /** A one-line summary for status bars: peers, and followed feeds that have a peer now. */
  status(): NodeStatus {
    const followed = this.followedFeeds()
    return {
      online: this.network !== null,
      peers: this.network?.connectionCount() ?? 0,
      feeds: followed.length,
      feedsReachable: followed.filter((f) => f.core.peers.length > 0).length,
      recovering: this.recovering,
      bt: this.transfers.btStatus()
    }
  }


  /** Comments on you and mentions of you, newest first. */
  notifications(opts: { limit?: number } = {}): Promise<NotificationView[]> {
    return this.conversations.list(opts)
  }

  /** Handle a notification from `from` about its post `id` (the network calls this). */
  onNotify(from: Buffer, id: number): Promise<void> {
    return this.conversations.onNotify(from, id)
  }

  /** Never go online implicitly: which DHT to use (public, or a loopback one in tests) is the caller's choice. */
  private requireOnline(): Network {
    if (!this.network) throw new ChrysalisError('BAD_INPUT', 'the node is not online; call online() first')
    return this.network
  }

  private followedFeeds(): Feed[] {
    return [...this.following].map((hex) => this.feedOf(b4a.from(hex, 'hex')))
  }

  private async finishRecovery(): Promise<void> {
    await clearRecovering(this.home)
    this.own.writeLock = null
    await this.own.ready() // re-read the newest post id from the recovered feed
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
      view.comments = await this.commentCount(ref)
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

  /**
   * A post from anyone, looked for on the network when it is not here: through its author's
   * feed topic (the author or whoever replicates the feed), waiting up to `timeoutMs` for a peer.
   */
  async findPost(ref: PostRef, timeoutMs = 10_000): Promise<StoredPost | null> {
    const feed = this.feedOf(ref.author)
    const here = await feed.getPost(ref.id, { wait: false })
    if (here || !this.network) return here
    const deadline = Date.now() + timeoutMs
    this.network.joinPeer(ref.author)
    try {
      await untilDeadline(this.network.joinFeed(feed.core.discoveryKey), deadline)
      if (!(await firstPeer(feed, deadline))) return null
      await untilDeadline(feed.core.update({ wait: true }).catch(() => false), deadline)
      return await feed.getPost(ref.id)
    } finally {
      this.network.leavePeer(ref.author)
    }
  }

  async getPost(ref: string | PostRef): Promise<PostView | null> {
    const r = typeof ref === 'string' ? parseRef(ref) : ref
    const stored = await this.feedOf(r.author).getPost(r.id)
    return stored ? this.view(stored) : null
  }

  /**
   * The comments counted under `root` (protocol.md §9): those the index holds from their own
   * record, and those a backlink claimed once the comment, held here, was checked to answer that
   * thread (the result is kept in the index, so each claim is read once). A claim whose comment
   * is not fetched yet is not counted.
   */
  private async commentCount(root: PostRef): Promise<number> {
    let n = 0
    for (const entry of await this.index.thread(root)) {
      if (!this.visible(toHex(entry.author))) continue
      if (entry.claimed) {
        const stored = await this.feedOf(entry.author).getPost(entry.id, LOCAL_ONLY)
        if (!stored) continue
        const ok = answers(stored, root)
        await this.index.settleThreadEntry(root, entry, ok)
        if (!ok) continue
      }
      n++
    }
    return n
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
    // The root author's backlinks, read live: complete even when we do not follow them.
    const known = new Set(entries.map((e) => formatRef(e)))
    for (const link of await this.feedOf(rootRef.author).backlinks(rootRef.id)) {
      if (!known.has(formatRef(link.comment))) entries.push({ ...link.comment, parent: link.parent, claimed: true })
    }
    for (const entry of entries) {
      if (!this.visible(toHex(entry.author))) continue
      const stored = await this.feedOf(entry.author).getPost(entry.id)
      if (!stored) continue
      // A backlink only says a comment is here; the comment's own record must say so too.
      if (entry.claimed) {
        const ok = answers(stored, rootRef)
        await this.index.settleThreadEntry(rootRef, entry, ok)
        if (!ok) continue
      }
      nodes.set(formatRef(entry), { ...(await this.view(stored)), children: [] })
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
      feed.online = this.network !== null
      this.feeds.set(hex, feed)
    }
    return feed
  }

  private async view(post: StoredPost): Promise<PostView> {
    const name = (await this.feedOf(post.author).profile())?.name ?? null
    return postView(post, name)
  }
}

export interface SyncResult {
  feeds: Array<{ id: string; name: string | null; length: number; newBlocks: number; changedPosts: number; reachable: boolean }>
  changed: number
  peers: number
  /** For a restored identity: whether its feed was found (null when not recovering). */
  recovered: boolean | null
  /** Notifications (comments, mentions) delivered to the people concerned. */
  delivered: number
  /** Comments by people you do not follow, fetched for threads you can see. */
  fetchedComments: number
}

export interface DiscoveredPerson {
  id: string
  fingerprint: string
  name: string | null
  bio: string
  /** How they were found: `topic NAME`, or `followed by NAME`. */
  via: string
  following: boolean
}

export interface DiscoverResult {
  topic: string
  people: DiscoveredPerson[]
}

/**
 * Owner-only modes for what the node keeps in HOME: the identity files, the store (which holds the
 * feed's key pair) and the torrents' state. Named entries only: HOME may also hold the user's
 * download folder (HOME/downloads), whose files keep the user's own modes.
 */
async function restrictHome(home: string): Promise<void> {
  for (const name of [...HOME_FILES, STORE_DIR, TORRENTS_DIR]) await restrictTree(path.join(home, name))
}
