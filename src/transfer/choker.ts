/**
 * Whom we upload to: the choking algorithm of BitTorrent (BEP 3 "Choking and optimistic
 * unchoking", with fixed slots as libtorrent's default), with no sockets and an injected clock,
 * so it is unit-tested (test/choker.test.ts).
 *
 * Every `rechokeMs`, the `slots − 1` interested peers that gave us the most (while we download:
 * tit for tat) or that took the most from us (while we seed, so the fastest finish and seed in
 * turn; ties go to whoever was unchoked least recently) are unchoked; one more slot is the
 * optimistic unchoke, moved every `optimisticMs` to a random interested peer that is choked, so
 * newcomers with nothing to give can start. Everyone else is choked.
 *
 *   const choker = new Choker<Peer>({ slots: 8 })
 *   choker.add(peer); choker.interested(peer, true)
 *   setInterval(() => apply(choker.rechoke({ seeding, rateOf })), CHOKER_LIMITS.rechokeMs)
 */

export const CHOKER_LIMITS = {
  /** Peers we upload to at once (one of them the optimistic unchoke). */
  slots: 8,
  /** How often the unchoked set is chosen again. */
  rechokeMs: 10_000,
  /** How often the optimistic unchoke moves on. */
  optimisticMs: 30_000
} as const

export interface ChokerOptions {
  slots?: number
  now?: () => number
  random?: () => number
  optimisticMs?: number
}

interface State {
  interested: boolean
  unchoked: boolean
  /** When it was last unchoked (seeding round robin: least recent first). */
  unchokedAt: number
}

export interface Rechoke<P> {
  unchoke: P[]
  choke: P[]
}

/** Chooses whom we upload to, each rechoke period (BEP 3 choking with an optimistic unchoke). */
export class Choker<P> {
  private readonly peers = new Map<P, State>()
  private readonly slots: number
  private readonly now: () => number
  private readonly random: () => number
  private readonly optimisticMs: number
  private optimistic: P | null = null
  private optimisticSince = -Infinity

  constructor(opts: ChokerOptions = {}) {
    this.slots = Math.max(1, opts.slots ?? CHOKER_LIMITS.slots)
    this.now = opts.now ?? Date.now
    this.random = opts.random ?? Math.random
    this.optimisticMs = opts.optimisticMs ?? CHOKER_LIMITS.optimisticMs
  }

  add(peer: P): void {
    if (!this.peers.has(peer)) this.peers.set(peer, { interested: false, unchoked: false, unchokedAt: -Infinity })
  }

  remove(peer: P): void {
    this.peers.delete(peer)
    if (this.optimistic === peer) this.optimistic = null
  }

  interested(peer: P, value: boolean): void {
    const s = this.peers.get(peer)
    if (s) s.interested = value
  }

  isUnchoked(peer: P): boolean {
    return this.peers.get(peer)?.unchoked === true
  }

  /**
   * Choose the unchoked set again. `rateOf(peer)` is the bytes per second the round is judged by:
   * received from the peer while downloading (tit for tat), sent to it while seeding (so the
   * fastest downloaders finish and seed in turn). Returns only the changes to send.
   */
  rechoke(opts: { seeding: boolean; rateOf: (peer: P) => number }): Rechoke<P> {
    const now = this.now()
    const candidates = [...this.peers.entries()].filter(([, s]) => s.interested)
    const regular = Math.max(0, this.slots - 1)
    const byRate = candidates
      .map(([p, s]) => ({ p, s, rate: opts.rateOf(p) }))
      .sort((a, b) => b.rate - a.rate || (opts.seeding ? a.s.unchokedAt - b.s.unchokedAt : 0))
    const chosen = new Set<P>(byRate.slice(0, regular).map((x) => x.p))

    // The optimistic unchoke: kept for optimisticMs, then a random choked interested peer.
    const keep = this.optimistic !== null && this.peers.get(this.optimistic)?.interested === true && !chosen.has(this.optimistic) && now - this.optimisticSince < this.optimisticMs
    if (!keep) {
      const pool = candidates.map(([p]) => p).filter((p) => !chosen.has(p))
      this.optimistic = pool.length > 0 ? pool[Math.floor(this.random() * pool.length) % pool.length]! : null
      this.optimisticSince = now
    }
    if (this.optimistic !== null) chosen.add(this.optimistic)

    const result: Rechoke<P> = { unchoke: [], choke: [] }
    for (const [p, s] of this.peers) {
      const want = chosen.has(p)
      if (want && !s.unchoked) {
        s.unchoked = true
        s.unchokedAt = now
        result.unchoke.push(p)
      } else if (!want && s.unchoked) {
        s.unchoked = false
        result.choke.push(p)
      }
    }
    return result
  }
}
