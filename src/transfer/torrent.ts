import { EventEmitter } from 'node:events'
import type Protomux from 'protomux'
import type { Channel } from 'protomux'
import c from 'compact-encoding'
import { DecodeError } from '../feeds/wire.js'
import { pieceRoot } from './merkle.js'
import { type Metainfo, LIMITS as META_LIMITS, expectedHash, parseTorrent, pieceSize, torrentBytes } from './metainfo.js'
import {
  type ChunkRef,
  MAX_CHUNK,
  Msg,
  TORRENT_PROTOCOL,
  decodeBitfield,
  decodeChunk,
  decodeData,
  decodeEmpty,
  decodeHello,
  decodeMetadata,
  decodeUint,
  encodeBitfield,
  encodeChunk,
  encodeData,
  encodeEmpty,
  encodeHello,
  encodeMetadata,
  encodeUint
} from './messages.js'
import { Bitfield, FileChangedError, type PieceStore } from './storage.js'

/**
 * One torrent on the wire: its channel on every connection that has it, what each peer has,
 * choking, serving requests from the piece store, and — while downloading — picking pieces
 * (rarest first, pipelined, endgame), verifying each against the merkle tree before it is kept,
 * and banning peers whose data fails. Rules and numbers: protocol.md §13.
 *
 *   const t = new Torrent(infohash, { meta, store })
 *   t.attach(publicKey, mux)          // for every connection
 */
export const LIMITS = {
  /** Peers we upload to at once; others wait, choked. */
  uploadSlots: 8,
  /** Requests a peer may queue with us; more are rejected. */
  servedQueue: 64,
  /**
   * Requests we may reject (queue full, choked, piece missing) since we last unchoked that peer
   * or sent it data; one more and it is banned. An honest peer keeps at most `pipelineRequests`
   * (= `servedQueue`) outstanding, so a choke costs it at most that many rejects; a peer that
   * asks without reading would otherwise fill our send buffer with rejects (issue: 300,000
   * requests, +55 MB, no ban).
   */
  floodRejects: 128,
  /** Reads in flight for one peer's requests. */
  readsAhead: 4,
  /** Bytes we keep requested from one peer (less near the end, so every peer gets a share). */
  pipelineBytes: 4 * 1024 * 1024,
  pipelineRequests: 64,
  /** Bytes asked for in one request (at most MAX_CHUNK). */
  requestBytes: MAX_CHUNK,
  /** In endgame, a piece in flight this long may also be asked of another peer. */
  endgameAfterMs: 1000,
  /** A request unanswered this long is given to someone else. */
  requestTimeoutMs: 20_000
} as const

export interface TorrentPeerInfo {
  id: string
  pieces: number
  downloaded: number
  uploaded: number
}

export interface TorrentEvents {
  /** The metadata arrived from a peer (verified against the infohash). */
  metadata: [Metainfo]
  piece: [number]
  /** A file of the selection is complete, verified and at its final path. */
  file: [number]
  /** Every selected file is complete and verified. */
  done: []
  /** A peer sent data that failed verification, or metadata that does not match: banned. */
  ban: [Buffer, string]
  /** A seeded file changed on disk: this torrent stopped serving. */
  changed: [FileChangedError]
  /** Writing failed (disk full, permissions): the download stopped. */
  error: [Error]
  peers: [number]
}

interface Peer {
  key: string
  publicKey: Buffer
  channel: Channel
  opened: boolean
  /** What the peer has; its raw bits are kept until we know the piece count. */
  bits: Bitfield | null
  rawBits: Buffer
  hasMetadata: boolean
  /** We choke them (do not serve) / they choke us. */
  choking: boolean
  choked: boolean
  interested: boolean
  interesting: boolean
  /** Our requests to them: "piece:offset" → request. */
  requests: Map<string, { ref: ChunkRef; at: number }>
  requestedBytes: number
  /** Their requests to us. */
  queue: ChunkRef[]
  /** Requests of theirs rejected since we last unchoked them or sent them data. */
  rejected: number
  serving: boolean
  downloaded: number
  uploaded: number
  askedMetadata: boolean
  /** When we asked it for the metadata (0: not asked). */
  askedAt: number
  metadataSent: boolean
  lastDataAt: number
}

/** A piece being assembled from one peer. */
interface Job {
  piece: number
  size: number
  startedAt: number
  /** peer key → buffer and chunks still missing. */
  parts: Map<string, { buf: Buffer; missing: number }>
}

export class Torrent extends EventEmitter<TorrentEvents> {
  readonly infohash: Buffer
  meta: Metainfo | null
  store: PieceStore | null
  /** Pieces we want (the selection) and do not have; null while only seeding. */
  private wanted: Bitfield | null = null
  private readonly peers = new Map<string, Peer>()
  private readonly banned = new Set<string>()
  private readonly jobs = new Map<number, Job>()
  /** Verified pieces being written: neither wanted again nor had yet. */
  private readonly writing = new Set<number>()
  private availability: Uint16Array = new Uint16Array(0)
  private unchoked = 0
  private stopped = false
  private timer: NodeJS.Timeout | null = null
  private encodedMeta: Buffer | null = null
  downloaded = 0
  uploaded = 0

  constructor(infohash: Buffer, opts: { meta?: Metainfo | null; store?: PieceStore | null } = {}) {
    super()
    this.infohash = infohash
    this.meta = opts.meta ?? null
    this.store = opts.store ?? null
    if (this.meta) this.availability = new Uint16Array(this.meta.pieceCount)
    this.timer = setInterval(() => this.sweep(), 5000)
    this.timer.unref()
  }

  /** Start downloading the store's selection (the store must be open). */
  download(): void {
    const store = this.store!
    this.wanted = store.wanted()
    for (const p of this.peers.values()) this.updateInterest(p)
    this.fill()
  }

  /** Metadata and store known after a start without them (fetch by infohash). */
  setStore(meta: Metainfo, store: PieceStore): void {
    this.meta = meta
    this.store = store
    this.availability = new Uint16Array(meta.pieceCount)
    for (const p of this.peers.values()) {
      p.bits = new Bitfield(meta.pieceCount, p.rawBits)
      for (let i = 0; i < meta.pieceCount; i++) if (p.bits.get(i)) this.availability[i]!++
      if (p.opened) p.channel.messages[Msg.bitfield]!.send(encodeBitfield(store.have.bytes))
    }
  }

  get peerCount(): number {
    let n = 0
    for (const p of this.peers.values()) if (p.opened) n++
    return n
  }

  peerList(): TorrentPeerInfo[] {
    return [...this.peers.values()].filter((p) => p.opened).map((p) => ({ id: p.key, pieces: p.bits?.count ?? 0, downloaded: p.downloaded, uploaded: p.uploaded }))
  }

  isBanned(publicKey: Buffer): boolean {
    return this.banned.has(publicKey.toString('hex'))
  }

  /** Open this torrent's channel on a connection (idempotent per connection). */
  attach(publicKey: Buffer, mux: Protomux): void {
    if (this.stopped) return
    const key = publicKey.toString('hex')
    if (this.banned.has(key)) return
    if (mux.opened({ protocol: TORRENT_PROTOCOL, id: this.infohash })) return
    let peer: Peer | null = null
    // Messages protomux delivers after the channel closed (held during pairing) are dropped.
    const live = (p: Peer | null): p is Peer => p !== null && !p.channel.closed && this.peers.get(p.key) === p
    const on = (fn: (p: Peer, m: Uint8Array) => void) => (m: Uint8Array) => {
      if (live(peer)) this.guard(peer, () => fn(peer!, m))
    }
    const channel = mux.createChannel({
      protocol: TORRENT_PROTOCOL,
      id: this.infohash,
      handshake: c.raw,
      messages: [
        { encoding: c.raw, onmessage: on((p, m) => this.onHave(p, decodeUint(m, 2 ** 32))) },
        { encoding: c.raw, onmessage: on((p, m) => this.onBitfield(p, decodeBitfield(m))) },
        { encoding: c.raw, onmessage: on((p, m) => this.onInterested(p, decodeUint(m, 1) === 1)) },
        { encoding: c.raw, onmessage: on((p, m) => this.onChoke(p, decodeUint(m, 1) === 1)) },
        { encoding: c.raw, onmessage: on((p, m) => this.onRequest(p, decodeChunk(m))) },
        { encoding: c.raw, onmessage: on((p, m) => this.onData(p, decodeData(m))) },
        { encoding: c.raw, onmessage: on((p, m) => this.onReject(p, decodeChunk(m))) },
        { encoding: c.raw, onmessage: on((p, m) => this.onCancel(p, decodeChunk(m))) },
        { encoding: c.raw, onmessage: on((p, m) => (decodeEmpty(m), this.onMetadataRequest(p))) },
        { encoding: c.raw, onmessage: on((p, m) => this.onMetadata(p, decodeMetadata(m))) }
      ],
      onopen: (handshake) => {
        if (live(peer)) this.guard(peer, () => this.onOpen(peer!, handshake))
      },
      onclose: () => {
        if (peer) this.onClose(peer)
      },
      ondrain: () => {
        if (peer) void this.serve(peer)
      }
    })
    if (channel === null) return
    peer = {
      key,
      publicKey,
      channel,
      opened: false,
      bits: null,
      rawBits: Buffer.alloc(0),
      hasMetadata: false,
      choking: true,
      choked: true,
      interested: false,
      interesting: false,
      requests: new Map(),
      requestedBytes: 0,
      queue: [],
      rejected: 0,
      serving: false,
      downloaded: 0,
      uploaded: 0,
      askedMetadata: false,
      askedAt: 0,
      metadataSent: false,
      lastDataAt: Date.now()
    }
    // A newer connection to the same peer replaces the older one and takes over its work.
    const old = this.peers.get(key)
    if (old) {
      this.onClose(old)
      old.channel.close()
    }
    this.peers.set(key, peer)
    channel.open(encodeHello({ hasMetadata: this.meta !== null, bitfield: this.store ? this.store.have.bytes : Buffer.alloc(0) }))
  }

  /** Stop: close every channel, keep nothing running. */
  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    for (const p of [...this.peers.values()]) p.channel.close()
    this.peers.clear()
    this.jobs.clear()
  }

  private onOpen(peer: Peer, handshake: Uint8Array): void {
    const hello = decodeHello(handshake)
    peer.opened = true
    peer.hasMetadata = hello.hasMetadata
    peer.rawBits = hello.bitfield
    if (this.meta) {
      peer.bits = new Bitfield(this.meta.pieceCount, hello.bitfield)
      for (let i = 0; i < this.meta.pieceCount; i++) if (peer.bits.get(i)) this.availability[i]!++
    }
    this.emit('peers', this.peerCount)
    if (!this.meta) this.askMetadata()
    this.updateInterest(peer)
  }

  private onClose(peer: Peer): void {
    if (this.peers.get(peer.key) !== peer) return
    this.peers.delete(peer.key)
    const wasOpen = peer.opened
    peer.opened = false
    if (peer.bits) for (let i = 0; i < peer.bits.size; i++) if (peer.bits.get(i)) this.availability[i]!--
    if (!peer.choking) this.unchoked--
    this.dropRequests(peer)
    if (wasOpen) this.emit('peers', this.peerCount)
    this.unchokeWaiting()
    if (peer.askedMetadata && !this.meta) this.askMetadata()
    this.fill()
  }

  private onHave(peer: Peer, piece: number): void {
    if (!this.meta) {
      // Kept until the metadata tells how many pieces there are.
      if (piece >= META_LIMITS.pieces) throw new DecodeError(`have of piece ${piece} past any torrent`)
      const bits = Buffer.alloc(Math.max(peer.rawBits.length, (piece >> 3) + 1))
      peer.rawBits.copy(bits)
      bits[piece >> 3]! |= 0x80 >> (piece & 7)
      peer.rawBits = bits
      peer.hasMetadata = true
      this.askMetadata()
      return
    }
    if (piece >= this.meta.pieceCount) throw new DecodeError(`have of piece ${piece} past the end`)
    if (peer.bits!.set(piece)) this.availability[piece]!++
    if (!peer.interesting && this.wanted?.get(piece) && !this.store!.have.get(piece)) this.updateInterest(peer)
    this.fill(peer)
  }

  private onBitfield(peer: Peer, bits: Buffer): void {
    if (!this.meta) {
      // Someone with a bitfield has the metadata now.
      peer.rawBits = bits
      peer.hasMetadata = true
      this.askMetadata()
      return
    }
    if (peer.bits) for (let i = 0; i < peer.bits.size; i++) if (peer.bits.get(i)) this.availability[i]!--
    peer.bits = new Bitfield(this.meta.pieceCount, bits)
    for (let i = 0; i < this.meta.pieceCount; i++) if (peer.bits.get(i)) this.availability[i]!++
    this.updateInterest(peer)
    this.fill(peer)
  }

  private onInterested(peer: Peer, interested: boolean): void {
    peer.interested = interested
    if (interested) this.unchokeWaiting()
    else if (!peer.choking) {
      this.setChoking(peer, true)
      this.unchokeWaiting()
    }
  }

  private onChoke(peer: Peer, choked: boolean): void {
    peer.choked = choked
    if (choked) this.dropRequests(peer)
    this.fill()
  }

  // --- serving ---------------------------------------------------------------------------

  private unchokeWaiting(): void {
    for (const p of this.peers.values()) {
      if (this.unchoked >= LIMITS.uploadSlots) return
      if (p.opened && p.interested && p.choking && this.store) this.setChoking(p, false)
    }
  }

  private setChoking(peer: Peer, choking: boolean): void {
    if (peer.choking === choking) return
    peer.choking = choking
    this.unchoked += choking ? -1 : 1
    if (choking) peer.queue.length = 0
    else peer.rejected = 0
    peer.channel.messages[Msg.choke]!.send(encodeUint(choking ? 1 : 0))
  }

  private onRequest(peer: Peer, ref: ChunkRef): void {
    const store = this.store
    const valid = this.meta !== null && ref.piece < this.meta.pieceCount && ref.offset + ref.length <= pieceSize(this.meta, ref.piece)
    if (!valid) throw new DecodeError(`request past the end of piece ${ref.piece}`)
    if (peer.choking || !store || !store.have.get(ref.piece) || peer.queue.length >= LIMITS.servedQueue) {
      if (++peer.rejected > LIMITS.floodRejects) throw new DecodeError(`a request flood (more than ${LIMITS.floodRejects} requests it could not have meant)`)
      peer.channel.messages[Msg.reject]!.send(encodeChunk(ref))
      return
    }
    peer.queue.push(ref)
    void this.serve(peer)
  }

  private onCancel(peer: Peer, ref: ChunkRef): void {
    const i = peer.queue.findIndex((q) => q.piece === ref.piece && q.offset === ref.offset)
    if (i !== -1) peer.queue.splice(i, 1)
  }

  /** Answer queued requests one read at a time, pausing while the connection is full. */
  private async serve(peer: Peer): Promise<void> {
    if (peer.serving) return
    peer.serving = true
    try {
      while (peer.queue.length > 0 && peer.channel.drained && !peer.channel.closed && !this.stopped) {
        // A few reads at once: disk latency overlaps, and the answers go out in request order.
        const batch = peer.queue.splice(0, LIMITS.readsAhead)
        let datas: Buffer[]
        try {
          datas = await Promise.all(batch.map((ref) => this.store!.read(ref.piece, ref.offset, ref.length)))
        } catch (err) {
          if (err instanceof FileChangedError) throw err
          // A file being renamed into place, say: refuse these, serve the rest.
          for (const ref of batch) if (!peer.channel.closed) peer.channel.messages[Msg.reject]!.send(encodeChunk(ref))
          continue
        }
        if (peer.channel.closed || peer.choking || this.stopped) break
        batch.forEach((ref, i) => {
          const data = datas[i]!
          peer.channel.messages[Msg.data]!.send(encodeData(ref.piece, ref.offset, data))
          peer.rejected = 0
          peer.uploaded += data.length
          this.uploaded += data.length
        })
      }
    } catch (err) {
      if (!this.stopped) {
        if (err instanceof FileChangedError) this.emit('changed', err)
        else this.emit('error', err instanceof Error ? err : new Error(String(err)))
        this.stop()
      }
    } finally {
      peer.serving = false
    }
  }

  // --- metadata --------------------------------------------------------------------------

  private onMetadataRequest(peer: Peer): void {
    if (peer.metadataSent) throw new DecodeError('a second metadata request')
    peer.metadataSent = true
    if (this.meta && !this.encodedMeta) this.encodedMeta = encodeMetadata(torrentBytes(this.meta))
    peer.channel.messages[Msg.metadata]!.send(this.encodedMeta ?? encodeMetadata(null))
  }

  private askMetadata(): void {
    if (this.meta) return
    for (const p of this.peers.values()) if (p.askedMetadata) return
    for (const p of this.peers.values()) {
      if (p.opened && p.hasMetadata) {
        p.askedMetadata = true
        p.askedAt = Date.now()
        p.channel.messages[Msg.metadataRequest]!.send(encodeEmpty())
        return
      }
    }
  }

  private onMetadata(peer: Peer, bytes: Buffer | null): void {
    if (peer.askedAt === 0) throw new DecodeError('metadata nobody asked for')
    peer.askedMetadata = false
    peer.askedAt = 0
    if (this.meta) return
    if (bytes === null) {
      peer.hasMetadata = false
      this.askMetadata()
      return
    }
    let meta: Metainfo
    try {
      meta = parseTorrent(bytes, { infohash: this.infohash })
    } catch (err) {
      this.ban(peer, `its metadata was refused: ${(err as Error).message}`)
      this.askMetadata()
      return
    }
    this.emit('metadata', meta)
  }

  // --- downloading -----------------------------------------------------------------------

  private updateInterest(peer: Peer): void {
    if (!peer.opened) return
    let want = false
    if (this.wanted && peer.bits && this.store) {
      for (let i = 0; i < this.wanted.size && !want; i++) want = this.wanted.get(i) && !this.store.have.get(i) && peer.bits.get(i)
    }
    if (want === peer.interesting) return
    peer.interesting = want
    peer.channel.messages[Msg.interested]!.send(encodeUint(want ? 1 : 0))
  }

  /** Keep every unchoked peer's pipeline full. */
  private fill(only?: Peer): void {
    if (!this.wanted || !this.meta || this.stopped) return
    // Near the end, a peer's share of what is left, so one fast peer does not take it all.
    let active = 0
    for (const p of this.peers.values()) if (p.opened && !p.choked) active++
    const left = (this.wanted.count - this.store!.have.count - this.writing.size) * this.meta.pieceLength
    const cap = Math.max(2 * this.meta.pieceLength, Math.min(LIMITS.pipelineBytes, left / Math.max(1, active)))
    for (const p of only ? [only] : this.peers.values()) {
      while (p.opened && !p.choked && p.bits && p.requestedBytes < cap && p.requests.size < LIMITS.pipelineRequests) {
        const piece = this.pick(p)
        if (piece === -1) break
        this.requestPiece(p, piece)
      }
    }
  }

  /** Rarest first among pieces nobody is fetching; then, in endgame, pieces others are fetching. */
  private pick(peer: Peer): number {
    const have = this.store!.have
    const wanted = this.wanted!
    const bits = peer.bits!
    let best = -1
    let bestAvail = Infinity
    const n = this.meta!.pieceCount
    for (let i = 0; i < n; i++) {
      if (!wanted.get(i) || have.get(i) || !bits.get(i) || this.jobs.has(i) || this.writing.has(i)) continue
      const a = this.availability[i]!
      if (a < bestAvail) {
        best = i
        bestAvail = a
        if (a <= 1) break
      }
    }
    if (best !== -1) return best
    // Endgame: everything left is in flight. A piece slow to come is asked of this peer too.
    const slow = Date.now() - LIMITS.endgameAfterMs
    for (const job of this.jobs.values()) {
      if (job.startedAt < slow && !job.parts.has(peer.key) && job.parts.size < 3 && bits.get(job.piece)) return job.piece
    }
    return -1
  }

  private requestPiece(peer: Peer, piece: number): void {
    const size = pieceSize(this.meta!, piece)
    let job = this.jobs.get(piece)
    if (!job) this.jobs.set(piece, (job = { piece, size, startedAt: Date.now(), parts: new Map() }))
    let chunks = 0
    const now = Date.now()
    for (let offset = 0; offset < size; offset += LIMITS.requestBytes) {
      const ref = { piece, offset, length: Math.min(LIMITS.requestBytes, size - offset) }
      peer.requests.set(`${piece}:${offset}`, { ref, at: now })
      peer.requestedBytes += ref.length
      peer.channel.messages[Msg.request]!.send(encodeChunk(ref))
      chunks++
    }
    job.parts.set(peer.key, { buf: size <= LIMITS.requestBytes ? Buffer.alloc(0) : Buffer.allocUnsafe(size), missing: chunks })
  }

  private onData(peer: Peer, msg: { piece: number; offset: number; data: Buffer }): void {
    const k = `${msg.piece}:${msg.offset}`
    const req = peer.requests.get(k)
    // Unasked data (cancelled, or a piece someone else completed first) is dropped.
    if (!req) return
    if (msg.data.length !== req.ref.length) throw new DecodeError(`piece ${msg.piece} chunk of ${msg.data.length} bytes, asked ${req.ref.length}`)
    peer.requests.delete(k)
    peer.requestedBytes -= req.ref.length
    peer.downloaded += msg.data.length
    peer.lastDataAt = Date.now()
    this.downloaded += msg.data.length
    const job = this.jobs.get(msg.piece)
    const part = job?.parts.get(peer.key)
    if (!job || !part) return
    if (job.size <= LIMITS.requestBytes) part.buf = msg.data
    else msg.data.copy(part.buf, msg.offset)
    if (--part.missing === 0) this.completePiece(peer, job, part.buf)
    if (peer.opened) this.fill(peer)
  }

  private completePiece(peer: Peer, job: Job, data: Buffer): void {
    const meta = this.meta!
    const expected = expectedHash(meta, job.piece)!
    if (!pieceRoot(data, meta.pieceLength, expected.file.length).equals(expected.hash)) {
      job.parts.delete(peer.key)
      if (job.parts.size === 0) this.jobs.delete(job.piece)
      this.ban(peer, `piece ${job.piece} from it failed verification`)
      this.fill()
      return
    }
    // Verified: whoever else is fetching this piece can stop.
    this.jobs.delete(job.piece)
    for (const key of job.parts.keys()) {
      const other = this.peers.get(key)
      if (!other || other === peer) continue
      for (const [k, r] of other.requests) {
        if (r.ref.piece !== job.piece) continue
        other.requests.delete(k)
        other.requestedBytes -= r.ref.length
        other.channel.messages[Msg.cancel]!.send(encodeChunk(r.ref))
      }
    }
    this.writing.add(job.piece)
    this.store!.write(job.piece, data).then(
      (file) => {
        this.writing.delete(job.piece)
        if (this.stopped) return
        if (file !== null) this.emit('file', file)
        this.onWritten(job.piece)
      },
      (err: unknown) => {
        if (this.stopped) return
        this.emit('error', err instanceof Error ? err : new Error(String(err)))
        this.stop()
      }
    )
  }

  private onWritten(piece: number): void {
    if (this.stopped) return
    for (const p of this.peers.values()) {
      if (p.opened) p.channel.messages[Msg.have]!.send(encodeUint(piece))
    }
    this.emit('piece', piece)
    if (this.store!.complete() && this.wanted) {
      this.wanted = null
      for (const p of this.peers.values()) this.updateInterestDone(p)
      this.emit('done')
    }
    this.unchokeWaiting()
  }

  private updateInterestDone(peer: Peer): void {
    if (peer.interesting && peer.opened) peer.channel.messages[Msg.interested]!.send(encodeUint(0))
    peer.interesting = false
  }

  private onReject(peer: Peer, ref: ChunkRef): void {
    const k = `${ref.piece}:${ref.offset}`
    const req = peer.requests.get(k)
    if (!req) return
    this.releasePiece(peer, ref.piece)
    this.fill()
  }

  /** Forget every request of a peer for one piece, and its part of that piece's job. */
  private releasePiece(peer: Peer, piece: number): void {
    for (const [k, r] of peer.requests) {
      if (r.ref.piece !== piece) continue
      peer.requests.delete(k)
      peer.requestedBytes -= r.ref.length
    }
    const job = this.jobs.get(piece)
    if (!job) return
    job.parts.delete(peer.key)
    if (job.parts.size === 0) this.jobs.delete(piece)
  }

  private dropRequests(peer: Peer): void {
    const pieces = new Set([...peer.requests.values()].map((r) => r.ref.piece))
    for (const piece of pieces) this.releasePiece(peer, piece)
    for (const job of [...this.jobs.values()]) {
      if (job.parts.delete(peer.key) && job.parts.size === 0) this.jobs.delete(job.piece)
    }
  }

  /** Requests unanswered too long go back to the pool (the peer keeps its connection). */
  private sweep(): void {
    if (this.stopped) return
    const now = Date.now()
    const old = now - LIMITS.requestTimeoutMs
    // A metadata request unanswered for long goes to another peer.
    for (const p of this.peers.values()) {
      if (p.askedMetadata && p.askedAt < old) {
        p.askedMetadata = false
        p.hasMetadata = false
        this.askMetadata()
      }
    }
    for (const p of this.peers.values()) {
      // A peer still sending is slow, not stuck: its requests wait.
      if (p.lastDataAt >= old) continue
      const stale = new Set<number>()
      for (const r of p.requests.values()) if (r.at < old) stale.add(r.ref.piece)
      for (const piece of stale) {
        for (const r of p.requests.values()) if (r.ref.piece === piece) p.channel.messages[Msg.cancel]!.send(encodeChunk(r.ref))
        this.releasePiece(p, piece)
      }
    }
    this.fill()
  }

  private ban(peer: Peer, reason: string): void {
    this.banned.add(peer.key)
    this.emit('ban', peer.publicKey, reason)
    peer.channel.close()
  }

  /** A peer that breaks the protocol loses this torrent's channel, not its connection. */
  private guard(peer: Peer, fn: () => void): void {
    try {
      fn()
    } catch (err) {
      // Whatever a peer's message makes fail, it costs that peer the channel, never the process.
      this.ban(peer, err instanceof DecodeError ? err.message : `its message could not be handled (${(err as Error).message})`)
    }
  }
}
