import { blockHashRequest, checkBlockHashes } from '../hashes.js'
import type { Metainfo } from '../metainfo.js'
import type { HashRef } from '../wire/messages.js'
import type { Peer } from './peer.js'

/**
 * The block hashes of a v2 piece, asked of a v2 peer (BEP 52 hash request, base layer 0) and
 * proven against the piece's hash (hashes.ts): when a piece whose blocks came from several peers
 * fails its check, they name the sender of each bad block (protocol.md §13.3 "Bans").
 *
 *   const blame = new BlockHashRequests(meta)
 *   const leaves = await blame.ask(peer, piece)        // null: refused, unproven or too slow
 *   w.on('hashes', (m) => blame.onHashes(peer, m, m.hashes) || layers.onHashes(...))
 */
export const BLAME_LIMITS = {
  /** How long a peer has to answer before the blame falls back to strikes. */
  answerMs: 10_000
} as const

interface Ask {
  peer: Peer
  piece: number
  ref: HashRef
  resolve(leaves: Buffer[] | null): void
  timer: NodeJS.Timeout
}

/** Asks v2 peers for a failed piece's block hashes, to name the sender of each bad block. */
export class BlockHashRequests {
  private readonly meta: Metainfo
  private readonly asks = new Set<Ask>()

  constructor(meta: Metainfo) {
    this.meta = meta
  }

  /** Null at once when the piece has no block layer below its hash (one block) or is v1. */
  ask(peer: Peer, piece: number): Promise<Buffer[] | null> {
    const ref = blockHashRequest(this.meta, piece)
    if (!ref || !peer.wire.v2 || peer.wire.destroyed) return Promise.resolve(null)
    return new Promise((resolve) => {
      const ask: Ask = { peer, piece, ref, resolve, timer: setTimeout(() => this.settle(ask, null), BLAME_LIMITS.answerMs) }
      ask.timer.unref()
      this.asks.add(ask)
      peer.wire.hashRequest(ref)
    })
  }

  /** A `hashes` message: true when it answered one of our asks (proven or not). */
  onHashes(peer: Peer, ref: HashRef, hashes: Buffer): boolean {
    const ask = this.find(peer, ref)
    if (!ask) return false
    this.settle(ask, checkBlockHashes(this.meta, ask.piece, ref, hashes))
    return true
  }

  onReject(peer: Peer, ref: HashRef): boolean {
    const ask = this.find(peer, ref)
    if (!ask) return false
    this.settle(ask, null)
    return true
  }

  forget(peer: Peer): void {
    for (const ask of this.asks) if (ask.peer === peer) this.settle(ask, null)
  }

  stop(): void {
    for (const ask of this.asks) this.settle(ask, null)
  }

  private find(peer: Peer, ref: HashRef): Ask | undefined {
    if (ref.base !== 0) return undefined
    for (const ask of this.asks) if (ask.peer === peer && ask.ref.index === ref.index && ask.ref.count === ref.count && ask.ref.root.equals(ref.root)) return ask
    return undefined
  }

  private settle(ask: Ask, leaves: Buffer[] | null): void {
    if (!this.asks.delete(ask)) return
    clearTimeout(ask.timer)
    ask.resolve(leaves)
  }
}
