import { parseId, toHex } from '../identity/encoding.js'
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

/** How many of each author's newest posts a topic view reads (a few blocks of each feed). */
const TOPIC_READ = 20

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
    const local = new Map<string, Buffer>([[this.feeds.own.authorHex, this.feeds.own.author]])
    for (const feed of this.relations.followed()) local.set(feed.authorHex, feed.author)
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
}
