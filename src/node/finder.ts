import type { Feed } from '../feeds/feed.js'
import type { Network } from '../net/network.js'

/** Feed lookups in flight at once. */
export const FIND_CONCURRENCY = 8
/** Followed feeds a node announces (serves for others), the most recently active first. */
export const SERVED_FEEDS = 32
/** A feed looked up without finding anyone is looked up again after this, doubling each time… */
export const RETRY_MIN_MS = 60_000
/** …up to this. */
export const RETRY_MAX_MS = 30 * 60_000
const TICK_MS = 15_000

interface Entry {
  feed: Feed
  /** Lookups in a row that found nobody holding the feed. */
  misses: number
  /** Not looked up again before this (ms since epoch). */
  next: number
  /** The lookup in flight or queued, if any. */
  pending: Promise<void> | null
  start: (() => void) | null
}

/**
 * Finding followed feeds on demand (protocol.md §8.4). A node does not announce one topic per
 * followed person: it announces its own feed, its interest topics and the SERVED_FEEDS most
 * recently active followed feeds (so that a follower stands in for an author who is away). Every
 * other followed feed is looked up once, FIND_CONCURRENCY at a time, the recently active first,
 * and the connections found stay: over them hypercore tells each side the other's length of every
 * feed both hold (the feed heads) as it grows. A feed with nobody found is looked up again later,
 * backing off from RETRY_MIN_MS to RETRY_MAX_MS.
 *
 *   const finder = new FeedFinder(network)
 *   await finder.follow(followedFeeds) // most recently active first
 *   await finder.find(feed) // now, before the queue
 */
export class FeedFinder {
  private readonly network: Network
  private readonly now: () => number
  private readonly entries = new Map<string, Entry>()
  private readonly queue: Entry[] = []
  private readonly served = new Set<string>()
  private running = 0
  private closed = false
  private readonly timer: NodeJS.Timeout

  private readonly beforeLookup: (feed: Feed) => void

  /**
   * @param opts.beforeLookup called before a feed is looked up: Presence offers it on the
   *   connections there are (a peer we have may hold it: no lookup needed then).
   */
  constructor(network: Network, opts: { now?: () => number; beforeLookup?: (feed: Feed) => void } = {}) {
    this.network = network
    this.now = opts.now ?? Date.now
    this.beforeLookup = opts.beforeLookup ?? (() => {})
    this.timer = setInterval(() => this.lookAgain(false), TICK_MS)
    this.timer.unref()
  }

  /**
   * Take these followed feeds (the most recently active first): serve the first SERVED_FEEDS,
   * queue a lookup of the others. Resolves once the served ones are announced.
   */
  async follow(feeds: Feed[]): Promise<void> {
    const serving: Array<Promise<void>> = []
    for (const feed of feeds) {
      if (this.entries.has(feed.authorHex)) continue
      this.entries.set(feed.authorHex, { feed, misses: 0, next: 0, pending: null, start: null })
      if (this.served.size < SERVED_FEEDS) serving.push(this.serve(feed))
      else void this.enqueue(this.entries.get(feed.authorHex)!, false)
    }
    await Promise.all(serving)
  }

  /** A feed just followed: served while there is room, and looked up now. */
  async add(feed: Feed): Promise<void> {
    if (!this.entries.has(feed.authorHex)) this.entries.set(feed.authorHex, { feed, misses: 0, next: 0, pending: null, start: null })
    if (this.served.size < SERVED_FEEDS) return this.serve(feed)
    return this.find(feed)
  }

  /** A feed no longer followed: no longer served nor looked up. */
  async remove(feed: Feed): Promise<void> {
    const entry = this.entries.get(feed.authorHex)
    this.entries.delete(feed.authorHex)
    const i = entry ? this.queue.indexOf(entry) : -1
    if (i >= 0) {
      this.queue.splice(i, 1)
      entry!.pending = null
      entry!.start?.() // resolve its waiters: it will not be looked up
    }
    if (this.served.delete(feed.authorHex)) await this.network.leaveFeed(feed.core.discoveryKey)
  }

  /**
   * Look a followed feed up now, ahead of the queue (someone is waiting to read it), unless it
   * is served (looked up with its announcement) or a peer has it already.
   */
  find(feed: Feed): Promise<void> {
    const entry = this.entries.get(feed.authorHex)
    if (!entry || this.served.has(feed.authorHex) || feed.core.peers.length > 0) return Promise.resolve()
    return this.enqueue(entry, true)
  }

  /** Look up again every followed feed that no peer holds now (sync); resolves when all are done. */
  async lookAll(): Promise<void> {
    this.lookAgain(true)
    await Promise.all([...this.entries.values()].map((e) => e.pending ?? Promise.resolve()))
  }

  /** The feeds announced (served), whose heads are exchanged on every connection. */
  servedFeeds(): Feed[] {
    return [...this.served].map((hex) => this.entries.get(hex)?.feed).filter((f): f is Feed => f !== undefined)
  }

  /** How many feeds are announced, and lookups queued or running (status, tests). */
  stats(): { served: number; queued: number; running: number } {
    return { served: this.served.size, queued: this.queue.length, running: this.running }
  }

  close(): void {
    this.closed = true
    clearInterval(this.timer)
    for (const entry of this.queue.splice(0)) entry.start?.()
  }

  private async serve(feed: Feed): Promise<void> {
    this.served.add(feed.authorHex)
    const done = feed.core.findingPeers()
    try {
      await this.network.joinFeed(feed.core.discoveryKey)
    } finally {
      done()
    }
  }

  /** Queue the lookups that are due (or all of them, `now`) of feeds no peer holds. */
  private lookAgain(now: boolean): void {
    const t = this.now()
    for (const entry of this.entries.values()) {
      if (entry.pending || this.served.has(entry.feed.authorHex) || entry.feed.core.peers.length > 0) continue
      if (now || entry.next <= t) void this.enqueue(entry, false)
    }
  }

  private enqueue(entry: Entry, first: boolean): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (entry.pending) {
      // Queued already: move it to the front when someone waits for it.
      const i = this.queue.indexOf(entry)
      if (first && i > 0) this.queue.unshift(...this.queue.splice(i, 1))
      return entry.pending
    }
    // hypercore's update({ wait: true }) waits for this lookup, not just for any peer.
    const done = entry.feed.core.findingPeers()
    entry.pending = new Promise<void>((resolve) => (entry.start = resolve)).finally(() => {
      done()
      entry.pending = null
      entry.start = null
    })
    if (first) this.queue.unshift(entry)
    else this.queue.push(entry)
    this.drain()
    return entry.pending
  }

  private drain(): void {
    while (!this.closed && this.running < FIND_CONCURRENCY && this.queue.length > 0) {
      const entry = this.queue.shift()!
      this.running++
      void this.lookup(entry).finally(() => {
        this.running--
        entry.start?.()
        this.drain()
      })
    }
  }

  private async lookup(entry: Entry): Promise<void> {
    this.beforeLookup(entry.feed)
    try {
      await this.network.lookupFeed(entry.feed.core.discoveryKey)
      await this.network.flush() // the peers found are connected to (or failed)
    } catch {
      // the network is closing
    }
    const found = entry.feed.core.peers.length > 0
    entry.misses = found ? 0 : entry.misses + 1
    entry.next = this.now() + (found ? RETRY_MIN_MS : Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (entry.misses - 1)))
  }
}
