/**
 * Which blocks to ask of which peer: the piece picker of a BitTorrent download, with no sockets,
 * no storage and an injected clock, so every rule is unit-tested (test/picker.test.ts).
 *
 * - **Rarest first:** a new piece is the one the fewest peers have (seeds that sent `have all`
 *   count for every piece), among pieces the peer has and we want and do not hold; ties are
 *   broken by a random starting point, so peers do not all start on the same piece.
 * - **Whole pieces per peer:** the blocks of a piece are asked of the peer that started it (its
 *   owner), so a piece that fails its SHA-1 (v1) has one sender to blame. A piece whose owner
 *   left is adopted by the next peer that has it, keeping the blocks already received.
 * - **Helping out:** a peer with no piece of its own left to start takes unasked blocks of
 *   pieces others are fetching (their senders are all remembered, for bans).
 * - **Endgame:** once every block a peer could fetch is asked of somebody, a block asked more
 *   than `endgameAfterMs` ago may also be asked of one more peer; the first answer wins and the
 *   others are cancelled.
 * - **Timeouts:** `expire()` hands back requests unanswered for `requestTimeoutMs`.
 *
 *   const picker = new PiecePicker({ pieceCount, pieceSize: (i) => pieceSize(meta, i), wanted, have })
 *   picker.addPeer(bits)                           // or addPeer('all') for a seed
 *   for (const r of picker.next(peer, bits, 250)) wire.request(r.piece, r.offset, r.length)
 *   const { accepted, cancel, complete } = picker.received(peer, piece, offset)
 *   if (complete) verify(piece) ? picker.verified(piece) : ban(picker.failed(piece))
 */

/** Bytes in a block request: what every client asks and serves (BEP 3, BEP 52's leaf size). */
export const BLOCK_SIZE = 16 * 1024

export const PICKER_LIMITS = {
  /** In endgame, a block asked this long ago may also be asked of another peer. */
  endgameAfterMs: 1000,
  /** Peers one block may be asked of at once, in endgame. */
  maxAskersPerBlock: 2,
  /** A request unanswered this long is taken back (`expire()`). */
  requestTimeoutMs: 20_000
} as const

/** What a peer has: a bitfield, or every piece (`have all`, a seed). */
export type PeerHas = { get(i: number): boolean } | 'all'

export interface BlockRef {
  piece: number
  offset: number
  length: number
}

export interface PickerOptions {
  pieceCount: number
  /** Bytes of piece `i` (the last one is shorter; a v2 file's last piece too). */
  pieceSize: (i: number) => number
  /** Pieces of the selection. */
  wanted: { get(i: number): boolean }
  /** Pieces held and verified (read, never changed, by the picker: `verified()` is the caller's cue). */
  have: { get(i: number): boolean }
  blockSize?: number
  now?: () => number
  random?: () => number
  endgameAfterMs?: number
  requestTimeoutMs?: number
}

interface Ask<P> {
  peer: P
  at: number
}

/** A piece being fetched: who sent each block, who is asked for which. */
interface Partial<P> {
  piece: number
  size: number
  /** Sender of each received block; undefined = not yet here. */
  from: Array<P | undefined>
  received: number
  /** Outstanding requests per block index. */
  asks: Map<number, Array<Ask<P>>>
  owner: P | null
}

/** Chooses which blocks to ask of which peer (rarest first, then endgame); no sockets, no storage. */
export class PiecePicker<P> {
  private readonly opts: Required<Pick<PickerOptions, 'blockSize' | 'now' | 'random' | 'endgameAfterMs' | 'requestTimeoutMs'>> & PickerOptions
  private readonly availability: Uint32Array
  private seeds = 0
  private readonly partials = new Map<number, Partial<P>>()
  /** How many pieces in progress each peer owns. */
  private readonly owners = new Map<P, number>()
  /** nothingToStart's last answer, and when. */
  private exhausted = false
  private lookedAt = -Infinity

  constructor(opts: PickerOptions) {
    if (!Number.isInteger(opts.pieceCount) || opts.pieceCount < 0) throw new RangeError(`pieceCount ${opts.pieceCount}`)
    this.opts = {
      blockSize: BLOCK_SIZE,
      now: Date.now,
      random: Math.random,
      endgameAfterMs: PICKER_LIMITS.endgameAfterMs,
      requestTimeoutMs: PICKER_LIMITS.requestTimeoutMs,
      ...opts
    }
    this.availability = new Uint32Array(opts.pieceCount)
  }

  // --- availability ----------------------------------------------------------------------

  /** A peer's bitfield (or `have all`) arrived. */
  addPeer(has: PeerHas): void {
    if (has === 'all') this.seeds++
    else for (let i = 0; i < this.availability.length; i++) if (has.get(i)) this.availability[i]!++
  }

  /** A peer left: what `addPeer` and `peerHas` counted for it is taken back. */
  removePeer(has: PeerHas): void {
    if (has === 'all') this.seeds = Math.max(0, this.seeds - 1)
    else for (let i = 0; i < this.availability.length; i++) if (has.get(i) && this.availability[i]! > 0) this.availability[i]!--
  }

  /** A peer announced one more piece (`have`); call it only for a piece it did not have. */
  peerHas(piece: number): void {
    if (piece >= 0 && piece < this.availability.length) this.availability[piece]!++
  }

  /** How many known peers have `piece`. */
  available(piece: number): number {
    return (this.availability[piece] ?? 0) + this.seeds
  }

  /** Does the peer have a piece we still want? (whether to be interested in it) */
  interesting(has: PeerHas): boolean {
    const { wanted, have } = this.opts
    for (let i = 0; i < this.availability.length; i++) if (wanted.get(i) && !have.get(i) && (has === 'all' || has.get(i))) return true
    return false
  }

  // --- requests --------------------------------------------------------------------------

  /**
   * Up to `max` new block requests for `peer`: first the blocks of pieces it owns, then a piece
   * whose owner left, then new pieces rarest first (at most `startable` of them), then (endgame)
   * blocks slow to come from others. Each returned block is recorded as asked of `peer`.
   */
  next(peer: P, has: PeerHas, max: number, startable = Infinity): BlockRef[] {
    const out: BlockRef[] = []
    if (max <= 0) return out
    for (const part of this.partials.values()) {
      if (part.owner === peer) this.take(part, peer, max, out)
      if (out.length >= max) return out
    }
    for (const part of this.partials.values()) {
      if (part.owner !== null || !holds(has, part.piece) || part.received === part.from.length) continue
      this.setOwner(part, peer)
      this.take(part, peer, max, out)
      if (out.length >= max) return out
    }
    // Endgame (below) only once no piece is left to start, not while the cap holds them back.
    let exhausted = false
    for (let started = 0; out.length < max; started++) {
      if (started >= startable) {
        exhausted = this.nothingToStart(has)
        break
      }
      const piece = this.rarest(has)
      if (piece === -1) {
        exhausted = true
        break
      }
      this.take(this.start(piece, peer), peer, max, out)
    }
    // Nothing left to start: help with others' pieces (unasked blocks, then endgame).
    for (const part of this.partials.values()) {
      if (out.length >= max) return out
      if (holds(has, part.piece)) this.take(part, peer, max, out)
    }
    if (out.length < max && exhausted) this.endgame(peer, has, max, out)
    return out
  }

  /** Is no wanted piece left to start (for a peer with `has`)? Looked up at most every 100 ms. */
  private nothingToStart(has: PeerHas): boolean {
    const now = this.opts.now()
    if (now - this.lookedAt >= 100) {
      this.lookedAt = now
      this.exhausted = this.rarest(has) === -1
    }
    return this.exhausted
  }

  /** Unasked blocks of `part`, in order, asked of `peer`. */
  private take(part: Partial<P>, peer: P, max: number, out: BlockRef[]): void {
    const now = this.opts.now()
    for (let b = 0; b < part.from.length && out.length < max; b++) {
      if (part.from[b] !== undefined || part.asks.has(b)) continue
      part.asks.set(b, [{ peer, at: now }])
      out.push(this.ref(part, b))
    }
  }

  /** Rarest wanted piece the peer has that nobody fetches yet; -1 when there is none. */
  private rarest(has: PeerHas): number {
    const n = this.availability.length
    if (n === 0) return -1
    const { wanted, have } = this.opts
    const start = Math.floor(this.opts.random() * n) % n
    let best = -1
    let bestAvail = Infinity
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n
      if (!wanted.get(i) || have.get(i) || this.partials.has(i) || !holds(has, i)) continue
      const a = this.availability[i]!
      if (a < bestAvail) {
        best = i
        bestAvail = a
        if (a <= 1) break // nobody is rarer than the one peer asking
      }
    }
    return best
  }

  private start(piece: number, owner: P): Partial<P> {
    const size = this.opts.pieceSize(piece)
    const blocks = Math.max(1, Math.ceil(size / this.opts.blockSize))
    const part: Partial<P> = { piece, size, from: new Array<P | undefined>(blocks), received: 0, asks: new Map(), owner: null }
    this.setOwner(part, owner)
    this.partials.set(piece, part)
    return part
  }

  /**
   * Endgame (called when every block this peer could fetch is asked of somebody): a block asked
   * of someone else at least `endgameAfterMs` ago is asked of this peer too.
   */
  private endgame(peer: P, has: PeerHas, max: number, out: BlockRef[]): void {
    const now = this.opts.now()
    const slow = now - this.opts.endgameAfterMs
    for (const part of this.partials.values()) {
      if (!holds(has, part.piece)) continue
      for (const [b, asks] of part.asks) {
        if (out.length >= max) return
        if (asks.length >= PICKER_LIMITS.maxAskersPerBlock || asks.some((a) => a.peer === peer) || asks[0]!.at > slow) continue
        asks.push({ peer, at: now })
        out.push(this.ref(part, b))
      }
    }
  }

  /**
   * A block arrived from `peer`. `accepted` is false for a block nobody asked of it or that is
   * already here (the caller drops the data). `cancel` lists the other peers asked for the same
   * block (send them `cancel`). `complete` is true when every block of the piece is here: verify
   * it, then call `verified()` or `failed()`.
   */
  received(peer: P, piece: number, offset: number): { accepted: boolean; cancel: P[]; complete: boolean } {
    const part = this.partials.get(piece)
    const b = offset / this.opts.blockSize
    const asks = part?.asks.get(b)
    if (!part || !asks || !asks.some((a) => a.peer === peer) || part.from[b] !== undefined) return { accepted: false, cancel: [], complete: false }
    part.asks.delete(b)
    part.from[b] = peer
    part.received++
    return { accepted: true, cancel: asks.filter((a) => a.peer !== peer).map((a) => a.peer), complete: part.received === part.from.length }
  }

  /** A request of ours will not be answered (rejected, choked, cancelled): someone else may take it. */
  released(peer: P, piece: number, offset: number): void {
    const part = this.partials.get(piece)
    const b = offset / this.opts.blockSize
    const asks = part?.asks.get(b)
    if (!part || !asks) return
    const left = asks.filter((a) => a.peer !== peer)
    if (left.length > 0) part.asks.set(b, left)
    else part.asks.delete(b)
  }

  /** A peer left: its requests are released and the pieces it owned wait for another owner. */
  removeRequests(peer: P): void {
    for (const part of this.partials.values()) {
      for (const [b, asks] of part.asks) {
        const left = asks.filter((a) => a.peer !== peer)
        if (left.length === asks.length) continue
        if (left.length > 0) part.asks.set(b, left)
        else part.asks.delete(b)
      }
      if (part.owner === peer) this.setOwner(part, null)
    }
  }

  /** Requests unanswered for `requestTimeoutMs`, taken back (cancel them; the peer may be slow or gone). */
  expire(): Array<{ peer: P } & BlockRef> {
    const old = this.opts.now() - this.opts.requestTimeoutMs
    const out: Array<{ peer: P } & BlockRef> = []
    for (const part of this.partials.values()) {
      for (const [b, asks] of part.asks) {
        const left = asks.filter((a) => a.at > old)
        if (left.length === asks.length) continue
        for (const a of asks) if (a.at <= old) out.push({ peer: a.peer, ...this.ref(part, b) })
        if (left.length > 0) part.asks.set(b, left)
        else part.asks.delete(b)
        if (part.owner !== null && asks.some((a) => a.at <= old && a.peer === part.owner)) this.setOwner(part, null)
      }
    }
    return out
  }

  /** Who sent the block at `offset` of a piece in progress (v2 block hashes name the culprit). */
  sender(piece: number, offset: number): P | undefined {
    return this.partials.get(piece)?.from[offset / this.opts.blockSize]
  }

  /** Pieces started and not yet verified or failed. */
  get active(): number {
    return this.partials.size
  }

  /** Pieces in progress that `peer` owns. */
  owned(peer: P): number {
    return this.owners.get(peer) ?? 0
  }

  /** The piece passed its check (the caller stored it and set it in `have`). */
  verified(piece: number): void {
    const part = this.partials.get(piece)
    if (part) this.setOwner(part, null)
    this.partials.delete(piece)
  }

  private setOwner(part: Partial<P>, owner: P | null): void {
    if (part.owner === owner) return
    if (part.owner !== null) {
      const n = (this.owners.get(part.owner) ?? 1) - 1
      if (n > 0) this.owners.set(part.owner, n)
      else this.owners.delete(part.owner)
    }
    part.owner = owner
    if (owner !== null) this.owners.set(owner, (this.owners.get(owner) ?? 0) + 1)
  }

  /**
   * The piece failed its check: it starts over with no owner. Returns who sent its blocks (one
   * peer, unless an owner left halfway and another finished it).
   */
  failed(piece: number): P[] {
    const part = this.partials.get(piece)
    if (!part) return []
    this.setOwner(part, null)
    this.partials.delete(piece)
    return [...new Set(part.from.filter((p): p is P => p !== undefined))]
  }

  /** Drop blocks of one piece a peer sent (a v2 block that failed its hash): they are asked again. */
  forget(piece: number, offset: number): void {
    const part = this.partials.get(piece)
    const b = offset / this.opts.blockSize
    if (!part || part.from[b] === undefined) return
    part.from[b] = undefined
    part.received--
  }

  /** Pieces in progress (asked, arriving or waiting for their check). */
  get inProgress(): number {
    return this.partials.size
  }

  /** Outstanding requests of one peer. */
  outstanding(peer: P): number {
    let n = 0
    for (const part of this.partials.values()) for (const asks of part.asks.values()) if (asks.some((a) => a.peer === peer)) n++
    return n
  }

  private ref(part: Partial<P>, b: number): BlockRef {
    const offset = b * this.opts.blockSize
    return { piece: part.piece, offset, length: Math.min(this.opts.blockSize, part.size - offset) }
  }
}

function holds(has: PeerHas, piece: number): boolean {
  return has === 'all' || has.get(piece)
}
