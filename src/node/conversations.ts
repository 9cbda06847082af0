import * as b4a from '../bytes.js'
import { toHex } from '../identity/encoding.js'
import { LOCAL_ONLY, type Feed, type StoredPost } from '../feeds/feed.js'
import { formatRef } from '../feeds/layout.js'
import type { PostRef } from '../feeds/records.js'
import type { LocalIndex } from '../feeds/local-index.js'
import type { Network } from '../net/network.js'
import { firstPeer, untilDeadline } from './deadline.js'
import type { FeedSet } from './feed-set.js'
import type { Reading } from './reading.js'
import type { Relations } from './relations.js'
import type { FollowerView, NotificationView } from './views.js'

/** Identities delivered to at once by flushOutbox (each a direct connection attempt). */
export const DELIVER_CONCURRENCY = 16

/** What Conversations reads and writes: the node's parts, injected. */
export interface ConversationDeps {
  feeds: FeedSet
  index: LocalIndex
  relations: Relations
  /** Where the network is, once online. */
  presence: { readonly network: Network | null }
  reading: Reading
  now(): number
  notify(n: NotificationView): void
  /** Someone who followed us, as the followers list shows them (Followers.view). */
  follower(author: Buffer, since: number): Promise<FollowerView>
}

/**
 * Comments across peers (protocol.md §8.3, §9): the outbox of notifications we owe others, the
 * handling of notifications others send us, backlinks into our threads, and fetching comments
 * by people we do not follow that appear in threads we can see.
 */
export class Conversations {
  private readonly d: ConversationDeps

  constructor(deps: ConversationDeps) {
    this.d = deps
  }

  /** A comment notifies the authors of its parent and root; a mention notifies the mentioned. */
  async queue(post: StoredPost): Promise<void> {
    const targets = new Map<string, { key: Buffer; kind: 'comment' | 'mention' }>()
    const reply = post.record.reply
    for (const key of reply ? [reply.root.author, reply.parent.author] : []) targets.set(toHex(key), { key, kind: 'comment' })
    for (const key of post.record.mentions) if (!targets.has(toHex(key))) targets.set(toHex(key), { key, kind: 'mention' })
    targets.delete(this.d.feeds.own.authorHex)
    for (const { key, kind } of targets.values()) await this.d.index.queueOutgoing(key, post.id, kind)
    if (this.d.presence.network) for (const { key } of targets.values()) void this.deliverSoon(key, 15_000)
  }

  /**
   * A follow or unfollow record was written (null: none was): tell `target` to read it again (a
   * follow notice, protocol.md §8.3), queued until acknowledged like a comment's notify. Call it
   * after Presence.watch(): a direct connection begun while the swarm flushes a lookup can hold
   * that flush for good (hyperswarm counts it as pending and may never count it done).
   */
  async queueFollowNotice(target: Buffer, record: { at: number } | null): Promise<void> {
    if (!record) return
    await this.d.index.queueFollowNotice(target, record.at)
    if (this.d.presence.network) void this.deliverSoon(target, 15_000)
  }

  /**
   * Deliver to one identity in the background (a comment just written, a peer that said hello),
   * for at most `ms`. Never rejects: what is not delivered stays queued, and a node closing
   * meanwhile (its index closed under the read) delivers it at its next online.
   */
  deliverSoon(target: Buffer, ms: number): Promise<void> {
    return this.deliverTo(target, Date.now() + ms).then(
      () => {},
      () => {}
    )
  }

  /** Deliver what is queued for one identity, if it can be reached before the deadline. */
  async deliverTo(target: Buffer, deadline: number): Promise<number> {
    const network = this.d.presence.network
    if (!network) return 0
    let n = 0
    for (const item of await this.d.index.outgoing(target)) {
      if (item.kind === 'follow') {
        const sent = await network.deliverFollowNotice(target, { at: item.id }, deadline)
        if (sent === 'old-peer') continue // kept for when they run a version that reads it
        if (sent === 'failed') break
      } else if (!(await network.deliver(target, { kind: item.kind === 'mention' ? 'mention' : 'comment', id: item.id }, deadline))) break
      await this.d.index.delivered(target, item.id)
      n++
    }
    return n
  }

  /**
   * Deliver what is owed to everyone, DELIVER_CONCURRENCY identities at a time (each is a direct
   * connection attempt: following 1,000 people offline owes 1,000 follow notices), until the
   * deadline. Whoever is not reached now is reached when they connect, or at the next flush.
   */
  async flushOutbox(deadline: number): Promise<number> {
    const targets = new Map<string, Buffer>()
    for (const item of await this.d.index.outgoing()) targets.set(toHex(item.target), item.target)
    const queue = [...targets.values()]
    let n = 0
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t !== undefined && Date.now() < deadline; t = queue.shift()) n += await this.deliverTo(t, deadline)
    }
    await Promise.all(Array.from({ length: Math.min(DELIVER_CONCURRENCY, queue.length) }, worker))
    return n
  }

  /**
   * Someone says their post `id` concerns us. Never trusted: the post is read from their feed
   * (verified by hypercore), and only a comment in our thread or a mention of us counts. A
   * comment in one of our threads is backlinked from our feed, unless we blocked its author.
   */
  async onNotify(from: Buffer, id: number): Promise<void> {
    const me = this.d.feeds.own.author
    if (this.d.relations.isBlocked(toHex(from)) || b4a.equals(from, me)) return
    const feed = this.d.feeds.of(from)
    // The sender is connected and serves its own feed: learn its length before reading.
    await untilDeadline(feed.core.update({ wait: true }), Date.now() + 8000)
    const post = await feed.getPost(id)
    if (!post || post.record.deletedAt !== undefined) return
    const r = post.record
    const ref = { author: from, id }
    const comment = r.reply !== undefined && (b4a.equals(r.reply.root.author, me) || b4a.equals(r.reply.parent.author, me))
    const mention = r.mentions.some((m) => b4a.equals(m, me))
    if (!comment && !mention) return
    if (r.reply && b4a.equals(r.reply.root.author, me) && this.d.feeds.own.writeLock === null) {
      const root = await this.d.feeds.own.getPost(r.reply.root.id)
      if (root && (await this.d.feeds.own.addBacklink(root.id, ref, r.reply.parent))) await this.d.index.update(this.d.feeds.own)
    }
    const kind = comment ? 'comment' : 'mention'
    if (await this.d.index.addNotification(kind, ref, this.d.now())) {
      this.d.notify({ kind, at: this.d.now(), post: await this.d.reading.view(post) })
    }
  }

  /** Comments on you, mentions of you and follows of you, newest first. */
  async list(opts: { limit?: number } = {}): Promise<NotificationView[]> {
    const out: NotificationView[] = []
    for (const n of await this.d.index.notifications(opts.limit ?? 50)) {
      if (this.d.relations.isBlocked(toHex(n.ref.author))) continue
      if (n.kind === 'follow') {
        // The ref's id is the follow record's time (LocalIndex.addFollower).
        out.push({ kind: 'follow', at: n.at, person: await this.d.follower(n.ref.author, Math.min(n.ref.id, n.at)) })
        continue
      }
      const stored = await this.d.feeds.of(n.ref.author).getPost(n.ref.id)
      out.push({ kind: n.kind === 'mention' ? 'mention' : 'comment', at: n.at, post: stored ? await this.d.reading.view(stored) : null, ref: formatRef(n.ref) })
    }
    return out
  }

  /**
   * Fetch comments by people we do not follow that sit in threads we can see (learned through
   * backlinks), so threads read complete offline. They come from anyone holding them: the
   * thread's author verified each one and so holds it too.
   */
  async prefetchComments(deadline: number): Promise<number> {
    const wanted: Array<{ feed: Feed; root: PostRef; id: number }> = []
    for (const { root, comment } of await this.d.index.threadComments(5000)) {
      const hex = toHex(comment.author)
      if (hex === this.d.feeds.own.authorHex || this.d.relations.isFollowing(hex) || this.d.relations.isBlocked(hex)) continue
      const feed = this.d.feeds.of(comment.author)
      const here = await feed.getPost(comment.id, LOCAL_ONLY)
      if (here) await this.d.reading.settleClaim(root, here)
      else wanted.push({ feed, root, id: comment.id })
    }
    if (wanted.length === 0) return 0
    // Its author may be online; else any connected peer holding the feed answers. Do not wait on
    // connecting to the author: an offline one would hold us to the deadline.
    const network = this.d.presence.network
    const authors = new Map(wanted.map(({ feed }) => [feed.authorHex, feed]))
    for (const feed of authors.values()) network?.joinPeer(feed.author)
    await Promise.all(
      [...authors.values()].map(async (feed) => {
        await firstPeer(feed, deadline)
        await untilDeadline(feed.core.update({ wait: true }), deadline)
      })
    )
    const fetched = await Promise.all(
      wanted.map(async ({ feed, root, id }) => {
        const post = await untilDeadline(feed.getPost(id), deadline)
        return post !== null && (await this.d.reading.settleClaim(root, post))
      })
    )
    for (const feed of authors.values()) network?.leavePeer(feed.author)
    return fetched.filter(Boolean).length
  }
}
