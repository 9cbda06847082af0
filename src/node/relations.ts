import { ChrysalisError } from '../errors.js'
import { encodeId, fingerprint, parseId, toHex } from '../identity/encoding.js'
import * as b4a from '../bytes.js'
import type { Feed } from '../feeds/feed.js'
import { BLOCK_PREFIX, FOLLOW_PREFIX } from '../feeds/layout.js'
import { untilDeadline } from './deadline.js'
import type { FeedSet } from './feed-set.js'
import type { RelationRecord } from '../feeds/records.js'
import type { PersonView } from './views.js'

/**
 * Whom this identity follows and blocks: the two sets, read from the own feed at open and written
 * back to it on every change, and the people views built from them.
 *
 *   const record = await relations.follow(target) // null when already followed
 */
export class Relations {
  private readonly feeds: FeedSet
  private following = new Set<string>()
  private blocked = new Set<string>()

  constructor(feeds: FeedSet) {
    this.feeds = feeds
  }

  async load(): Promise<void> {
    this.following = new Set((await this.feeds.own.following()).map((f) => toHex(f.target)))
    this.blocked = new Set((await this.feeds.own.blocked()).map((f) => toHex(f.target)))
  }

  /** Another identity's key, parsed; refuses our own (`verb` names what was asked). */
  other(id: string | Buffer, verb: string): Buffer {
    const target = typeof id === 'string' ? parseId(id) : id
    if (b4a.equals(target, this.feeds.own.author)) throw new ChrysalisError('BAD_INPUT', `you cannot ${verb} yourself`)
    return target
  }

  /** Follow; the record written, or null when `target` was followed already. */
  async follow(target: Buffer): Promise<RelationRecord | null> {
    const hex = toHex(target)
    if (this.blocked.has(hex)) throw new ChrysalisError('BAD_STATE', 'you blocked this identity; unblock it first with `chrysalis unblock ID`')
    if (this.following.has(hex)) return null
    const record = await this.feeds.own.setRelation('follow', target)
    this.following.add(hex)
    return record
  }

  /** Stop following; the unfollow record written, or null when `target` was not followed. */
  async unfollow(target: Buffer): Promise<RelationRecord | null> {
    const hex = toHex(target)
    if (!this.following.has(hex)) return null
    const record = await this.feeds.own.setRelation('unfollow', target)
    this.following.delete(hex)
    return record
  }

  /** Block (which also unfollows); the unfollow record when `target` was followed until now. */
  async block(target: Buffer): Promise<RelationRecord | null> {
    const unfollowed = await this.unfollow(target)
    if (!this.blocked.has(toHex(target))) {
      await this.feeds.own.setRelation('block', target)
      this.blocked.add(toHex(target))
    }
    return unfollowed
  }

  async unblock(target: Buffer): Promise<void> {
    const hex = toHex(target)
    if (!this.blocked.has(hex)) throw new ChrysalisError('NOT_FOUND', 'you have not blocked this identity')
    await this.feeds.own.setRelation('unblock', target)
    this.blocked.delete(hex)
  }

  isFollowing(hex: string): boolean {
    return this.following.has(hex)
  }

  isBlocked(hex: string): boolean {
    return this.blocked.has(hex)
  }

  followingCount(): number {
    return this.following.size
  }

  /** The feeds of everyone followed. */
  followed(): Feed[] {
    return [...this.following].map((hex) => this.feeds.ofHex(hex))
  }

  async list(which: 'following' | 'blocked'): Promise<PersonView[]> {
    const list = which === 'following' ? await this.feeds.own.following() : await this.feeds.own.blocked()
    return Promise.all(list.map(({ target }) => this.person(target)))
  }

  /** Whom someone follows, as their feed says (ours too); names where their feeds are here. */
  async followsOf(id: string | Buffer): Promise<PersonView[]> {
    const feed = this.feeds.of(typeof id === 'string' ? parseId(id) : id)
    const people: PersonView[] = []
    for (const { target, at } of await feed.following()) {
      const profile = await untilDeadline(this.feeds.of(target).profile(), Date.now() + 500)
      people.push({ id: encodeId(target), fingerprint: fingerprint(target), name: profile?.name ?? null, since: at })
    }
    return people
  }

  async person(target: Buffer): Promise<PersonView> {
    const own = this.feeds.own
    const relation = (await own.relation(FOLLOW_PREFIX, target)) ?? (await own.relation(BLOCK_PREFIX, target))
    return {
      id: encodeId(target),
      fingerprint: fingerprint(target),
      name: (await this.feeds.of(target).profile())?.name ?? null,
      since: relation?.at ?? 0
    }
  }
}
