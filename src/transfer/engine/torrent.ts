import { EventEmitter } from 'node:events'
import type { Metainfo } from '../metainfo.js'
import { Bitfield } from '../bitfield.js'
import { FileChangedError, type PieceStore } from '../storage.js'
import { WireError } from '../wire/errors.js'
import type { PeerWire, WireTorrent } from '../wire/peer.js'
import { answerMetadata } from '../wire/metadata.js'
import { UPLOAD_LIMITS, Uploader } from './uploader.js'
import { type BlockSource, DOWNLOAD_LIMITS, Downloader } from './downloader.js'
import { BlockHashRequests } from './blame.js'
import { answerHashes, LayerRequests, MetadataFetch } from './info.js'
import { isChrysalisPeerId, Peer, type PeerInfo } from './peer.js'
import { PEER_SET_LIMITS, PeerSet, type TorrentPeerInfo } from './peer-set.js'

export type { TorrentPeerInfo }

/**
 * One torrent on the BitTorrent wire (BEP 3, 6, 9, 10, 52), over every connection that has it,
 * TCP or hyperswarm alike. This class routes each wire's messages to the part that owns their
 * state: who is connected and banned (peer-set.ts), what each peer has (peer.ts), choking and
 * serving (uploader.ts), picking and checking blocks while downloading (downloader.ts), the
 * metadata and v2 layers a magnet lacks (info.ts, blame.ts). It never opens a connection: the
 * transfers layer hands it wires. Rules and numbers: protocol.md §13.
 *
 *   const t = new Torrent({ v1, v2, meta, peerId })
 *   t.setStore(meta, store); t.download()
 *   t.addPeer(wire, { transport: 'tcp', address: '10.0.0.2:6881', banKey: '10.0.0.2' })
 */
export const LIMITS = {
  ...UPLOAD_LIMITS,
  ...DOWNLOAD_LIMITS,
  ...PEER_SET_LIMITS,
  /** How often requests are checked for timeouts and the unchoked set is chosen again. */
  tickMs: 1000
} as const

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
  /** Every v2 piece layer is known now (a magnet's metadata lacked them): worth keeping. */
  layers: []
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

/** One torrent on the wire: hands each connected peer's messages to the part that owns their state. */
export class Torrent extends EventEmitter<TorrentEvents> {
  readonly v1: Buffer | null
  readonly v2: Buffer | null
  meta: Metainfo | null
  store: PieceStore | null = null
  private readonly opts: TorrentOptions
  private readonly peers = new PeerSet()
  /** The download side, once the store is known and something is wanted. */
  private down: Downloader | null = null
  private readonly upload: Uploader = new Uploader({
    store: () => this.store,
    seeding: () => this.down === null || this.down.done,
    live: () => !this.stopped,
    sent: (n) => {
      this.uploaded += n
    },
    failed: (err) => {
      if (this.stopped) return
      if (err instanceof FileChangedError) this.emit('changed', err)
      else this.emit('error', err)
    }
  })
  /** v2 piece layers still to ask for (a magnet's metadata has none). */
  private layers: LayerRequests | null = null
  /** Block hashes asked to blame the sender of a bad block (v2). */
  private blame: BlockHashRequests | null = null
  private readonly metadata: MetadataFetch
  private readonly timer: NodeJS.Timeout
  private ticks = 0
  private announcedDone = false
  private stopped = false
  /** Bytes sent since this torrent started. */
  uploaded = 0

  constructor(opts: TorrentOptions) {
    super()
    this.opts = opts
    this.v1 = opts.v1
    this.v2 = opts.v2
    this.meta = opts.meta
    this.metadata = new MetadataFetch(
      { v1: this.v1, v2: this.v2 },
      (meta) => {
        if (!this.meta && !this.stopped) this.emit('metadata', meta)
      },
      (err) => this.emit('error', err)
    )
    this.timer = setInterval(() => this.tick(), LIMITS.tickMs)
    this.timer.unref()
  }

  /** How this torrent is named in handshakes (the v1 hash when it has one, else the truncated v2). */
  wireTorrent(): WireTorrent {
    const v2 = this.v2 ? this.v2.subarray(0, 20) : null
    return { infohash: this.v1 ?? v2!, v1: this.v1, v2, pieceCount: this.meta?.pieceCount ?? null }
  }

  get peerCount(): number {
    return this.peers.size
  }

  get full(): boolean {
    return this.peers.full
  }

  /** Peers banned (this run), for views: a Chrysalis peer's key or a TCP address, and why. */
  get bans(): ReadonlyArray<{ peer: string; address: string | null; reason: string }> {
    return this.peers.bans
  }

  isBanned(banKey: string): boolean {
    return this.peers.isBanned(banKey)
  }

  /** Is a peer connected from or to this TCP address? */
  connectedAt(address: string): boolean {
    return this.peers.connectedAt(address)
  }

  /** Is a peer with this peer id connected (over any transport)? */
  connectedTo(peerId: Buffer): Peer | null {
    return this.peers.connectedTo(peerId)
  }

  /** Connected peers by kind, counted without building the peer list (views ask on every piece). */
  kindCounts(): { bittorrent: number; chrysalis: number } {
    return this.peers.kindCounts()
  }

  peerList(): TorrentPeerInfo[] {
    return this.peers.list(this.meta?.pieceCount ?? 0)
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
    this.metadata.stop()
    this.layers = LayerRequests.for(meta)
    this.blame = meta.version === 'v1' ? null : new BlockHashRequests(meta)
  }

  /** Start downloading the store's selection (the store must be open). */
  download(): void {
    const store = this.store!
    this.down = new Downloader(store, {
      peers: () => this.peers,
      blocked: (i) => this.layers !== null && store.map.needsLayer(i),
      ban: (peer, reason) => this.ban(peer, reason),
      written: (piece, files) => this.onWritten(piece, files),
      failed: (err) => this.emit('error', err),
      blockHashes: (piece) => {
        const from = [...this.peers].find((p) => p.wire.v2 && p.holds(piece))
        return from && this.blame ? this.blame.ask(from, piece) : null
      },
      live: () => !this.stopped,
      ...(this.opts.now ? { now: this.opts.now } : {})
    })
    for (const p of this.peers) this.down.count(p)
    for (const p of this.peers) this.updateInterest(p)
    this.fillAll()
  }

  /** Received bytes, the download's own time (this run). */
  get downloaded(): number {
    return this.down?.downloaded ?? 0
  }

  get received(): { peers: number; webSeeds: number } {
    return this.down?.received ?? { peers: 0, webSeeds: 0 }
  }

  get firstDataAt(): number | null {
    return this.down?.firstDataAt ?? null
  }

  get doneAt(): number | null {
    return this.down?.doneAt ?? null
  }

  /** Stop: close every connection, keep nothing running. One teardown path. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    clearInterval(this.timer)
    this.peers.closeAll()
    this.down?.stop()
    this.blame?.stop()
    this.upload.clear()
  }

  // --- peers -----------------------------------------------------------------------------

  /**
   * A connection for this torrent, its handshake done. Refused (closed) when the torrent is
   * full, the peer banned, or already connected (a TCP connection replaces a hyperswarm one to
   * the same peer: bulk data goes the faster way).
   */
  addPeer(wire: PeerWire, info: PeerInfo): boolean {
    if (this.stopped || wire.destroyed || !wire.remote) return false
    const admitted = this.peers.admit(wire, info, this.opts.peerId)
    if (!admitted) return false
    info = admitted
    const peer = new Peer(wire, info, LIMITS.maxInflight)
    if (info.transport === 'hyperswarm' || isChrysalisPeerId(wire.remote.peerId)) peer.kind = 'chrysalis'
    this.peers.add(peer)
    this.upload.add(peer)
    this.listen(peer)
    const meta = this.meta
    wire.extendedHandshake({ v: 'Chrysalis 0.1', reqq: LIMITS.servedQueue, ...(meta ? { metadataSize: meta.info.length } : {}), ...(this.opts.listenPort?.() ? { p: this.opts.listenPort()! } : {}) })
    this.upload.announceHaves(peer)
    if (meta) {
      wire.setPieceCount(meta.pieceCount)
      peer.settle(meta.pieceCount)
    }
    this.emit('peers', this.peers.size)
    return true
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
      // A peer that connected to us is known by its listening port too: a ban holds across its
      // connections, in and out.
      if (h.p !== undefined && !this.peers.listening(peer, h.p)) return
      // A Chrysalis peer met on hyperswarm that also takes TCP: bulk data goes the faster way
      // (the TCP connection replaces this one once its handshake is through).
      if (h.p !== undefined && peer.info.transport === 'hyperswarm' && peer.info.host && (this.store === null || (this.down !== null && !this.down.done))) this.opts.dialTcp?.(peer.info.host, h.p)
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
      if (!w.remote!.caps.fast) this.down?.releaseAll(peer)
    }))
    w.on('unchoke', guard(() => {
      peer.peerChoking = false
      this.down?.fill(peer)
    }))
    w.on('interested', guard(() => {
      peer.peerInterested = true
      this.upload.interested(peer, true)
    }))
    w.on('notInterested', guard(() => {
      peer.peerInterested = false
      this.upload.interested(peer, false)
    }))
    w.on('request', guard((m) => this.upload.request(peer, m.index, m.begin, m.length)))
    w.on('cancel', guard((m) => {
      const i = peer.queue.findIndex((q) => q.piece === m.index && q.offset === m.begin)
      if (i !== -1) peer.queue.splice(i, 1)
    }))
    w.on('piece', guard((m) => this.down?.onBlock(peer, m.index, m.begin, m.block)))
    w.on('reject', guard((m) => this.down?.rejected(peer, m.index, m.begin)))
    w.on('hashRequest', guard((ref) => answerHashes(this.meta, peer, ref, (piece) => this.upload.recent(piece))))
    w.on('hashes', guard((m) => {
      if (this.blame?.onHashes(peer, m, m.hashes)) return
      const verdict = this.layers?.onHashes(peer, m, m.hashes) ?? 'ignored'
      if (verdict === 'bad') this.ban(peer, 'it sent piece hashes that do not match the torrent')
      if (verdict === 'ok') this.afterHashes()
    }))
    w.on('hashReject', guard((m) => this.blame?.onReject(peer, m) || this.layers?.onReject(peer, m)))
    w.on('metadata', guard((m) => {
      if (m.msgType === 'request') answerMetadata(w, this.meta?.info ?? null, m.piece)
    }))
    w.on('drain', guard(() => this.upload.serve(peer)))
    w.on('close', () => this.onClose(peer))
  }

  private onClose(peer: Peer): void {
    if (!this.peers.delete(peer)) return
    this.upload.remove(peer)
    this.layers?.forget(peer)
    this.blame?.forget(peer)
    this.down?.removePeer(peer)
    this.metadata.forget(peer)
    this.emit('peers', this.peers.size)
    if (!this.stopped) {
      if (!peer.amChoking) this.upload.rechoke()
      if (!this.meta) this.askMetadata()
      this.fillAll()
    }
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
      this.down?.peerHas(peer, what.piece)
      if (bits.full) peer.has = 'all' // counted as a bitfield already: keep it for removePeer
      if (!peer.amInterested && this.down?.wants(what.piece)) this.updateInterest(peer)
      this.down?.fill(peer)
      return
    }
    peer.has = what.all ? 'all' : new Bitfield(n, what.bits ?? undefined)
    if (peer.has !== 'all' && peer.has.full) peer.has = 'all'
    // Two seeds have nothing to trade: the slot is better used by someone who needs pieces.
    if (peer.has === 'all' && this.store?.complete() && peer.info.transport === 'tcp') {
      peer.wire.destroy(null)
      return
    }
    this.down?.count(peer)
    this.updateInterest(peer)
    this.down?.fill(peer)
  }

  // --- metadata and v2 layers ----------------------------------------------------------

  private askMetadata(): void {
    if (!this.meta && !this.stopped) this.metadata.ask(this.peers)
  }

  private askHashes(): void {
    this.layers?.ask(this.peers)
  }

  private afterHashes(): void {
    if (this.layers?.complete) {
      this.layers = null
      this.emit('layers')
    }
    // Pieces that waited for their layer can be asked for now.
    for (const p of this.peers) this.updateInterest(p)
    this.fillAll()
    this.askHashes()
  }

  // --- downloading -----------------------------------------------------------------------

  private updateInterest(peer: Peer): void {
    if (peer.wire.destroyed || !peer.wire.remote) return
    const want = this.down !== null && this.down.interesting(peer)
    if (want === peer.amInterested) return
    peer.amInterested = want
    if (want) peer.wire.interested()
    else peer.wire.notInterested()
  }

  private fillAll(): void {
    this.down?.fillAll()
    this.askHashes()
  }

  /** A source of blocks besides peers (a web seed); only while downloading. */
  addSource(source: BlockSource): void {
    this.down?.addSource(source)
  }

  removeSource(source: BlockSource): void {
    this.down?.removeSource(source)
  }

  /** Blocks for a source (a web seed). */
  nextBlocks(source: BlockSource, max: number): Array<{ piece: number; offset: number; length: number }> {
    return this.stopped ? [] : (this.down?.nextBlocks(source, max) ?? [])
  }

  /** A block a source (a web seed) fetched. */
  onBlock(source: BlockSource, piece: number, offset: number, block: Buffer): void {
    this.down?.onBlock(source, piece, offset, block)
  }

  /** A source gives up on what it was given. */
  releaseBlocks(source: BlockSource): void {
    this.down?.picker.removeRequests(source)
  }

  private onWritten(piece: number, files: number[]): void {
    const store = this.store!
    for (const f of files) this.emit('file', f)
    if (store.servable(piece)) for (const p of this.peers) if (p.has !== 'all') p.wire.have(piece)
    this.emit('piece', piece)
    if (this.down?.done && !this.announcedDone) {
      this.announcedDone = true
      for (const p of this.peers) {
        if (p.amInterested) p.wire.notInterested()
        p.amInterested = false
      }
      this.emit('done')
    }
  }

  /** Every second: timeouts, rates; every rechoke period, the unchoked set. */
  private tick(): void {
    if (this.stopped) return
    this.ticks++
    this.down?.expire()
    if (this.ticks % 10 === 0) {
      for (const p of this.peers) p.sampleRates(10)
      this.upload.rechoke()
      for (const p of this.peers) this.updateInterest(p)
    }
    if (!this.meta) this.askMetadata()
    this.fillAll()
  }

  private ban(peer: Peer, reason: string): void {
    const who = this.peers.ban(peer, reason)
    this.emit('ban', who, reason)
    peer.wire.destroy(new WireError('BANNED', reason))
  }
}
