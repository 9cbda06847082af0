import { DecodeError } from '../codec/primitives.js'
import { NOTIFY_LIMITS } from './messages.js'

interface Bucket {
  tokens: number
  /** When `tokens` was last brought up to date. */
  at: number
  /** Notifications dropped since the last one accepted. */
  drops: number
}

const MAX_BUCKETS = 4096

/**
 * What one sender may make us do (protocol.md §8.3): a token bucket per identity, kept across
 * reconnections, NOTIFY_LIMITS. Each accepted notify or follow notice costs a feed read.
 *
 *   if (!buckets.take(senderHex)) return // dropped unacknowledged; a flood throws (disconnect)
 */
export class SenderBuckets {
  private readonly buckets = new Map<string, Bucket>()

  /** One token of this sender, or false (dropped); a flood throws a DecodeError (disconnect). */
  take(key: string, now = Date.now()): boolean {
    let bucket = this.buckets.get(key)
    if (!bucket) {
      // Bounded: the oldest sender's bucket goes first (it is refilled, or nearly).
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!)
      this.buckets.set(key, (bucket = { tokens: NOTIFY_LIMITS.burst, at: now, drops: 0 }))
    }
    if (refill(bucket, now) >= 1) {
      bucket.tokens--
      bucket.drops = 0
      return true
    }
    if (++bucket.drops > NOTIFY_LIMITS.floodDrops) {
      throw new DecodeError(`a notification flood (more than ${NOTIFY_LIMITS.floodDrops} over the rate of ${NOTIFY_LIMITS.perSecond}/s)`)
    }
    return false
  }

  /** The sender disconnected: a full bucket is forgotten (it would start full anyway). */
  release(key: string, now = Date.now()): void {
    const bucket = this.buckets.get(key)
    if (bucket && refill(bucket, now) >= NOTIFY_LIMITS.burst) this.buckets.delete(key)
  }
}

/** Bring a bucket up to date; returns its tokens. */
function refill(b: Bucket, now: number): number {
  b.tokens = Math.min(NOTIFY_LIMITS.burst, b.tokens + ((now - b.at) / 1000) * NOTIFY_LIMITS.perSecond)
  b.at = now
  return b.tokens
}
