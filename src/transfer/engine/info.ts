import { answerHashRequest, LayerFetcher } from '../hashes.js'
import { blockHashes } from '../merkle.js'
import { type Metainfo, parseInfo } from '../metainfo.js'
import type { HashRef } from '../wire/messages.js'
import { fetchMetadata, verifyMetadata } from '../wire/metadata.js'
import type { Peer } from './peer.js'

/**
 * What a magnet does not bring, asked of peers: the metadata (BEP 9), then for v2 files the
 * piece layers (BEP 52 hash requests, hashes.ts); and our answers to peers' hash requests.
 *
 *   const md = new MetadataFetch({ v1, v2 }, (meta) => start(meta), fail)
 *   md.ask(peers)                       // whenever peers come or go
 *   const layers = LayerRequests.for(meta)   // null when the torrent has every layer
 */
export const INFO_LIMITS = {
  /** Metadata fetches at once, from different peers. */
  metadataFetches: 2
} as const

/** Fetches a magnet's metadata (BEP 9) from peers that announce it, a few at a time. */
export class MetadataFetch {
  private readonly hashes: { v1: Buffer | null; v2: Buffer | null }
  private readonly done: (meta: Metainfo) => void
  private readonly fail: (err: Error) => void
  private readonly from = new Set<Peer>()
  private finished = false

  constructor(hashes: { v1: Buffer | null; v2: Buffer | null }, done: (meta: Metainfo) => void, fail: (err: Error) => void) {
    this.hashes = hashes
    this.done = done
    this.fail = fail
  }

  /** Ask peers that announced the metadata (`metadata_size`), a few at a time. */
  ask(peers: Iterable<Peer>): void {
    if (this.finished) return
    for (const p of peers) {
      if (this.from.size >= INFO_LIMITS.metadataFetches) return
      if (this.from.has(p) || p.metadataSize === null) continue
      this.from.add(p)
      fetchMetadata(p.wire, this.hashes).then(
        (info) => this.got(info),
        () => {
          // It closed, refused or lied (fetchMetadata disconnects a liar): ask someone else.
          p.metadataSize = null
          this.from.delete(p)
        }
      )
    }
  }

  forget(peer: Peer): void {
    this.from.delete(peer)
  }

  stop(): void {
    this.finished = true
    this.from.clear()
  }

  private got(info: Buffer): void {
    if (this.finished || !verifyMetadata(info, this.hashes)) return
    this.finished = true
    this.from.clear()
    let meta: Metainfo
    try {
      meta = parseInfo(info)
    } catch (err) {
      // It hashes to the infohash we were given: every peer would send the same. Nothing to fetch.
      this.fail(err instanceof Error ? err : new Error(String(err)))
      return
    }
    this.done(meta)
  }
}

/** Piece layers asked of v2 peers, one request in flight per peer. */
export class LayerRequests {
  private readonly fetcher: LayerFetcher
  private readonly asks = new Map<Peer, HashRef>()

  private constructor(meta: Metainfo) {
    this.fetcher = new LayerFetcher(meta)
  }

  /** Null when the torrent is v1-only or has every layer it needs. */
  static for(meta: Metainfo): LayerRequests | null {
    if (meta.version === 'v1' || new LayerFetcher(meta).complete) return null
    return new LayerRequests(meta)
  }

  get complete(): boolean {
    return this.fetcher.complete
  }

  ask(peers: Iterable<Peer>): void {
    if (this.fetcher.complete) return
    for (const p of peers) {
      if (!p.wire.v2 || this.asks.has(p) || p.has === null) continue
      const ref = this.fetcher.next((i) => p.holds(i))
      if (!ref) return
      this.asks.set(p, ref)
      p.wire.hashRequest(ref)
    }
  }

  /** Hashes from a peer: 'ok' (proven and kept), 'bad' (they do not prove: the peer lied), or 'ignored'. */
  onHashes(peer: Peer, ref: HashRef, hashes: Buffer): 'ok' | 'bad' | 'ignored' {
    if (this.asks.get(peer)?.root.equals(ref.root) !== true) return 'ignored'
    this.asks.delete(peer)
    return this.fetcher.onHashes(ref, hashes) ? 'ok' : 'bad'
  }

  onReject(peer: Peer, ref: HashRef): void {
    if (this.asks.get(peer)?.root.equals(ref.root) !== true) return
    this.asks.delete(peer)
    this.fetcher.onReject(ref)
  }

  forget(peer: Peer): void {
    const ref = this.asks.get(peer)
    if (!ref) return
    this.asks.delete(peer)
    this.fetcher.release(ref)
  }
}

/** Our answer to a peer's hash request: hashes, or a reject (BEP 52: every request gets one). */
export function answerHashes(meta: Metainfo | null, peer: Peer, ref: HashRef, recent: (piece: number) => Buffer | null): void {
  // Block hashes (below the piece layer) of a piece we served lately, from its bytes in memory.
  const leaves = (piece: number): Buffer[] | null => {
    const data = recent(piece)
    return data ? blockHashes(data) : null
  }
  const answer = meta ? answerHashRequest(meta, ref, leaves) : null
  if (answer) peer.wire.hashes(ref, answer)
  else peer.wire.hashReject(ref)
}
