import { EventEmitter } from 'node:events'
import type Corestore from 'corestore'
import type HyperDHT from 'hyperdht'
import type Protomux from 'protomux'
import type { DhtNodeAddress } from 'hyperdht'
import { ChrysalisError } from '../errors.js'
import { encodeId, fingerprint, toHex } from '../identity/encoding.js'
import type { Identity } from '../identity/keys.js'
import type { Feed, StoredPost } from '../feeds/feed.js'
import type { LocalIndex } from '../feeds/local-index.js'
import type { PostRef } from '../feeds/records.js'
import { createDht } from '../net/dht.js'
import { Network, type Peer } from '../net/network.js'
import { interestTopic } from '../net/topics.js'
import { firstPeer, untilDeadline } from './deadline.js'
import { FeedFinder } from './finder.js'
import type { FeedSet } from './feed-set.js'
import type { Relations } from './relations.js'

export interface PresenceEvents {
  /** A followed feed brought new or changed posts into the index. */
  'feed-update': [{ id: string; changed: number }]
  /** A peer says its post `id` concerns us (never trusted: Conversations reads it). */
  notify: [from: Buffer, id: number, done: () => void]
  /** A peer says it followed or unfollowed us (never trusted: Followers reads its feed). */
  'follow-notice': [from: Buffer, done: () => void]
  /** A peer finished its hello. */
  peer: [publicKey: Buffer]
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

export interface FeedSyncResult {
  id: string
  name: string | null
  length: number
  newBlocks: number
  changedPosts: number
  reachable: boolean
}

/**
 * Being online: the one swarm keyed by the identity, the feed topics it joins, followed feeds kept
 * live (downloaded and indexed as they grow), syncing, and finding people on interest topics.
 *
 *   await presence.online({ dht })
 *   const people = await presence.discover('vintage-manuals', deadline)
 */
export class Presence extends EventEmitter<PresenceEvents> {
  /** Null until online(). */
  network: Network | null = null
  /** Finds followed feeds (protocol.md §8.4); null until online(). */
  private finder: FeedFinder | null = null
  /** What our hello says about us (the node updates it with the profile). */
  hello = { name: '', bio: '' }
  private readonly identity: Identity
  private readonly store: Corestore
  private readonly feeds: FeedSet
  private readonly index: LocalIndex
  private readonly relations: Relations
  private readonly liveFeeds = new Map<string, () => void>()
  /** Interest topics being joined or looked up again (their announce has not landed yet). */
  private readonly joining = new Map<string, Promise<void>>()
  /** findPost lookups in flight per author (hex): the last one to finish leaves the feed topic. */
  private readonly looking = new Map<string, number>()
  private backfill = false

  constructor(deps: { identity: Identity; store: Corestore; feeds: FeedSet; index: LocalIndex; relations: Relations }) {
    super()
    this.identity = deps.identity
    this.store = deps.store
    this.feeds = deps.feeds
    this.index = deps.index
    this.relations = deps.relations
  }

  /**
   * Go online: announce the own feed and every remembered interest topic, serve the most recently
   * active followed feeds and look the others up on demand (FeedFinder, protocol.md §8.4).
   * Resolves once the announcements landed, or after `waitMs`; lookups go on in the background.
   */
  async online(opts: { bootstrap?: DhtNodeAddress[] | null; dht?: HyperDHT; waitMs?: number }): Promise<Network> {
    if (this.network) return this.network
    const dht = opts.dht ?? createDht(opts.bootstrap ?? null)
    const network: Network = new Network({
      keyPair: this.identity.keyPair(),
      store: this.store,
      dht,
      hello: () => ({ ...this.hello, topics: network.interestNames() }),
      offer: (remote, topics, mux) => this.offer(remote, topics, mux)
    })
    this.network = network
    const finder = new FeedFinder(network, { beforeLookup: (feed) => this.offerEverywhere(feed) })
    this.finder = finder
    this.feeds.onOpen = (feed) => this.offerEverywhere(feed)
    this.feeds.goOnline()
    network.on('notify', (peer, message, done) => this.emit('notify', peer.publicKey, message.id, done))
    network.on('follow-notice', (peer, _notice, done) => this.emit('follow-notice', peer.publicKey, done))
    network.on('peer', (peer) => this.emit('peer', peer.publicKey))
    const done = this.feeds.own.core.findingPeers()
    for (const feed of this.relations.followed()) this.keepLive(feed)
    const interests = await this.index.interests()
    const followed = await this.activeFirst(this.relations.followed())
    const announced = (async () => {
      await Promise.all([network.joinFeed(this.feeds.own.core.discoveryKey), finder.follow(followed), ...interests.map((name) => this.announce(name))])
      await network.flush()
    })().finally(done)
    // Announcing waits on the DHT: on a network that does not answer, going online must not hang.
    // What is not announced by then goes on in the background.
    announced.catch(() => {}) // the network closed while announcing
    await untilDeadline(announced, Date.now() + (opts.waitMs ?? 5000))
    return network
  }

  /**
   * The feeds a new connection is for (protocol.md §8.4): the own feed, the peer's feed when it is
   * open here, the feed whose topic found the peer, and the served feeds (their heads are
   * exchanged with every peer). Not every open feed: with 1,000 followed, that would be 1,000
   * channels on each connection. A peer that asks for another feed we hold still gets it.
   */
  private offer(remote: Buffer, topics: Buffer[], mux: Protomux): void {
    const feeds = new Set<Feed>([this.feeds.own, ...(this.finder?.servedFeeds() ?? [])])
    const theirs = this.feeds.opened(remote)
    if (theirs) feeds.add(theirs)
    for (const topic of topics) {
      const feed = this.feeds.byDiscoveryKey(topic)
      if (feed) feeds.add(feed)
    }
    for (const feed of feeds) attach(feed, mux)
  }

  /** Offer a feed on every connection there is (one just opened, or about to be looked up). */
  private offerEverywhere(feed: Feed): void {
    for (const { mux } of this.network?.connections() ?? []) attach(feed, mux)
  }

  /** Followed feeds, the most recently active first (by their newest indexed post), then the rest. */
  private async activeFirst(feeds: Feed[]): Promise<Feed[]> {
    const rank = new Map((await this.index.recentAuthors()).map((hex, i) => [hex, i]))
    return feeds
      .map((feed, i) => ({ feed, r: rank.get(feed.authorHex) ?? rank.size + i }))
      .sort((a, b) => a.r - b.r)
      .map((x) => x.feed)
  }

  /** Never go online implicitly: which DHT to use (public, or a loopback one in tests) is the caller's choice. */
  requireOnline(): Network {
    if (!this.network) throw new ChrysalisError('OFFLINE', 'the node is not online; call online() first')
    return this.network
  }

  /** A feed just followed: find its peers (when online) and keep it live. */
  async watch(feed: Feed): Promise<void> {
    if (!this.network || !this.finder) return
    // The author, when online, announces this topic: no direct connection attempt needed (one to
    // an offline author would hold up the flush for its whole timeout).
    this.keepLive(feed)
    await this.finder.add(feed)
    await this.network.flush()
  }

  /** A feed no longer followed: stop downloading it and leave its topic. */
  async unwatch(feed: Feed): Promise<void> {
    this.liveFeeds.get(feed.authorHex)?.()
    this.liveFeeds.delete(feed.authorHex)
    await this.finder?.remove(feed)
  }

  /**
   * Bring every followed feed up to date as far as reachable peers allow, then index what
   * arrived. Each feed waits at most until the deadline. With `recover` (a restored identity),
   * the own feed is looked for too, before indexing, so that indexing does not use up its time.
   */
  async syncFeeds(deadline: number, opts: { recover?: boolean } = {}): Promise<{ feeds: FeedSyncResult[]; recovered: boolean | null }> {
    const network = this.requireOnline()
    // Feeds no peer holds now are looked up again (a sync is asked for), FIND_CONCURRENCY at once.
    await untilDeadline(this.finder!.lookAll(), deadline)
    await untilDeadline(network.flush(), deadline)
    const followed = this.relations.followed()
    // Live indexing (new blocks as they arrive) may index a feed before we do: count both.
    const liveChanges = new Map<string, number>()
    const onUpdate = (e: { id: string; changed: number }): void => void liveChanges.set(e.id, (liveChanges.get(e.id) ?? 0) + e.changed)
    this.on('feed-update', onUpdate)
    try {
      const lengths = await Promise.all(
        followed.map(async (feed) => {
          const before = feed.core.length
          await untilDeadline(feed.core.update({ wait: true }), deadline)
          return before
        })
      )
      const recovered = opts.recover ? await this.recoverOwn(deadline) : null
      const out: FeedSyncResult[] = []
      for (const [i, feed] of followed.entries()) {
        const r = await this.index.update(feed)
        const id = encodeId(feed.author)
        out.push({
          id,
          name: (await feed.profile())?.name ?? null,
          length: feed.core.length,
          newBlocks: feed.core.length - lengths[i]!,
          changedPosts: r.changed + (liveChanges.get(id) ?? 0),
          reachable: feed.core.peers.length > 0
        })
      }
      return { feeds: out, recovered }
    } finally {
      this.off('feed-update', onUpdate)
    }
  }

  /** A restored identity looks for its own feed on the network; true once peers gave it blocks. */
  private async recoverOwn(deadline: number): Promise<boolean> {
    const own = this.feeds.own
    // Our own core is writable, and hypercore does not update a writable core unless forced.
    await firstPeer(own, deadline)
    await untilDeadline(own.core.update({ wait: true, force: true }), deadline)
    return own.core.length > 0
  }

  /**
   * A post from anyone, looked for on the network when it is not here: through its author's
   * feed topic (the author or whoever replicates the feed), waiting until the deadline for a peer.
   */
  async findPost(ref: PostRef, deadline: number): Promise<StoredPost | null> {
    const feed = this.feeds.of(ref.author)
    const here = await feed.getPost(ref.id, { wait: false })
    if (here || !this.network) return here
    return this.near(feed, deadline, (reachable) => (reachable ? feed.getPost(ref.id) : Promise.resolve(null)))
  }

  /**
   * Read another identity's feed without following it: `read` runs once a peer that has the
   * feed is connected and its length is known (`reachable`), or at the deadline without one.
   * Reads stay sparse: hypercore fetches only the blocks a read touches. The own feed and
   * followed feeds are read as they are (they are live already).
   */
  async near<T>(feed: Feed, deadline: number, read: (reachable: boolean) => Promise<T>): Promise<T> {
    const network = this.network
    if (!network || feed === this.feeds.own) return read(network !== null)
    const hex = feed.authorHex
    // A peer we are connected to may hold it already (a lookup finds no new connection to it).
    this.offerEverywhere(feed)
    if (this.relations.isFollowing(hex)) {
      // Found on demand: looked up now unless a peer holds it already.
      if (feed.core.peers.length === 0) await untilDeadline(this.finder!.find(feed), deadline)
      const reachable = await firstPeer(feed, deadline)
      if (reachable) await untilDeadline(feed.core.update({ wait: true }).catch(() => false), deadline)
      return read(reachable)
    }
    network.joinPeer(feed.author)
    this.looking.set(hex, (this.looking.get(hex) ?? 0) + 1)
    try {
      await untilDeadline(network.joinFeed(feed.core.discoveryKey), deadline)
      const reachable = await firstPeer(feed, deadline)
      if (reachable) await untilDeadline(feed.core.update({ wait: true }).catch(() => false), deadline)
      return await read(reachable)
    } finally {
      const still = (this.looking.get(hex) ?? 1) - 1
      if (still > 0) this.looking.set(hex, still)
      else this.looking.delete(hex)
      // Announcing the topic of a feed we do not follow would tell the DHT what we read, for as
      // long as we are online: only followers (and the author) stay on it, and lookups still going.
      if (still === 0) {
        network.leavePeer(feed.author)
        if (!this.relations.isFollowing(hex)) await network.leaveFeed(feed.core.discoveryKey)
      }
    }
  }

  /**
   * Join an interest topic (or look it up again when joined) and list the people found there,
   * plus people followed by the people you follow. Returns once the lookup is done and every
   * connection made has said hello; while nobody is found, it goes on listening until the
   * deadline (someone may still be connecting).
   */
  async discover(topic: string, deadline: number): Promise<{ topic: string; people: DiscoveredPerson[] }> {
    const normal = interestTopic(topic).name // refuse a bad topic before going online
    const network = this.requireOnline()
    await this.index.addInterest(normal) // remembered: the node announces itself there from now on
    const people: DiscoveredPerson[] = []
    const seen = new Set<string>([this.feeds.own.authorHex])
    let changed = (): void => {}
    const onPeer = (peer: Peer): void => {
      const person = this.foundOn(peer, normal, seen)
      if (person) people.push(person)
      changed()
    }
    network.on('peer', onPeer)
    try {
      for (const peer of network.list()) onPeer(peer)
      await untilDeadline(this.announce(normal, { lookAgain: true }), deadline)
      await untilDeadline(network.flush(), deadline)
      const settled = (): boolean => people.length > 0 && network.list().length >= network.connectionCount()
      await untilDeadline(
        new Promise<void>((resolve) => {
          changed = () => settled() && resolve()
          changed()
        }),
        deadline
      )
    } finally {
      network.off('peer', onPeer)
    }
    people.push(...(await this.followedByFollows(seen)))
    return { topic: normal, people }
  }

  /**
   * Be findable on topics (those of a post just written): remembered, and announced while
   * online. Resolves once remembered; the announcing goes on in the background (`announcing`).
   */
  async joinTopics(names: string[]): Promise<void> {
    for (const name of names) {
      if (await this.index.addInterest(name)) void this.announce(name).catch(() => {}) // the network closed: announced at the next online()
    }
  }

  /** Stop being findable on a topic; false when this node was not on it. */
  async leaveTopic(name: string): Promise<boolean> {
    const normal = interestTopic(name).name
    const was = await this.index.removeInterest(normal)
    await this.network?.leaveInterest(normal)
    return was
  }

  /** The topics this node is on, and whether it announces them now (online, announce done). */
  async topics(): Promise<Array<{ name: string; announced: boolean }>> {
    const joined = new Set(this.network?.interestNames() ?? [])
    return (await this.index.interests()).map((name) => ({ name, announced: joined.has(name) && !this.joining.has(name) }))
  }

  /** The announce of a topic in flight, if any (tests and callers that must know it landed). */
  announcing(name: string): Promise<void> {
    return this.joining.get(name) ?? Promise.resolve()
  }

  private announce(name: string, opts: { lookAgain?: boolean } = {}): Promise<void> {
    const network = this.network
    if (!network) return Promise.resolve()
    const joining = (async () => {
      // Left meanwhile (topic leave while going online): never joined again behind the user's back.
      if (!(await this.index.hasInterest(name))) return
      await network.joinInterest(name, opts)
      if (!(await this.index.hasInterest(name))) await network.leaveInterest(name)
    })().then(
      () => {
        if (this.joining.get(name) === joining) this.joining.delete(name)
      },
      (err: unknown) => {
        if (this.joining.get(name) === joining) this.joining.delete(name)
        throw err
      }
    )
    this.joining.set(name, joining)
    return joining
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
    const seen = new Set<string>([this.feeds.own.authorHex])
    let stopped = false
    const onPeer = (peer: Peer): void => {
      const person = stopped ? null : this.foundOn(peer, normal, seen)
      if (person) onPerson(person)
    }
    network.on('peer', onPeer)
    for (const peer of network.list()) onPeer(peer)
    this.announce(normal, { lookAgain: true })
      .then(async () => {
        for (const peer of network.list()) onPeer(peer)
        for (const person of await this.followedByFollows(seen)) if (!stopped) onPerson(person)
      })
      .catch(() => {}) // the network or the node closed meanwhile: nothing more to report
    return () => {
      stopped = true
      network.off('peer', onPeer)
    }
  }

  /**
   * For `serve` and the TUI: also download each followed feed's whole history in the
   * background, so this node can serve all of it to others while its author is away.
   */
  live(): void {
    this.backfill = true
    this.stopLive()
    for (const feed of this.relations.followed()) this.keepLive(feed)
  }

  /** Peers now, and how many followed feeds have one. */
  status(): { online: boolean; peers: number; feeds: number; feedsReachable: number } {
    const followed = this.relations.followed()
    return {
      online: this.network !== null,
      peers: this.network?.connectionCount() ?? 0,
      feeds: followed.length,
      feedsReachable: followed.filter((f) => f.core.peers.length > 0).length
    }
  }

  /** Stop the live feeds and leave the swarm. */
  async close(): Promise<void> {
    this.stopLive()
    this.finder?.close()
    await this.network?.close()
  }

  /** Stop downloading and indexing followed feeds as they grow. */
  stopLive(): void {
    for (const stop of this.liveFeeds.values()) stop()
    this.liveFeeds.clear()
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
        () => {} // the index closed under us: the node is closing
      )
    }
    feed.core.on('append', onAppend)
    this.liveFeeds.set(feed.authorHex, () => {
      download.destroy()
      feed.core.off('append', onAppend)
    })
  }

  private foundOn(peer: Peer, topic: string, seen: Set<string>): DiscoveredPerson | null {
    const hex = toHex(peer.publicKey)
    if (seen.has(hex) || this.relations.isBlocked(hex)) return null
    if (!peer.hello?.topics.includes(topic) && !peer.foundVia.has(topic)) return null
    seen.add(hex)
    return { id: peer.id, fingerprint: fingerprint(peer.publicKey), name: peer.hello?.name || null, bio: peer.hello?.bio ?? '', via: `topic ${topic}`, following: this.relations.isFollowing(hex) }
  }

  private async followedByFollows(seen: Set<string>): Promise<DiscoveredPerson[]> {
    const people: DiscoveredPerson[] = []
    for (const feed of this.relations.followed()) {
      const via = (await feed.profile())?.name ?? encodeId(feed.author).slice(0, 8)
      for (const { target } of await feed.following()) {
        const hex = toHex(target)
        if (seen.has(hex) || this.relations.isBlocked(hex) || this.relations.isFollowing(hex)) continue
        seen.add(hex)
        const profile = await untilDeadline(this.feeds.of(target).profile(), Date.now() + 500)
        people.push({ id: encodeId(target), fingerprint: fingerprint(target), name: profile?.name ?? null, bio: profile?.bio ?? '', via: `followed by ${via}`, following: false })
      }
    }
    return people
  }
}

/**
 * Replicate a feed over a connection. Given the connection's stream (not its muxer), hypercore
 * skips a feed attached there already: offering one again (each read of it) must not pile up
 * listeners and pairings on the stream.
 */
function attach(feed: Feed, mux: Protomux): void {
  feed.core.replicate(mux.stream)
}
