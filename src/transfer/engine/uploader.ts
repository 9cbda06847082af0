import { Choker, CHOKER_LIMITS } from '../choker.js'
import { FileChangedError, type PieceStore } from '../storage.js'
import { WireError } from '../wire/errors.js'
import type { Peer } from './peer.js'

/**
 * The upload side of one torrent: whom we unchoke (choker.ts), the requests each peer queues with
 * us, and answering them from the piece store, a whole piece read once for all its blocks. A
 * peer that keeps asking for what it cannot have is dropped (protocol.md §13).
 *
 *   const up = new Uploader({ store: () => store, seeding: () => true, live: () => true, sent, failed })
 *   up.add(peer); up.interested(peer, true)      // unchoked when a slot is free
 *   up.request(peer, 0, 0, 16384)                // queued, read, sent
 */
export const UPLOAD_LIMITS = {
  /** Requests a peer may queue with us (our `reqq`); more are rejected. */
  servedQueue: 500,
  /**
   * Requests we may refuse (queue full, choked, piece missing) since we last unchoked that peer
   * or sent it data; one more and it is dropped. An honest peer keeps at most our `reqq`
   * outstanding, so a choke costs it at most that many rejects.
   */
  floodRejects: 1000,
  /** Requests of one peer answered in one go. */
  readsAhead: 32,
  /** Bytes of whole pieces kept in memory for serving (at least 4 pieces, at most 256). */
  readCacheBytes: 16 * 1024 * 1024
} as const

export interface UploaderHost {
  store(): PieceStore | null
  /** Seeding: choke by what peers take from us, not what they give. */
  seeding(): boolean
  /** False once the torrent stopped. */
  live(): boolean
  /** Bytes sent (counted by the torrent). */
  sent(bytes: number): void
  /** Reading failed: a seeded file changed (FileChangedError) or the disk failed. */
  failed(err: Error): void
}

export class Uploader {
  private readonly host: UploaderHost
  private readonly choker = new Choker<Peer>({ slots: CHOKER_LIMITS.slots })
  private readonly peers = new Set<Peer>()
  /** Pieces read for serving, newest last; and those of them already read. */
  private readonly cache = new Map<number, Promise<Buffer>>()
  private readonly ready = new Map<number, Buffer>()

  constructor(host: UploaderHost) {
    this.host = host
  }

  add(peer: Peer): void {
    this.peers.add(peer)
    this.choker.add(peer)
  }

  remove(peer: Peer): void {
    this.peers.delete(peer)
    this.choker.remove(peer)
    if (!peer.amChoking) this.rechoke()
  }

  interested(peer: Peer, value: boolean): void {
    this.choker.interested(peer, value)
    if (value && !this.full()) this.rechoke()
  }

  private full(): boolean {
    let n = 0
    for (const p of this.peers) if (!p.amChoking) n++
    return n >= CHOKER_LIMITS.slots
  }

  /** Choose the unchoked set again (every rechoke period, and when a slot frees up). */
  rechoke(): void {
    if (!this.host.store() || !this.host.live()) return
    const seeding = this.host.seeding()
    const { unchoke, choke } = this.choker.rechoke({ seeding, rateOf: (p) => (seeding ? p.upRate : p.downRate) })
    for (const p of choke) {
      if (p.amChoking || p.wire.destroyed) continue
      p.amChoking = true
      p.queue.length = 0
      p.wire.choke()
    }
    for (const p of unchoke) {
      if (!p.amChoking || p.wire.destroyed) continue
      p.amChoking = false
      p.rejected = 0
      p.wire.unchoke()
    }
  }

  /** A peer's request: queued, or refused (and counted: a flood drops the peer). */
  request(peer: Peer, piece: number, offset: number, length: number): void {
    const store = this.host.store()
    if (store && (piece >= store.map.pieceCount || length === 0 || offset + length > store.map.wireSize(piece))) {
      throw new WireError('BAD_MESSAGE', `a request past the end of piece ${piece}`)
    }
    if (!store || peer.amChoking || !store.servable(piece) || peer.queue.length >= UPLOAD_LIMITS.servedQueue) {
      if (++peer.rejected > UPLOAD_LIMITS.floodRejects) {
        peer.wire.destroy(new WireError('FLOOD', `more than ${UPLOAD_LIMITS.floodRejects} requests it could not have meant`))
        return
      }
      if (peer.wire.remote!.caps.fast) peer.wire.reject(piece, offset, length)
      return
    }
    peer.queue.push({ piece, offset, length })
    this.serve(peer)
  }

  /** Answer queued requests, pausing while the connection is full (until its 'drain'). */
  serve(peer: Peer): void {
    if (!peer.serving) void this.run(peer)
  }

  private async run(peer: Peer): Promise<void> {
    peer.serving = true
    try {
      while (peer.queue.length > 0 && peer.wire.writable && !peer.amChoking && this.host.live()) {
        const batch = peer.queue.splice(0, UPLOAD_LIMITS.readsAhead)
        // The pieces of the next batch are read while this one is sent.
        let last = -1
        for (let i = 0; i < peer.queue.length && i < UPLOAD_LIMITS.readsAhead; i++) {
          const piece = peer.queue[i]!.piece
          if (piece !== last && !this.cache.has(piece)) this.readPiece(piece).catch(() => {})
          last = piece
        }
        let blocks: Buffer[]
        try {
          // One await per piece of the batch, not per block.
          const pieces = new Map<number, Buffer>()
          for (const r of batch) if (!pieces.has(r.piece)) pieces.set(r.piece, await this.readPiece(r.piece))
          blocks = batch.map((r) => pieces.get(r.piece)!.subarray(r.offset, r.offset + r.length))
        } catch (err) {
          if (err instanceof FileChangedError) throw err
          // A file being moved into place, say: refuse these, serve the rest.
          if (peer.wire.remote!.caps.fast) for (const r of batch) peer.wire.reject(r.piece, r.offset, r.length)
          continue
        }
        if (peer.wire.destroyed || peer.amChoking || !this.host.live()) break
        // One writev for the whole batch (on hyperswarm: 64 KiB channel messages, not one per block).
        peer.wire.socket.cork()
        for (let i = 0; i < batch.length; i++) {
          const r = batch[i]!
          peer.wire.piece(r.piece, r.offset, blocks[i]!)
          peer.uploaded += r.length
          this.host.sent(r.length)
        }
        peer.wire.socket.uncork()
        peer.rejected = 0
      }
    } catch (err) {
      this.host.failed(err instanceof Error ? err : new Error(String(err)))
    } finally {
      peer.serving = false
    }
  }

  /**
   * A whole piece, read once for all its blocks (a request is 16 KiB; one read per piece instead
   * of one per block), kept for the next few requests of any peer.
   */
  private readPiece(piece: number): Promise<Buffer> {
    let p = this.cache.get(piece)
    if (p) return p
    const store = this.host.store()!
    const size = store.map.size(piece)
    const wire = store.map.wireSize(piece)
    // Past a file's end (v2) or in a pad (v1), a piece is zeros.
    p = store.read(piece, 0, size).then((data) => {
      if (this.cache.has(piece)) this.ready.set(piece, data)
      return wire > size ? Buffer.concat([data, Buffer.alloc(wire - size)]) : data
    })
    this.cache.set(piece, p)
    p.catch(() => this.cache.delete(piece))
    const room = Math.min(256, Math.max(4, Math.floor(UPLOAD_LIMITS.readCacheBytes / store.meta.pieceLength)))
    if (this.cache.size > room) {
      const oldest = this.cache.keys().next().value!
      this.cache.delete(oldest)
      this.ready.delete(oldest)
    }
    return p
  }

  /**
   * The bytes of a piece served lately, if still in memory: a peer that found a piece bad asks
   * for its block hashes (BEP 52 base layer 0) right after, and gets them from here.
   */
  recent(piece: number): Buffer | null {
    return this.ready.get(piece) ?? null
  }

  clear(): void {
    this.peers.clear()
    this.cache.clear()
    this.ready.clear()
  }
}
