import * as b4a from '../bytes.js'
import { SerialByKey } from '../serial.js'
import { encodeId, fingerprint, toHex } from '../identity/encoding.js'
import { LOCAL_ONLY } from '../feeds/feed.js'
import { FOLLOW_PREFIX } from '../feeds/layout.js'
import type { LocalIndex } from '../feeds/local-index.js'
import { firstPeer, untilDeadline } from './deadline.js'
import type { FeedSet } from './feed-set.js'
import type { Relations } from './relations.js'
import type { FollowerView, NotificationView } from './views.js'

/** What Followers reads and writes: the node's parts, injected. */
export interface FollowerDeps {
  feeds: FeedSet
  index: LocalIndex
  relations: Relations
  now(): number
  notify(n: NotificationView): void
}

/** How long a follow notice may take to read the sender's feed (as a notify's post: protocol.md §8.3). */
const READ_MS = 8000

/**
 * The people who follow us (protocol.md §8.3): built from follow notices, each checked against
 * the sender's own feed, never trusted. The sender side (queueing and delivering the notice after
 * a follow or an unfollow) is the outbox's, in Conversations.
 *
 *   const read = await followers.onNotice(from) // false: their feed could not be read, not acked
 *   const list = await followers.list({ limit: 50 })
 */
export class Followers {
  private readonly d: FollowerDeps
  /** Notices being read, by sender: one at a time each, so that a repeated one waits and notifies nothing. */
  private readonly reading = new SerialByKey<boolean>()

  constructor(deps: FollowerDeps) {
    this.d = deps
  }

  /**
   * `from` says they followed or unfollowed us. Their newest follow/unfollow record for our key,
   * read from their feed (fetched from them over this connection, verified by hypercore), decides:
   * a follow adds them to the followers (and notifies once per record), anything else removes
   * them. Blocked senders are answered unread. False when their feed could not be read in time:
   * the notice is not acknowledged, so they send it again later.
   */
  onNotice(from: Buffer): Promise<boolean> {
    return this.reading.run(toHex(from), () => this.read(from))
  }

  private async read(from: Buffer): Promise<boolean> {
    const me = this.d.feeds.own.author
    if (this.d.relations.isBlocked(toHex(from)) || b4a.equals(from, me)) return true
    const feed = this.d.feeds.of(from)
    const deadline = Date.now() + READ_MS
    if (!(await firstPeer(feed, deadline))) return false
    if ((await untilDeadline(feed.core.update({ wait: true }), deadline)) === null || feed.core.length === 0) return false
    const record = await untilDeadline(feed.relation(FOLLOW_PREFIX, me), deadline)
    if (record?.type !== 'follow') {
      await this.d.index.removeFollower(from)
      return true
    }
    await untilDeadline(feed.profile(), deadline) // their name, for the notification and the list
    const now = this.d.now()
    if (await this.d.index.addFollower(from, record.at, now)) {
      this.d.notify({ kind: 'follow', at: now, person: await this.view(from, Math.min(record.at, now)) })
    }
    return true
  }

  /** Who follows us, newest first; blocked people left out. */
  async list(opts: { limit?: number } = {}): Promise<FollowerView[]> {
    const limit = opts.limit ?? 100
    const out: FollowerView[] = []
    for (const { author, since } of await this.d.index.followers()) {
      if (out.length >= limit) break
      if (!this.d.relations.isBlocked(toHex(author))) out.push(await this.view(author, since))
    }
    return out
  }

  /** Someone who follows (or followed) us: their name from what is here, never the network. */
  async view(author: Buffer, since: number): Promise<FollowerView> {
    const profile = await this.d.feeds.of(author).profile(LOCAL_ONLY)
    return { id: encodeId(author), fingerprint: fingerprint(author), name: profile?.name ?? null, since, following: this.d.relations.isFollowing(toHex(author)) }
  }
}
