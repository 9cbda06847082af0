import type Corestore from 'corestore'
import * as b4a from '../bytes.js'
import { toHex } from '../identity/encoding.js'
import { Feed, type OwnFeed } from '../feeds/feed.js'
import { feedKeyOf } from '../feeds/layout.js'

/**
 * Every feed this node reads, one reader per identity on the one corestore: the own feed, and the
 * others opened on first use. Owns their closing.
 *
 *   const feed = feeds.of(author) // the own feed for our own key
 */
export class FeedSet {
  readonly own: OwnFeed
  private readonly store: Corestore
  private readonly others = new Map<string, Feed>()
  private online = false
  /** Called with each feed opened from now on (Presence offers it on the connections there are). */
  onOpen: ((feed: Feed) => void) | null = null

  constructor(store: Corestore, own: OwnFeed) {
    this.store = store
    this.own = own
  }

  of(author: Buffer): Feed {
    if (b4a.equals(author, this.own.author)) return this.own
    const hex = toHex(author)
    let feed = this.others.get(hex)
    if (!feed) {
      feed = new Feed(this.store.get({ key: feedKeyOf(author) }), author)
      feed.online = this.online
      this.others.set(hex, feed)
      this.onOpen?.(feed)
    }
    return feed
  }

  /** An identity's feed if it is open already (never opens one). */
  opened(author: Buffer): Feed | null {
    if (b4a.equals(author, this.own.author)) return this.own
    return this.others.get(toHex(author)) ?? null
  }

  /** The open feed whose discovery key (its feed topic) this is, if any. */
  byDiscoveryKey(discoveryKey: Buffer): Feed | null {
    if (this.own.core.discoveryKey?.equals(discoveryKey)) return this.own
    for (const feed of this.others.values()) if (feed.core.discoveryKey?.equals(discoveryKey)) return feed
    return null
  }

  ofHex(hex: string): Feed {
    return this.of(b4a.from(hex, 'hex'))
  }

  /** From now on reads may wait for peers (a feed offline answers from what is here). */
  goOnline(): void {
    this.online = true
    this.own.online = true
    for (const feed of this.others.values()) feed.online = true
  }

  async close(): Promise<void> {
    for (const feed of this.others.values()) await feed.close()
    this.others.clear()
    await this.own.close()
  }
}
