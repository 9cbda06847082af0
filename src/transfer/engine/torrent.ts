import { EventEmitter } from 'node:events'
import { Choker, CHOKER_LIMITS } from '../choker.js'
import { answerHashRequest, LayerFetcher } from '../hashes.js'
import { type Metainfo, parseInfo } from '../metainfo.js'
import { PiecePicker } from '../picker.js'
import { Bitfield, FileChangedError, type PieceStore } from '../storage.js'
import { WireError } from '../wire/errors.js'
import type { HashRef } from '../wire/messages.js'
import { fetchMetadata, verifyMetadata } from '../wire/metadata.js'
import type { PeerWire, WireTorrent } from '../wire/peer.js'
import { isChrysalisPeerId, Peer, type PeerInfo, type PeerKind, type Transport } from './peer.js'

/**
 * One torrent on the BitTorrent wire (BEP 3, 6, 9, 10, 52), over every connection that has it,
 * TCP or hyperswarm alike: what each peer has, choking (choker.ts), serving requests from the
 * piece store, and while downloading, picking blocks (picker.ts), checking each piece (v1 SHA-1,
 * v2 merkle, both for hybrids) before it is kept, and banning peers whose data fails. It never
 * opens a connection: the transfers layer hands it wires. Rules and numbers: protocol.md §13.
 *
 *   const t = new Torrent({ v1, v2, meta, peerId })
 *   t.setStore(meta, store); t.download()
 *   t.addPeer(wire, { transport: 'tcp', address: '10.0.0.2:6881', banKey: '10.0.0.2' })
 */
export const LIMITS = {
  /** Connections one torrent keeps; more are refused. */
  maxPeers: 50,
  /** Our requests in flight to one peer (16 KiB each), at most its `reqq`. */
  maxInflight: 256,
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
  /** Whole pieces kept in memory for serving (× piece length). */
  readCache: 16,
  /** Pieces being assembled at once, in memory (bounds memory: × piece length). */
  maxPartials: 64,
  /** Failed pieces one peer may send when it shared them with others; alone, one bans it. */
  strikes: 3,
  /** Metadata fetches at once, from different peers. */
  metadataFetches: 2,
  /** How often requests are checked for timeouts and the unchoked set is chosen again. */
  tickMs: 1000
} as const

export interface TorrentPeerInfo {
  id: string
  address: string | null
  client: string | null
  kind: PeerKind | 'webseed'
  transport: Transport | 'http'
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
  /** A peer sent data that failed verification, or broke the protocol badly: banned. */
  ban: [string, string]
  /** A seeded file changed on disk: this torrent stopped serving. */
  changed: [FileChangedError]
  /** Writing failed (disk full, permissions): the download stopped. */
  error: [Error]
  peers: [number]
}

export interface TorrentOptions {
  /** SHA-1 infohash (v1, hybrid). */
  v1: Buffer | null
  /** SHA-256 infohash (v2, hybrid), 32 bytes. */
  v2: Buffer | null
  meta: Metainfo | null
  peerId: Buffer
  /** Our TCP port, told to peers in the extended handshake; null when we take no TCP peers. */
  listenPort?: () => number | null
  /** Clock (ms). */
  now?: () => number
  /** Connect to a peer's TCP port (a Chrysalis peer met on hyperswarm that takes TCP). */
  dialTcp?: (host: string, port: number) => void
}

/** A source of blocks besides peers (a web seed): asked for blocks like a peer. */
export interface BlockSource {
  readonly id: string
  /** Look for work (called when pieces may be free to take). */
  pump(): void
  /** A piece it sent failed its check. */
  bad(): void
}

type Holder = Peer | BlockSource

export class Torrent extends EventEmitter<TorrentEvents> {
  readonly v1: Buffer | null
  readonly v2: Buffer | null
  meta: Metainfo | null
  store: PieceStore | null = null
  private readonly opts: TorrentOptions
  private readonly peers = new Set<Peer>()
  private readonly sources = new Set<BlockSource>()
  /** Pieces read for serving, newest last. */
  private readonly readCache = new Map<number, Promise<Buffer>>()
  private readonly banned = new Set<string>()
  private picker: PiecePicker<Holder> | null = null
  private readonly choker = new Choker<Peer>({ slots: CHOKER_LIMITS.slots })
  private layers: LayerFetcher | null = null
  private readonly hashAsks = new Map<Peer, HashRef>()
  /** Pieces being assembled: their bytes so far. */
  private readonly buffers = new Map<number, Buffer>()
  /** Verified pieces being written. */
  private readonly writing = new Set<number>()
  private wanted: Bitfield | null = null
  private readonly metadataFrom = new Set<Peer>()
  private readonly timer: NodeJS.Timeout
  private ticks = 0
  private stopped = false
  /** Bytes received (verified or not) and sent, since this torrent started. */
  downloaded = 0
  uploaded = 0
  /** Bytes received per kind of source. */
  readonly received = { peers: 0, webSeeds: 0 }
  /** When data first arrived (this run), and when the download completed. */
  firstDataAt: number | null = null
  doneAt: number | null = null

  constructor(opts: TorrentOptions) {
    super()
    this.opts = opts
    this.v1 = opts.v1
    this.v2 = opts.v2
    this.meta = opts.meta
    this.timer = setInterval(() => this.tick(), LIMITS.tickMs)
    this.timer.unref()
  }

  /** How this torrent is named in handshakes (the v1 hash when it has one, else the truncated v2). */
  wireTorrent(): WireTorrent {
    const v2 = this.v2 ? this.v2.subarray(0, 20) : null
    return { infohash: this.v1 ?? v2!, v1: this.v1, v2, pieceCount: this.meta?.pieceCount ?? null }
  }

  /** Is this 20-byte handshake hash ours? */
  answers(hash20: Buffer): boolean {
    return (this.v1 !== null && hash20.equals(this.v1)) || (this.v2 !== null && hash20.equals(this.v2.subarray(0, 20)))
  }

  get peerCount(): number {
    return this.peers.size
  }

  get full(): boolean {
    return this.peers.size >= LIMITS.maxPeers
  }

  isBanned(banKey: string): boolean {
    return this.banned.has(banKey)
  }

  /** Is a peer with this peer id connected (over any transport)? */
  connectedTo(peerId: Buffer): Peer | null {
    for (const p of this.peers) if (p.peerId.equals(peerId)) return p
    return null
  }

  peerList(): TorrentPeerInfo[] {
    const n = this.meta?.pieceCount ?? 0
    return [...this.peers].map((p) => ({
      id: p.id,
      address: p.info.address,
      client: p.client,
      kind: p.kind,
      transport: p.info.transport,
      pieces: p.pieceCount(n),
      downloaded: p.downloaded,
      uploaded: p.uploaded
    }))
  }

  // --- lifecycle -------------------------------------------------------------------------

  /** Metadata and store known (at start, or after the metadata came from peers). */
  setStore(meta: Metainfo, store: PieceStore): void {
    this.meta = meta
    this.store = store
    for (const p of this.peers) {
      p.wire.setPieceCount(meta.pieceCount)
      p.settle(meta.pieceCount)
    }
    if (meta.version === 'v2' && !new LayerFetcher(meta).complete) this.layers = new LayerFetcher(meta)
  }

  /** Start downloading the store's selection (the store must be open). */
  download(): void {
    const store = this.store!
    const meta = this.meta!
    this.wanted = store.wanted()
    const map = store.map
    const wanted = this.wanted
    this.picker = new PiecePicker<Holder>({
      pieceCount: meta.pieceCount,
      pieceSize: (i) => map.size(i),
      // A v2 piece whose layer is not known yet cannot be checked: it waits for the hashes.
      wanted: { get: (i) => wanted.get(i) && !this.writing.has(i) && !(this.layers !== null && map.needsLayer(i)) },
      have: store.have,
      ...(this.opts.now ? { now: this.opts.now } : {})
    })
    for (const p of this.peers) this.countPeer(p)
    for (const p of this.peers) this.updateInterest(p)
    this.fillAll()
  }

  /** Stop: close every connection, keep nothing running. One teardown path. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.timer)
    for (const p of [...this.peers]) p.wire.destroy(null)
    this.peers.clear()
    this.buffers.clear()
    this.picker = null
  }

  // --- peers -----------------------------------------------------------------------------

  /**
   * A connection for this torrent, its handshake done. Refused (closed) when the torrent is
   * full, the peer banned, or already connected (a TCP connection replaces a hyperswarm one to
   * the same peer: bulk data goes the faster way).
   */
  addPeer(wire: PeerWire, info: PeerInfo): boolean {
    if (this.stopped || wire.destroyed || !wire.remote) return false
    if (this.banned.has(info.banKey)) {
      wire.destroy(new WireError('BANNED', 'this peer is banned from the torrent'))
      return false
    }
    if (wire.remote.peerId.equals(this.opts.peerId)) {
      wire.destroy(new WireError('SELF', 'a connection to ourselves'))
      return false
    }
    const twin = this.connectedTo(wire.remote.peerId)
    if (twin) {
      if (twin.info.transport === 'hyperswarm' && info.transport === 'tcp') twin.wire.destroy(null)
      else {
        wire.destroy(new WireError('DUPLICATE', 'already connected to this peer'))
        return false
      }
    }
    if (this.full) {
      wire.destroy(new WireError('TOO_MANY', 'the torrent has as many peers as it keeps'))
      return false
    }
    const peer = new Peer(wire, info, LIMITS.maxInflight)
    if (info.transport === 'hyperswarm' || isChrysalisPeerId(wire.remote.peerId)) peer.kind = 'chrysalis'
    this.peers.add(peer)
    this.choker.add(peer)
    this.listen(peer)
    const meta = this.meta
    wire.extendedHandshake({ v: 'Chrysalis 0.1', reqq: LIMITS.servedQueue, ...(meta ? { metadataSize: meta.info.length } : {}), ...(this.opts.listenPort?.() ? { p: this.opts.listenPort()! } : {}) })
    this.sendHaves(peer)
    if (meta) {
      wire.setPieceCount(meta.pieceCount)
      peer.settle(meta.pieceCount)
    }
    this.emit('peers', this.peers.size)
    return true
  }

  private sendHaves(peer: Peer): void {
    const store = this.store
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

  private listen(peer: Peer): void {
    const w = peer.wire
    const guard =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (this.stopped || !this.peers.has(peer)) return
        fn(...args)
      }
    w.on('extendedHandshake', guard((h) => {
      peer.client = h.v ?? null
      if (h.reqq !== undefined) peer.maxInflight = Math.max(1, Math.min(LIMITS.maxInflight, h.reqq))
      if (h.p !== undefined) peer.listenPort = h.p
      // A Chrysalis peer met on hyperswarm that also takes TCP: bulk data goes the faster way
      // (the TCP connection replaces this one once its handshake is through).
      if (h.p !== undefined && peer.info.transport === 'hyperswarm' && peer.info.host && (this.store === null || this.wanted !== null)) this.opts.dialTcp?.(peer.info.host, h.p)
      if (h.v?.startsWith('Chrysalis')) peer.kind = 'chrysalis'
      peer.metadataSize = h.metadataSize ?? null
      if (!this.meta) this.askMetadata()
    }))
    w.on('bitfield', guard((m) => this.onHave(peer, { bits: Buffer.from(m.bits) })))
    w.on('haveAll', guard(() => this.onHave(peer, { all: true })))
    w.on('haveNone', guard(() => this.onHave(peer, {})))
    w.on('have', guard((m) => this.onHave(peer, { piece: m.index })))
    w.on('choke', guard(() => {
      peer.peerChoking = true
      // BEP 6: a peer with the fast extension rejects what it will not send; others drop it all.
      if (!w.remote!.caps.fast) this.releaseAll(peer)
    }))
    w.on('unchoke', guard(() => {
      peer.peerChoking = false
      this.fill(peer)
    }))
    w.on('interested', guard(() => {
      peer.peerInterested = true
      this.choker.interested(peer, true)
      if (!this.unchokedFull()) this.rechoke()
    }))
    w.on('notInterested', guard(() => {
      peer.peerInterested = false
      this.choker.interested(peer, false)
    }))
    w.on('request', guard((m) => this.onRequest(peer, m.index, m.begin, m.length)))
    w.on('cancel', guard((m) => {
      const i = peer.queue.findIndex((q) => q.piece === m.index && q.offset === m.begin)
      if (i !== -1) peer.queue.splice(i, 1)
    }))
    w.on('piece', guard((m) => this.onBlock(peer, m.index, m.begin, m.block)))
    w.on('reject', guard((m) => {
      if (!this.picker) return
      if (this.picker.sender(m.index, m.begin) !== undefined) return
      this.picker.released(peer, m.index, m.begin)
      peer.inflight = Math.max(0, peer.inflight - 1)
      this.fill(peer)
    }))
    w.on('hashRequest', guard((ref) => this.onHashRequest(peer, ref)))
    w.on('hashes', guard((m) => {
      if (this.hashAsks.get(peer)?.root.equals(m.root) !== true || !this.layers) return
      this.hashAsks.delete(peer)
      if (!this.layers.onHashes(m, m.hashes)) {
        this.ban(peer, 'it sent piece hashes that do not match the torrent')
        return
      }
      this.afterHashes()
    }))
    w.on('hashReject', guard((m) => {
      if (this.hashAsks.get(peer)?.root.equals(m.root) !== true) return
      this.hashAsks.delete(peer)
      this.layers?.onReject(m)
    }))
    w.on('metadata', guard((m) => {
      if (m.msgType !== 'request') return
      const info = this.meta?.info
      if (!info || m.piece * 16384 >= info.length) {
        w.metadata({ msgType: 'reject', piece: m.piece })
        return
      }
      const at = m.piece * 16384
      w.metadata({ msgType: 'data', piece: m.piece, totalSize: info.length, data: info.subarray(at, Math.min(at + 16384, info.length)) })
    }))
    w.on('drain', guard(() => void this.serve(peer)))
    w.on('close', () => this.onClose(peer))
  }

  private onClose(peer: Peer): void {
    if (!this.peers.delete(peer)) return
    this.choker.remove(peer)
    const ask = this.hashAsks.get(peer)
    if (ask) {
      this.hashAsks.delete(peer)
      this.layers?.release(ask)
    }
    if (this.picker) {
      if (peer.counted && peer.has) this.picker.removePeer(peer.has)
      this.picker.removeRequests(peer)
    }
    this.metadataFrom.delete(peer)
    this.emit('peers', this.peers.size)
    if (!this.stopped) {
      if (!peer.amChoking) this.rechoke()
      if (!this.meta) this.askMetadata()
      this.fillAll()
    }
  }

  private countPeer(peer: Peer): void {
    if (!this.picker || peer.counted || !peer.has) return
    peer.counted = true
    this.picker.addPeer(peer.has)
  }

  private onHave(peer: Peer, what: { bits?: Buffer; all?: boolean; piece?: number }): void {
    const n = this.meta?.pieceCount
    if (n === undefined) {
      if (what.bits) peer.early.bits = what.bits
      if (what.all) peer.early.all = true
      if (what.piece !== undefined && peer.early.haves.length < 100_000) peer.early.haves.push(what.piece)
      return
    }
    if (what.piece !== undefined) {
      if (peer.has === null) peer.settle(n)
      if (peer.has === 'all') return
      const bits = peer.has!
      if (!bits.set(what.piece)) return
      if (peer.counted) this.picker?.peerHas(what.piece)
      if (bits.full) peer.has = 'all' // counted as a bitfield already: keep it for removePeer
      if (!peer.amInterested && this.wanted?.get(what.piece) && !this.store!.have.get(what.piece)) this.updateInterest(peer)
      this.fill(peer)
      return
    }
    peer.has = what.all ? 'all' : new Bitfield(n, what.bits ?? undefined)
    if (peer.has !== 'all' && peer.has.full) peer.has = 'all'
    this.countPeer(peer)
    this.updateInterest(peer)
    this.fill(peer)
  }

  // --- metadata --------------------------------------------------------------------------

  private askMetadata(): void {
    if (this.meta || this.stopped) return
    for (const p of this.peers) {
      if (this.metadataFrom.size >= LIMITS.metadataFetches) return
      if (this.metadataFrom.has(p) || p.metadataSize === null) continue
      this.metadataFrom.add(p)
      fetchMetadata(p.wire, { v1: this.v1, v2: this.v2 }).then(
        (info) => this.onMetadata(info),
        () => {
          // It closed, refused or lied (fetchMetadata disconnects a liar): ask someone else.
          p.metadataSize = null
          this.metadataFrom.delete(p)
          this.askMetadata()
        }
      )
    }
  }

  private onMetadata(info: Buffer): void {
    if (this.meta || this.stopped) return
    if (!verifyMetadata(info, { v1: this.v1, v2: this.v2 })) return
    let meta: Metainfo
    try {
      meta = parseInfo(info)
    } catch (err) {
      // It hashes to the infohash we were given: every peer would send the same. Nothing to fetch.
      this.emit('error', err instanceof Error ? err : new Error(String(err)))
      return
    }
    this.metadataFrom.clear()
    this.emit('metadata', meta)
  }

  // --- v2 hashes -------------------------------------------------------------------------

  private onHashRequest(peer: Peer, ref: HashRef): void {
    const meta = this.meta
    const answer = meta ? answerHashRequest(meta, ref) : null
    if (answer) peer.wire.hashes(ref, answer)
    else peer.wire.hashReject(ref)
  }

  /** Ask v2 peers for the piece layers a magnet did not bring. */
  private askHashes(): void {
    const layers = this.layers
    if (!layers || layers.complete) return
    for (const p of this.peers) {
      if (!p.wire.v2 || this.hashAsks.has(p) || p.has === null) continue
      const ref = layers.next((i) => p.holds(i))
      if (!ref) return
      this.hashAsks.set(p, ref)
      p.wire.hashRequest(ref)
    }
  }

  private afterHashes(): void {
    if (this.layers?.complete) this.layers = null
    // Pieces that waited for their layer can be asked for now.
    for (const p of this.peers) this.updateInterest(p)
    this.fillAll()
    this.askHashes()
  }

  // --- serving ---------------------------------------------------------------------------

  private unchokedFull(): boolean {
    let n = 0
    for (const p of this.peers) if (!p.amChoking) n++
    return n >= CHOKER_LIMITS.slots
  }

  private rechoke(): void {
    if (!this.store) return
    const seeding = this.wanted === null
    const { unchoke, choke } = this.choker.rechoke({ seeding, rateOf: (p) => (seeding ? p.upRate : p.downRate) })
    for (const p of choke) {
      if (p.amChoking) continue
      p.amChoking = true
      p.queue.length = 0
      p.wire.choke()
    }
    for (const p of unchoke) {
      if (!p.amChoking) continue
      p.amChoking = false
      p.rejected = 0
      p.wire.unchoke()
    }
  }

  private onRequest(peer: Peer, piece: number, offset: number, length: number): void {
    const store = this.store
    const valid = store !== null && piece < store.map.pieceCount && length > 0 && offset + length <= store.map.size(piece)
    if (!valid && store) throw new WireError('BAD_MESSAGE', `a request past the end of piece ${piece}`)
    if (!store || peer.amChoking || !store.servable(piece) || peer.queue.length >= LIMITS.servedQueue) {
      if (++peer.rejected > LIMITS.floodRejects) {
        peer.wire.destroy(new WireError('FLOOD', `more than ${LIMITS.floodRejects} requests it could not have meant`))
        return
      }
      if (peer.wire.remote!.caps.fast) peer.wire.reject(piece, offset, length)
      return
    }
    peer.queue.push({ piece, offset, length })
    void this.serve(peer)
  }

  /** Answer queued requests a few reads at a time, pausing while the connection is full. */
  private async serve(peer: Peer): Promise<void> {
    if (peer.serving) return
    peer.serving = true
    try {
      while (peer.queue.length > 0 && peer.wire.writable && !peer.amChoking && !this.stopped) {
        const batch = peer.queue.splice(0, LIMITS.readsAhead)
        let blocks: Buffer[]
        try {
          blocks = await Promise.all(batch.map(async (r) => (await this.readPiece(r.piece)).subarray(r.offset, r.offset + r.length)))
        } catch (err) {
          if (err instanceof FileChangedError) throw err
          // A file being moved into place, say: refuse these, serve the rest.
          if (peer.wire.remote!.caps.fast) for (const r of batch) peer.wire.reject(r.piece, r.offset, r.length)
          continue
        }
        if (peer.wire.destroyed || peer.amChoking || this.stopped) break
        for (let i = 0; i < batch.length; i++) {
          const r = batch[i]!
          peer.wire.piece(r.piece, r.offset, blocks[i]!)
          peer.uploaded += r.length
          this.uploaded += r.length
        }
        peer.rejected = 0
      }
    } catch (err) {
      if (!this.stopped) {
        if (err instanceof FileChangedError) this.emit('changed', err)
        else this.emit('error', err instanceof Error ? err : new Error(String(err)))
      }
    } finally {
      peer.serving = false
    }
  }

  /**
   * A whole piece, read once for all its blocks (a request is 16 KiB; one read per piece instead
   * of one per block), kept for the next few requests of any peer.
   */
  private readPiece(piece: number): Promise<Buffer> {
    let p = this.readCache.get(piece)
    if (p) return p
    p = this.store!.read(piece, 0, this.store!.map.size(piece))
    this.readCache.set(piece, p)
    p.catch(() => this.readCache.delete(piece))
    if (this.readCache.size > LIMITS.readCache) this.readCache.delete(this.readCache.keys().next().value!)
    return p
  }

  // --- downloading -----------------------------------------------------------------------

  private updateInterest(peer: Peer): void {
    if (peer.wire.destroyed || !peer.wire.remote) return
    const want = this.picker !== null && this.wanted !== null && peer.has !== null && this.picker.interesting(peer.has)
    if (want === peer.amInterested) return
    peer.amInterested = want
    if (want) peer.wire.interested()
    else peer.wire.notInterested()
  }

  private fillAll(): void {
    for (const p of this.peers) this.fill(p)
    for (const s of this.sources) s.pump()
    this.askHashes()
  }

  /** A source of blocks besides peers (a web seed), asked for work whenever there may be some. */
  addSource(source: BlockSource): void {
    this.sources.add(source)
    source.pump()
  }

  removeSource(source: BlockSource): void {
    this.sources.delete(source)
    this.picker?.removeRequests(source)
  }

  /** Keep a peer's pipeline full. */
  private fill(peer: Peer): void {
    const picker = this.picker
    if (!picker || !this.wanted || this.stopped || peer.peerChoking || !peer.amInterested || peer.has === null) return
    if (this.buffers.size >= LIMITS.maxPartials && picker.outstanding(peer) === 0) return
    const room = peer.maxInflight - peer.inflight
    if (room <= 0) return
    const blocks = picker.next(peer, peer.has, room)
    for (const b of blocks) {
      peer.inflight++
      peer.wire.request(b.piece, b.offset, b.length)
    }
  }

  /** A block arrived (protocol.md §13: unasked data is dropped, not an error). */
  onBlock(from: Holder, piece: number, offset: number, block: Buffer): void {
    const picker = this.picker
    const isPeer = from instanceof Peer
    if (isPeer) {
      from.downloaded += block.length
      from.inflight = Math.max(0, from.inflight - 1)
      from.rejected = 0
    }
    this.downloaded += block.length
    if (isPeer) this.received.peers += block.length
    else this.received.webSeeds += block.length
    this.firstDataAt ??= Date.now()
    if (!picker || !this.store) return
    const { accepted, cancel, complete } = picker.received(from, piece, offset)
    if (accepted) {
      const size = this.store.map.size(piece)
      if (offset + block.length > size) throw new WireError('BAD_MESSAGE', `a block past the end of piece ${piece}`)
      let buf = this.buffers.get(piece)
      if (!buf) this.buffers.set(piece, (buf = Buffer.allocUnsafe(size)))
      block.copy(buf, offset)
      for (const other of cancel) {
        if (other instanceof Peer) {
          other.inflight = Math.max(0, other.inflight - 1)
          other.wire.cancel(piece, offset, block.length)
        }
      }
      if (complete) this.completePiece(piece)
    }
    if (isPeer) this.fill(from)
  }

  private completePiece(piece: number): void {
    const picker = this.picker!
    const store = this.store!
    const data = this.buffers.get(piece)!
    this.buffers.delete(piece)
    const verdict = store.map.check(piece, data)
    if (verdict !== 'ok') {
      const senders = picker.failed(piece)
      for (const s of senders) {
        if (!(s instanceof Peer)) {
          s.bad()
          continue
        }
        s.strikes++
        if (senders.length === 1 || s.strikes >= LIMITS.strikes) this.ban(s, `piece ${piece} from it failed its hash check`)
      }
      this.fillAll()
      return
    }
    picker.verified(piece)
    this.writing.add(piece)
    store.write(piece, data).then(
      (files) => {
        this.writing.delete(piece)
        if (this.stopped) return
        for (const f of files) this.emit('file', f)
        this.onWritten(piece)
      },
      (err: unknown) => {
        this.writing.delete(piece)
        if (this.stopped) return
        this.emit('error', err instanceof Error ? err : new Error(String(err)))
      }
    )
  }

  private onWritten(piece: number): void {
    const store = this.store!
    if (store.servable(piece)) for (const p of this.peers) if (p.has !== 'all') p.wire.have(piece)
    this.emit('piece', piece)
    if (this.wanted && store.complete()) {
      this.wanted = null
      this.doneAt = Date.now()
      for (const p of this.peers) this.updateInterestDone(p)
      this.emit('done')
    }
  }

  private updateInterestDone(peer: Peer): void {
    if (peer.amInterested) peer.wire.notInterested()
    peer.amInterested = false
  }

  private releaseAll(peer: Peer): void {
    this.picker?.removeRequests(peer)
    peer.inflight = 0
  }

  /** Every second: timeouts, rates; every rechoke period, the unchoked set. */
  private tick(): void {
    if (this.stopped) return
    this.ticks++
    const picker = this.picker
    if (picker) {
      for (const e of picker.expire()) {
        if (!(e.peer instanceof Peer)) continue
        e.peer.inflight = Math.max(0, e.peer.inflight - 1)
        e.peer.wire.cancel(e.piece, e.offset, e.length)
      }
    }
    if (this.ticks % 10 === 0) {
      for (const p of this.peers) p.sampleRates(10)
      this.rechoke()
      for (const p of this.peers) this.updateInterest(p)
    }
    if (!this.meta) this.askMetadata()
    this.fillAll()
  }

  private ban(peer: Peer, reason: string): void {
    this.banned.add(peer.info.banKey)
    this.emit('ban', peer.info.address ?? peer.info.banKey, reason)
    peer.wire.destroy(new WireError('BANNED', reason))
  }

  /** Web seeds and other block sources: the picker's view for them. */
  nextBlocks(source: BlockSource, max: number): Array<{ piece: number; offset: number; length: number }> {
    if (!this.picker || !this.wanted || this.stopped) return []
    return this.picker.next(source, 'all', max)
  }

  /** A block source gives up on blocks it was given. */
  releaseBlocks(source: BlockSource): void {
    this.picker?.removeRequests(source)
  }
}
