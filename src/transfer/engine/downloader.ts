import { hashPool, sharedBuffer } from '../hash-pool.js'
import { BLOCK, blockHashes } from '../merkle.js'
import { PiecePicker } from '../picker.js'
import type { Bitfield } from '../bitfield.js'
import type { PieceStore } from '../storage.js'
import { WireError } from '../wire/errors.js'
import { Peer } from './peer.js'

/**
 * The download side of one torrent: which blocks to ask of whom (picker.ts), assembling pieces,
 * checking each (v1 SHA-1, v2 merkle, both for hybrids; pieces.ts, in a worker thread through
 * hash-pool.ts) before it is written, and
 * blaming the senders of a piece that fails. Peers and other block sources (web seeds) are
 * treated alike here; the torrent (torrent.ts) owns the connections.
 *
 *   const down = new Downloader(store, host)
 *   down.fill(peer)                              // requests up to the peer's pipeline
 *   down.onBlock(peer, piece, offset, block)     // checked and written once the piece is whole
 */
export const DOWNLOAD_LIMITS = {
  /** Our requests in flight to one peer (16 KiB each), at most its `reqq`. */
  maxInflight: 500,
  /** Requests sent together once that much room is free in a peer's pipeline. */
  requestBatch: 32,
  /** Pieces being assembled, checked or written at once, in memory (bounds memory: × piece length). */
  maxPartials: 64,
  /** Failed pieces one peer may send when it shared them with others; alone, one bans it. */
  strikes: 3
} as const

/** A source of blocks besides peers (a web seed): asked for blocks like a peer. */
export interface BlockSource {
  readonly id: string
  /** Look for work (called when pieces may be free to take). */
  pump(): void
  /** A piece it sent failed its check. */
  bad(): void
}

export type Holder = Peer | BlockSource

export interface DownloaderHost {
  peers(): Iterable<Peer>
  /** A piece may not be asked for yet (a v2 piece whose layer is not known). */
  blocked(piece: number): boolean
  ban(peer: Peer, reason: string): void
  /** A piece was checked and written; `files` completed with it. */
  written(piece: number, files: number[]): void
  /** Writing failed (disk full, permissions). */
  failed(err: Error): void
  /** A v2 piece's block hashes, proven, asked of a peer; null when none can be asked. */
  blockHashes?(piece: number): Promise<Buffer[] | null> | null
  live(): boolean
  now?: () => number
}

/** Downloads one torrent: picks blocks, assembles and checks pieces, blames the senders of bad ones. */
export class Downloader {
  readonly store: PieceStore
  readonly picker: PiecePicker<Holder>
  private readonly host: DownloaderHost
  private readonly wanted: Bitfield
  /** Pieces being assembled: their bytes so far. */
  private readonly buffers = new Map<number, Buffer>()
  /** Piece buffers free for reuse. */
  private readonly pool: Buffer[] = []
  /** Whole pieces being checked or written: not asked for meanwhile. */
  private readonly settling = new Set<number>()
  /** Of those, the pieces checked and being written (the picker is done with them). */
  private writing = 0
  /** A source went without new pieces because maxPartials pieces were in memory. */
  private starved = false
  private sendersAt = -Infinity
  private sendersCount = 1
  private readonly sources = new Set<BlockSource>()
  /** Bytes received (checked or not), in all and per kind of source. */
  downloaded = 0
  readonly received = { peers: 0, webSeeds: 0 }
  /** When data first arrived (this run), and when the selection was complete. */
  firstDataAt: number | null = null
  doneAt: number | null = null

  constructor(store: PieceStore, host: DownloaderHost) {
    this.store = store
    this.host = host
    // The piece checks' workers boot while the first pieces arrive, not after.
    hashPool().warm()
    const wanted = (this.wanted = store.wanted())
    const map = store.map
    this.picker = new PiecePicker<Holder>({
      pieceCount: map.pieceCount,
      pieceSize: (i) => map.size(i),
      wanted: { get: (i) => wanted.get(i) && !this.settling.has(i) && !host.blocked(i) },
      have: store.have,
      ...(host.now ? { now: host.now } : {})
    })
  }

  get done(): boolean {
    return this.doneAt !== null
  }

  /** Does this peer have a piece we still want? */
  interesting(peer: Peer): boolean {
    return !this.done && peer.has !== null && this.picker.interesting(peer.has)
  }

  /** Would one more `have` of this piece make the peer interesting? */
  wants(piece: number): boolean {
    return !this.done && this.wanted.get(piece) && !this.store.have.get(piece)
  }

  /** Count a peer's pieces in the availability (once it has a bitfield). */
  count(peer: Peer): void {
    if (peer.counted || !peer.has) return
    peer.counted = true
    this.picker.addPeer(peer.has)
  }

  peerHas(peer: Peer, piece: number): void {
    if (peer.counted) this.picker.peerHas(piece)
  }

  removePeer(peer: Peer): void {
    if (peer.counted && peer.has) this.picker.removePeer(peer.has)
    this.picker.removeRequests(peer)
  }

  /** Everything asked of a peer is off (choked without the fast extension). */
  releaseAll(peer: Peer): void {
    this.picker.removeRequests(peer)
    peer.inflight = 0
  }

  /** A peer refused a request (BEP 6 reject). */
  rejected(peer: Peer, piece: number, offset: number): void {
    if (this.picker.sender(piece, offset) !== undefined) return
    this.picker.released(peer, piece, offset)
    peer.inflight = Math.max(0, peer.inflight - 1)
    this.fill(peer)
  }

  fillAll(): void {
    for (const p of this.host.peers()) this.fill(p)
    for (const s of this.sources) s.pump()
  }

  /** Keep a peer's pipeline full. */
  fill(peer: Peer): void {
    if (this.done || !this.host.live() || peer.peerChoking || !peer.amInterested || peer.has === null) return
    const room = peer.maxInflight - peer.inflight
    // Requests go out in batches (one write for many), once a batch's worth of room is free.
    if (room <= 0 || (room < Math.min(DOWNLOAD_LIMITS.requestBatch, peer.maxInflight) && peer.inflight > 0)) return
    const blocks = this.picker.next(peer, peer.has, room, this.startable(peer))
    if (blocks.length === 0) return
    peer.wire.socket.cork()
    for (const b of blocks) {
      peer.inflight++
      peer.wire.request(b.piece, b.offset, b.length)
    }
    peer.wire.socket.uncork()
  }

  /** A source of blocks besides peers (a web seed), asked for work whenever there may be some. */
  addSource(source: BlockSource): void {
    this.sources.add(source)
    source.pump()
  }

  removeSource(source: BlockSource): void {
    this.sources.delete(source)
    this.picker.removeRequests(source)
  }

  /** Blocks for a source: whole pieces' worth, as the picker hands them out. */
  nextBlocks(source: BlockSource, max: number): Array<{ piece: number; offset: number; length: number }> {
    if (this.done || !this.host.live()) return []
    return this.picker.next(source, 'all', max, this.startable(source))
  }

  /**
   * New pieces `holder` may start: pieces in memory (started, being checked, being written) stay
   * within maxPartials, and each source owns at most its share of them, so one deep pipeline does
   * not take every slot from the others. Out of room, a piece leaving memory asks everyone again.
   */
  private startable(holder: Holder): number {
    const free = DOWNLOAD_LIMITS.maxPartials - this.picker.active - this.writing
    const share = Math.max(2, Math.ceil(DOWNLOAD_LIMITS.maxPartials / this.senders())) - this.picker.owned(holder)
    const n = Math.min(free, share)
    if (n > 0) return n
    this.starved = true
    return 0
  }

  /** Peers that let us ask (unchoked, interested) and other sources; counted at most every 100 ms. */
  private senders(): number {
    const now = (this.host.now ?? Date.now)()
    if (now - this.sendersAt >= 100) {
      this.sendersAt = now
      let n = this.sources.size
      for (const p of this.host.peers()) if (!p.peerChoking && p.amInterested) n++
      this.sendersCount = Math.max(1, n)
    }
    return this.sendersCount
  }

  /** A block arrived (protocol.md §13.3: unasked data is dropped, not an error). */
  onBlock(from: Holder, piece: number, offset: number, block: Buffer): void {
    const isPeer = from instanceof Peer
    if (isPeer) {
      from.downloaded += block.length
      from.inflight = Math.max(0, from.inflight - 1)
      from.rejected = 0
      this.received.peers += block.length
    } else {
      this.received.webSeeds += block.length
    }
    this.downloaded += block.length
    this.firstDataAt ??= Date.now()
    const { accepted, cancel, complete } = this.picker.received(from, piece, offset)
    if (accepted) {
      const size = this.store.map.size(piece)
      if (offset + block.length > size) throw new WireError('BAD_MESSAGE', `a block past the end of piece ${piece}`)
      let buf = this.buffers.get(piece)
      if (!buf) this.buffers.set(piece, (buf = this.pieceBuffer(size)))
      block.copy(buf, offset)
      for (const other of cancel) {
        if (!(other instanceof Peer)) continue
        other.inflight = Math.max(0, other.inflight - 1)
        other.wire.cancel(piece, offset, block.length)
      }
      if (complete) this.complete(piece)
    }
    if (isPeer) this.fill(from)
  }

  /** Requests unanswered too long, taken back (and cancelled). */
  expire(): void {
    for (const e of this.picker.expire()) {
      if (!(e.peer instanceof Peer)) continue
      e.peer.inflight = Math.max(0, e.peer.inflight - 1)
      e.peer.wire.cancel(e.piece, e.offset, e.length)
    }
  }

  /**
   * A buffer for a piece being assembled, in shared memory (checked in a worker without a copy),
   * reused once written (fewer collections, no fresh pages).
   */
  private pieceBuffer(size: number): Buffer {
    const full = this.store.meta.pieceLength
    if (size !== full) return sharedBuffer(size)
    return this.pool.pop() ?? sharedBuffer(full)
  }

  private recycle(buf: Buffer): void {
    if (buf.length === this.store.meta.pieceLength && this.pool.length < DOWNLOAD_LIMITS.maxPartials) this.pool.push(buf)
  }

  private complete(piece: number): void {
    const data = this.buffers.get(piece)!
    this.buffers.delete(piece)
    const map = this.store.map
    this.settling.add(piece)
    void hashPool()
      .digests(data, map.hashJob(piece, data.length))
      .then((digests) => {
        if (!this.host.live()) return
        if (map.verdict(piece, digests) === 'ok') this.write(piece, data)
        else this.failed(piece, data)
      })
  }

  /**
   * A piece failed its check. Its sender is banned; when several peers sent its blocks, a v2
   * piece's block hashes (asked of a peer, proven) name the sender of each bad block, else each
   * sender gets a strike and is banned at the third.
   */
  private failed(piece: number, data: Buffer): void {
    this.settling.delete(piece)
    const bySender = Array.from({ length: Math.ceil(data.length / BLOCK) }, (_, b) => this.picker.sender(piece, b * BLOCK))
    const senders = this.picker.failed(piece)
    const theirs = senders.length > 1 ? (this.host.blockHashes?.(piece) ?? null) : null
    if (theirs) {
      const ours = blockHashes(data) // before the buffer is lent again
      void theirs.then((leaves) => {
        if (!this.host.live()) return
        const culprits = new Set(leaves ? bySender.filter((s, b): s is Holder => s !== undefined && leaves[b] !== undefined && !leaves[b].equals(ours[b]!)) : [])
        if (culprits.size === 0) this.strike(piece, senders)
        for (const s of culprits) this.bad(s, `a block of piece ${piece} from it failed its hash`)
      })
    } else {
      this.strike(piece, senders)
    }
    this.recycle(data)
    this.fillAll()
  }

  private strike(piece: number, senders: Holder[]): void {
    for (const s of senders) {
      if (s instanceof Peer && (senders.length === 1 || ++s.strikes >= DOWNLOAD_LIMITS.strikes)) this.bad(s, `piece ${piece} from it failed its hash check`)
      else if (!(s instanceof Peer)) s.bad()
    }
  }

  private bad(s: Holder, reason: string): void {
    if (s instanceof Peer) this.host.ban(s, reason)
    else s.bad()
  }

  private write(piece: number, data: Buffer): void {
    this.picker.verified(piece)
    this.writing++
    this.store.write(piece, data).then(
      (files) => {
        this.writing--
        this.settling.delete(piece)
        this.recycle(data)
        if (!this.host.live()) return
        if (this.store.complete()) this.doneAt ??= Date.now()
        this.host.written(piece, files)
        // Room for one more piece in memory.
        if (this.starved) {
          this.starved = false
          this.fillAll()
        }
      },
      (err: unknown) => {
        this.writing--
        this.settling.delete(piece)
        if (this.host.live()) this.host.failed(err instanceof Error ? err : new Error(String(err)))
      }
    )
  }

  stop(): void {
    this.buffers.clear()
    this.pool.length = 0
    for (const s of this.sources) this.picker.removeRequests(s)
    this.sources.clear()
  }
}
