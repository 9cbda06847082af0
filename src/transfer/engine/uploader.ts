import { Socket } from 'node:net'
import { Bitfield } from '../bitfield.js'
import { Choker, CHOKER_LIMITS } from '../choker.js'
import { MuxStream } from '../mux-stream.js'
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

/** A piece buffer and who holds it: the read, the cache, batches being written. */
interface Slot {
  buf: Buffer
  refs: number
  /** Given to a stream that does not say when it is done with it: never lent again. */
  pinned: boolean
}

interface Cached {
  slot: Slot
  data: Promise<Buffer>
}

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

/** Serves one torrent's peers: whom to unchoke, and their requests answered from the piece store. */
export class Uploader {
  private readonly host: UploaderHost
  private readonly choker = new Choker<Peer>({ slots: CHOKER_LIMITS.slots })
  private readonly peers = new Set<Peer>()
  /** Pieces read for serving, newest last; and those of them already read. */
  private readonly cache = new Map<number, Cached>()
  private readonly ready = new Map<number, Buffer>()
  /**
   * Piece buffers nobody holds, lent again for the next read: a fresh buffer per piece served
   * cost the seeder a full garbage collection every ~18 MiB served.
   */
  private readonly pool: Buffer[] = []
  private poolLength = 0

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
    // A net.Socket and a MuxStream (which copies what it sends into channel messages) call a
    // write's callback once done with its buffer; on other streams a buffer sent is left to the
    // garbage collector, never lent again.
    const tracked = peer.wire.socket instanceof Socket || peer.wire.socket instanceof MuxStream
    try {
      while (peer.queue.length > 0 && peer.wire.writable && !peer.amChoking && this.host.live()) {
        const batch = peer.queue.splice(0, UPLOAD_LIMITS.readsAhead)
        // The pieces of the next batch are read while this one is sent.
        let last = -1
        for (let i = 0; i < peer.queue.length && i < UPLOAD_LIMITS.readsAhead; i++) {
          const piece = peer.queue[i]!.piece
          if (piece !== last) this.entry(piece)
          last = piece
        }
        // Held (not lent again) from now until the socket is done with them.
        const held = new Map<number, Cached>()
        for (const r of batch) {
          if (held.has(r.piece)) continue
          const e = this.entry(r.piece)
          e.slot.refs++
          held.set(r.piece, e)
        }
        const letGo = (): void => {
          for (const e of held.values()) this.release(e.slot)
        }
        let blocks: Buffer[]
        try {
          // One await per piece of the batch, not per block.
          const data = new Map<number, Buffer>()
          for (const [piece, e] of held) data.set(piece, await e.data)
          blocks = batch.map((r) => data.get(r.piece)!.subarray(r.offset, r.offset + r.length))
        } catch (err) {
          letGo()
          if (err instanceof FileChangedError) throw err
          // A file being moved into place, say: refuse these, serve the rest.
          if (peer.wire.remote!.caps.fast) for (const r of batch) peer.wire.reject(r.piece, r.offset, r.length)
          continue
        }
        if (peer.wire.destroyed || peer.amChoking || !this.host.live()) {
          letGo()
          break
        }
        if (!tracked) for (const e of held.values()) e.slot.pinned = true
        // One writev for the whole batch (on hyperswarm: 64 KiB channel messages, not one per block).
        peer.wire.socket.cork()
        for (let i = 0; i < batch.length; i++) {
          const r = batch[i]!
          // Written in order: the last block's callback means the socket is done with them all.
          peer.wire.piece(r.piece, r.offset, blocks[i]!, i === batch.length - 1 ? letGo : undefined)
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
   * of one per block) into a buffer from the pool, and kept for the next few requests of any peer.
   */
  private entry(piece: number): Cached {
    let e = this.cache.get(piece)
    if (e) return e
    const store = this.host.store()!
    const size = store.map.size(piece)
    const wire = store.map.wireSize(piece)
    const length = store.meta.pieceLength
    if (this.poolLength !== length) {
      this.pool.length = 0
      this.poolLength = length
    }
    // Held by the read until it settles, and by the cache until evicted.
    const slot: Slot = { buf: wire <= length ? (this.pool.pop() ?? Buffer.allocUnsafeSlow(length)) : Buffer.allocUnsafeSlow(wire), refs: 2, pinned: false }
    const buf = slot.buf.subarray(0, wire)
    const cached: Cached = {
      slot,
      data: store.read(piece, 0, size, buf.subarray(0, size)).then(() => {
        // Past a file's end (v2) or in a pad (v1), a piece is zeros.
        if (wire > size) buf.fill(0, size)
        if (this.cache.get(piece) === cached) this.ready.set(piece, buf)
        return buf
      })
    }
    e = cached
    e.data.then(
      () => this.release(slot),
      () => {
        this.evict(piece, cached)
        this.release(slot)
      }
    )
    this.cache.set(piece, e)
    const room = this.room(length)
    if (this.cache.size > room) this.evict(this.cache.keys().next().value!)
    return e
  }

  private room(pieceLength: number): number {
    return Math.min(256, Math.max(4, Math.floor(UPLOAD_LIMITS.readCacheBytes / pieceLength)))
  }

  private evict(piece: number, only?: Cached): void {
    const e = this.cache.get(piece)
    if (!e || (only && e !== only)) return
    this.cache.delete(piece)
    this.ready.delete(piece)
    this.release(e.slot)
  }

  /** One holder fewer; a buffer nobody holds goes back to the pool. */
  private release(slot: Slot): void {
    if (--slot.refs > 0 || slot.pinned || slot.buf.length !== this.poolLength) return
    if (this.pool.length < this.room(this.poolLength)) this.pool.push(slot.buf)
  }

  /**
   * The bytes of a piece served lately, if still in memory: a peer that found a piece bad asks
   * for its block hashes (BEP 52 base layer 0) right after, and gets them from here.
   */
  /** What a new peer is told we have: have all, have none (BEP 6) or a bitfield of what we serve. */
  announceHaves(peer: Peer): void {
    const store = this.host.store()
    const fast = peer.wire.remote!.caps.fast
    if (!store || store.have.count === 0) {
      if (fast) peer.wire.haveNone()
      return
    }
    let all = true
    const bits = new Bitfield(store.have.size)
    for (let i = 0; i < store.have.size; i++) {
      if (store.servable(i)) bits.set(i)
      else all = false
    }
    if (all && fast) peer.wire.haveAll()
    else if (bits.count > 0) peer.wire.bitfield(bits.bytes)
    else if (fast) peer.wire.haveNone()
  }

  recent(piece: number): Buffer | null {
    return this.ready.get(piece) ?? null
  }

  clear(): void {
    this.peers.clear()
    this.cache.clear()
    this.ready.clear()
    this.pool.length = 0
  }
}
