import { parseId, toHex } from '../identity/encoding.js'
import { interestTopic } from '../net/topics.js'
import type { FeedSet } from './feed-set.js'
import type { DiscoveredPerson, Presence } from './presence.js'
import type { Reading } from './reading.js'
import type { Relations } from './relations.js'
import type { PersonView, PostView, ProfileView } from './views.js'

export interface LookResult {
  profile: ProfileView
  /** Their newest posts and comments, newest first. */
  posts: PostView[]
  /** Whom they follow, by name where their feeds are here. */
  follows: PersonView[]
  following: boolean
  /** Whether a peer with their feed was connected (false: only what this node held). */
  reachable: boolean
}

export interface TopicView {
  topic: string
  /** The newest posts on the topic, newest first. */
  posts: PostView[]
  /** The people found on the topic now. */
  people: DiscoveredPerson[]
}

/** A live topic view as it grows (Finding.watchTopicPosts). */
export interface TopicUpdate extends TopicView {
  /** False when the node is not online: only what is here (yours, and the people you follow). */
  online: boolean
  /** Feeds of people found there still to read, or being read now. */
  reading: number
}

/** How many of each author's newest posts a topic view reads (a few blocks of each feed). */
const TOPIC_READ = 20
/** Feeds of people found on a topic that a live topic view reads at once. */
const TOPIC_READERS = 4

/**
 * Finding people and things beyond whom you follow: someone's profile before you follow them,
 * and a topic's newest posts from everyone found there. Reads others' feeds sparsely through
 * Presence.near (joined only while reading, never followed).
 *
 *   const { profile, posts } = await finding.look(author)
 *   const { posts } = await finding.topicView('vintage-manuals')
 */
export class Finding {
  private readonly feeds: FeedSet
  private readonly relations: Relations
  private readonly reading: Reading
  private readonly presence: Presence
  /** The own profile, as the node shows it (with `recovering`). */
  private readonly whoami: () => Promise<ProfileView>

  constructor(deps: { feeds: FeedSet; relations: Relations; reading: Reading; presence: Presence; whoami: () => Promise<ProfileView> }) {
    this.feeds = deps.feeds
    this.relations = deps.relations
    this.reading = deps.reading
    this.presence = deps.presence
    this.whoami = deps.whoami
  }

  /** Someone's profile, newest posts and follows, waiting up to `timeoutMs` for a peer with their feed. */
  look(author: Buffer, opts: { limit?: number; timeoutMs?: number } = {}): Promise<LookResult> {
    const feed = this.feeds.of(author)
    // Ours, or followed: here already and kept live, so read at once (never wait for a peer).
    const here = feed === this.feeds.own || this.relations.isFollowing(feed.authorHex)
    const read = <T>(fn: (reachable: boolean) => Promise<T>): Promise<T> =>
      here ? fn(feed === this.feeds.own || feed.core.peers.length > 0) : this.presence.near(feed, Date.now() + (opts.timeoutMs ?? 8000), fn)
    return read(async (reachable) => ({
      profile: feed === this.feeds.own ? await this.whoami() : await this.reading.profile(feed),
      posts: await this.reading.feed(author, { limit: opts.limit ?? 10 }),
      follows: await this.relations.followsOf(author),
      following: this.relations.isFollowing(feed.authorHex),
      reachable
    }))
  }

  /**
   * The newest posts on a topic from everyone found there, from the people followed, and ours.
   * Finding people gets most of the time; reading their newest posts the rest.
   */
  async topicView(topic: string, opts: { limit?: number; timeoutMs?: number } = {}): Promise<TopicView> {
    const timeoutMs = opts.timeoutMs ?? 10_000
    const start = Date.now()
    const found = await this.presence.discover(topic, start + Math.max(1000, timeoutMs * 0.6))
    const deadline = Math.max(start + timeoutMs, Date.now() + 2000)
    const here = found.people.filter((p) => p.via.startsWith('topic '))
    // Ours and those followed are here (live): read at once. The others through whoever has them.
    const local = this.here()
    const remote = new Map<string, Buffer>()
    for (const person of here) {
      const key = parseId(person.id)
      if (!local.has(toHex(key))) remote.set(toHex(key), key)
    }
    const perAuthor = await Promise.all([
      ...[...local.values()].map((author) => this.reading.feed(author, { limit: TOPIC_READ })),
      ...[...remote.values()].map((author) =>
        // One unreachable feed leaves only its own posts out.
        this.presence.near(this.feeds.of(author), deadline, () => this.reading.feed(author, { limit: TOPIC_READ })).catch(() => [] as PostView[])
      )
    ])
    const posts = perAuthor
      .flat()
      .filter((p) => !p.deleted && p.topics.includes(found.topic))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, opts.limit ?? 50)
    return { topic: found.topic, posts, people: here }
  }

  /**
   * The topic view, live (the TUI): `onUpdate` gets the newest posts on the topic from what is
   * here at once (yours and those of the people you follow, no network wait), then again as
   * each person found there is read sparsely (their newest posts through whoever has their feed,
   * TOPIC_READERS at once) and as followed feeds grow. Offline, only what is here (`online`
   * false). Resolves once what is here was reported; the function it gives stops the reports
   * (the interest stays remembered, as with discover).
   */
  async watchTopicPosts(topic: string, onUpdate: (view: TopicUpdate) => void, opts: { limit?: number; timeoutMs?: number } = {}): Promise<() => void> {
    const normal = interestTopic(topic).name // a bad topic fails before anything is read
    const online = this.presence.network !== null
    const read = new Map<string, PostView[]>() // each author's newest posts, by key (hex)
    const people: DiscoveredPerson[] = []
    const queue: Buffer[] = []
    let reading = 0
    let stopped = false
    const report = (): void => {
      if (stopped) return
      const posts = [...read]
        .flatMap(([hex, list]) => (this.relations.isBlocked(hex) ? [] : list))
        .filter((p) => !p.deleted && p.topics.includes(normal))
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, opts.limit ?? 50)
      onUpdate({ topic: normal, posts, people: [...people], online, reading: reading + queue.length })
    }
    const readHere = async (author: Buffer): Promise<void> => void read.set(toHex(author), await this.reading.feed(author, { limit: TOPIC_READ }))
    await Promise.all([...this.here().values()].map(readHere))
    report()
    if (!online) return () => void (stopped = true)
    const pump = (): void => {
      while (!stopped && reading < TOPIC_READERS && queue.length > 0) {
        const author = queue.shift()!
        reading++
        this.presence
          .near(this.feeds.of(author), Date.now() + (opts.timeoutMs ?? 10_000), () => this.reading.feed(author, { limit: TOPIC_READ }))
          .then((posts) => void read.set(toHex(author), posts), () => {}) // one unreachable feed leaves only its own posts out
          .finally(() => {
            reading--
            report()
            pump()
          })
      }
    }
    const onPerson = (person: DiscoveredPerson): void => {
      if (!person.via.startsWith('topic ')) return // watchTopic also names people your follows follow: not on the topic
      people.push(person)
      const key = parseId(person.id)
      if (!read.has(toHex(key))) queue.push(key) // the people you follow are read already
      pump()
      report()
    }
    // A followed feed grew (new posts indexed): read it again.
    const onFeed = (e: { id: string }): void => {
      const key = parseId(e.id)
      if (!stopped && this.relations.isFollowing(toHex(key))) readHere(key).then(report, () => {}) // the node is closing
    }
    this.presence.on('feed-update', onFeed)
    let stopWatch: () => void
    try {
      stopWatch = await this.presence.watchTopic(normal, onPerson)
    } catch (err) {
      this.presence.off('feed-update', onFeed)
      throw err
    }
    return () => {
      stopped = true
      stopWatch()
      this.presence.off('feed-update', onFeed)
    }
  }

  /** Authors whose feeds are here and live, read without waiting: ours and those followed, by key (hex). */
  private here(): Map<string, Buffer> {
    const local = new Map<string, Buffer>([[this.feeds.own.authorHex, this.feeds.own.author]])
    for (const feed of this.relations.followed()) local.set(feed.authorHex, feed.author)
    return local
  }
}
