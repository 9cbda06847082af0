import crypto from 'node:crypto'
import { ChrysalisError } from '../errors.js'
import { createTorrent, type CreateOptions } from './create.js'
import { type Metainfo, torrentBytes } from './metainfo.js'
import { type Entry, type TransferView, newEntry, restoredEntry, viewOf } from './entry.js'
import { PieceStore, type FileChangedError } from './storage.js'
import { removePrivateDir } from './safe-path.js'
import { downloadFolder, layoutFiles } from './layout.js'
import { type TorrentTarget, targetKey } from './target.js'
import type { BtOptions, BtStatus } from './bt-options.js'
import { PEER_ID_PREFIX } from './engine/peer.js'
import { Torrent, type TorrentPeerInfo } from './engine/torrent.js'
import { WebSeedSource } from './engine/webseeds.js'
import { type TransferNet, TransfersOnline } from './online.js'
import { type SavedState, type TransferStatus, TorrentFolders, damagedState } from './state.js'
import { Resource } from '../lifecycle.js'

export type { TransferNet, TransferStatus, TorrentPeerInfo, TransferView }

/**
 * Every torrent of a node: what it shares and fetches, kept across restarts in HOME/torrents/
 * (state.ts), seeded whenever the node is online, over the standard BitTorrent wire on TCP and on
 * hyperswarm connections between Chrysalis peers, found through the mainline DHT, trackers, web
 * seeds and hyperswarm topics. This class keeps the torrents and runs each one's life (start,
 * metadata, done, pause, remove); their folders on disk are state.ts's (TorrentFolders), the
 * networks online.ts's (TransfersOnline), each running torrent engine/torrent.ts's.
 *
 *   const transfers = await Transfers.open(path.join(home, 'torrents'))
 *   const { meta } = await transfers.share('/scans/kaypro.pdf')
 *   await transfers.attach(network, { port: 6881 })   // seeds and fetches from now on
 */
export interface TransferEvents {
  update: [TransferView]
  ban: [string, string, string]
  changed: [string, FileChangedError]
}

/** Every torrent of a node, each one's life from share or fetch to remove. */
export class Transfers extends Resource<TransferEvents> {
  readonly dir: string
  readonly peerId: Buffer = Buffer.concat([PEER_ID_PREFIX, crypto.randomBytes(12)])
  private readonly entries = new Map<string, Entry>()
  private readonly folders: TorrentFolders
  private readonly online: TransfersOnline

  private constructor(dir: string) {
    super()
    this.dir = dir
    this.folders = new TorrentFolders(dir)
    this.online = new TransfersOnline(this.peerId, { entries: () => this.entries.values(), find: (h) => this.find(h)?.torrent ?? null })
  }

  static async open(dir: string): Promise<Transfers> {
    const t = new Transfers(dir)
    await t.ready()
    return t
  }

  protected async _open(): Promise<void> {
    // A damaged folder is kept as a stopped torrent that says what is wrong.
    for (const key of await this.folders.open()) {
      const stored = await this.folders.read(key)
      this.entries.set(key, 'damaged' in stored ? newEntry(damagedState(key, stored.damaged), null) : restoredEntry(stored))
    }
  }

  // --- sharing ---------------------------------------------------------------------------

  /** Hash PATH into a torrent and seed it from where it is. */
  async share(input: string, opts: CreateOptions = {}): Promise<{ meta: Metainfo; view: TransferView }> {
    const { meta, sources } = await createTorrent(input, opts)
    const hex = meta.infohash.toString('hex')
    const existing = this.entries.get(hex)
    if (existing && existing.state.status !== 'stopped') return { meta, view: this.view(existing) }
    const state: SavedState = {
      version: 2,
      infohash: hex,
      role: 'shared',
      status: 'seeding',
      out: null,
      select: [],
      files: meta.files.map((f, i) => ({ path: sources[i]!.file, skip: false, done: true, mtimeMs: sources[i]!.mtimeMs })),
      addedAt: Date.now(),
      reason: null,
      v1: meta.infohashV1?.toString('hex') ?? null,
      v2: meta.infohashV2?.toString('hex') ?? null,
      trackers: this.online.btOptions.trackers ?? []
    }
    await this.save(state, meta)
    if (existing) await this.drop(existing)
    const entry = newEntry(state, meta)
    this.entries.set(hex, entry)
    await this.start(entry)
    return { meta, view: this.view(entry) }
  }

  /** Keep a torrent's metadata (from a feed or a file) without fetching it. */
  metadata(infohash: Buffer): Metainfo | null {
    return this.find(infohash)?.meta ?? null
  }

  /** The torrent a hash names: its key, its v1 or v2 infohash, or the truncated v2 one. */
  private find(hash: Buffer): Entry | undefined {
    const hex = hash.toString('hex')
    const direct = this.entries.get(hex)
    if (direct) return direct
    for (const e of this.entries.values()) {
      if (e.state.v1 === hex || e.state.v2 === hex || (hex.length === 40 && e.state.v2?.startsWith(hex))) return e
    }
    return undefined
  }

  // --- fetching --------------------------------------------------------------------------

  /**
   * Fetch a torrent into `out`. With `meta` (from the author's feed) it starts at once; without,
   * the metadata comes from peers and is checked against the infohash. Resolves when every
   * selected file is complete and verified; the torrent keeps seeding afterwards.
   */
  async fetch(target: TorrentTarget, opts: { out: string; files?: string[] }): Promise<TransferView> {
    const meta = target.meta
    if (meta && ((target.v1 && !meta.infohashV1?.equals(target.v1)) || (target.v2 && !meta.infohashV2?.equals(target.v2)))) {
      throw new ChrysalisError('BAD_TORRENT', 'the torrent does not match the infohash asked for; it was refused')
    }
    const v1 = target.v1 ?? meta?.infohashV1 ?? null
    const v2 = target.v2 ?? meta?.infohashV2 ?? null
    let entry = (v2 && this.find(v2)) || (v1 && this.find(v1)) || undefined
    const hex = entry?.state.infohash ?? targetKey({ v1, v2 }).toString('hex')
    if (entry?.state.status === 'seeding') return this.view(entry) // shared or fetched already
    if (!entry) {
      const state: SavedState = {
        version: 2,
        infohash: hex,
        role: 'fetched',
        status: 'metadata',
        out: await downloadFolder(opts.out),
        select: opts.files ?? [],
        files: [],
        addedAt: Date.now(),
        reason: null,
        v1: v1?.toString('hex') ?? null,
        v2: v2?.toString('hex') ?? null,
        trackers: target.trackers,
        webSeeds: target.webSeeds,
        peers: target.peers
      }
      entry = newEntry(state, meta)
      if (entry.meta) this.layout(entry)
      await this.save(state, entry.meta)
      this.entries.set(hex, entry)
    } else {
      // Sources named again (a magnet's trackers, --peer) add to those known.
      const s = entry.state
      s.trackers = [...new Set([...(s.trackers ?? []), ...target.trackers])]
      s.webSeeds = [...new Set([...(s.webSeeds ?? []), ...target.webSeeds])]
      s.peers = [...(s.peers ?? []), ...target.peers.filter((p) => !(s.peers ?? []).some((q) => q.host === p.host && q.port === p.port))]
      if (s.status === 'paused' || s.status === 'stopped') {
        s.status = entry.meta ? 'downloading' : 'metadata'
        s.reason = null
      }
      await this.save(s, null)
    }
    if (!entry.meta && meta) {
      if (entry.torrent) {
        await this.onMetadata(entry, meta) // running and still waiting for peers' metadata
      } else {
        entry.meta = meta
        this.layout(entry)
        await this.save(entry.state, entry.meta)
      }
    }
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }))
    // A start that fails (a path refused on resume) rejects `done` too and throws the same error.
    done.catch(() => {})
    await this.start(entry)
    await done
    return this.view(entry)
  }

  /** Choose final paths for the selection (layout.ts), refusing anything that escapes `out`. */
  private layout(entry: Entry): void {
    entry.state.files = layoutFiles(entry.meta!, entry.state.out!, entry.state.select)
    entry.state.status = 'downloading'
  }

  // --- running ---------------------------------------------------------------------------

  /**
   * Go online: listen for BitTorrent peers on TCP (unless encrypted-only), join the mainline DHT
   * when configured, and seed and fetch everything not paused, on this hyperswarm network too.
   */
  async attach(net: TransferNet, bt: BtOptions = {}): Promise<void> {
    await this.online.attach(net, bt)
  }

  /** The BitTorrent side, for `status` (offline: no port, nothing running). */
  btStatus(): BtStatus {
    return this.online.status()
  }

  /** Start every torrent that should run (after a restart). */
  async resumeAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      if (entry.state.status === 'paused' || entry.state.status === 'stopped') continue
      await this.start(entry).catch((err: unknown) => this.stopWith(entry, err))
    }
  }

  private async start(entry: Entry): Promise<void> {
    if (entry.torrent) return
    const s = entry.state
    const torrent = new Torrent({
      v1: s.v1 ? Buffer.from(s.v1, 'hex') : (entry.meta?.infohashV1 ?? null),
      v2: s.v2 ? Buffer.from(s.v2, 'hex') : (entry.meta?.infohashV2 ?? null),
      meta: entry.meta,
      peerId: this.peerId,
      listenPort: () => this.online.port,
      dialTcp: (host, port) => this.online.dial(torrent, host, port)
    })
    entry.torrent = torrent
    // Events of a torrent already stopped (paused, removed, replaced) change nothing.
    const current = (): boolean => entry.torrent === torrent
    const fail = (err: unknown): void => {
      if (current()) void this.stopWith(entry, err)
    }
    torrent.on('metadata', (meta) => {
      if (current()) void this.onMetadata(entry, meta)
    })
    torrent.on('ban', (who, reason) => this.emit('ban', s.infohash, who, reason))
    torrent.on('changed', (err) => {
      if (!current()) return
      void this.stopWith(entry, err)
      this.emit('changed', s.infohash, err)
    })
    torrent.on('error', fail)
    torrent.on('file', () => {
      // A finished file is at its final path: the state must say so before anything else happens.
      if (current()) void this.save(s, null).catch(fail)
    })
    torrent.on('done', () => {
      if (current()) void this.onDone(entry).catch(fail)
    })
    torrent.on('piece', () => this.emit('update', this.view(entry)))
    torrent.on('layers', () => {
      // The .torrent kept so far had no piece layers (a magnet): keep the complete one.
      if (current() && entry.meta) void this.folders.keepTorrent(s.infohash, entry.meta).catch(() => {})
    })
    if (entry.meta) {
      try {
        await this.openStore(entry)
      } catch (err) {
        await this.stopWith(entry, err)
        throw err
      }
    }
    this.online.announce(entry)
  }

  private async openStore(entry: Entry): Promise<void> {
    const log = await this.folders.log(entry.state.infohash)
    const out = entry.state.role === 'fetched' ? entry.state.out : null
    const store = new PieceStore(entry.meta!, entry.state.files, log, out, Buffer.from(entry.state.infohash, 'hex'))
    await store.open()
    await store.prepare()
    entry.store = store
    const torrent = entry.torrent!
    torrent.setStore(entry.meta!, store)
    if (store.complete()) {
      await this.onDone(entry)
      return
    }
    torrent.download()
    // Web seeds are only useful once the layout is known, and (encrypted-only) never used.
    if (!this.online.btOptions.encryptedOnly) {
      for (const url of entry.state.webSeeds ?? []) {
        const seed = new WebSeedSource(torrent, store.map, url)
        entry.seeds.push(seed)
        torrent.addSource(seed)
      }
    }
  }

  private async onMetadata(entry: Entry, meta: Metainfo): Promise<void> {
    if (entry.meta) return
    try {
      entry.meta = meta
      entry.state.v1 ??= meta.infohashV1?.toString('hex') ?? null
      entry.state.v2 ??= meta.infohashV2?.toString('hex') ?? null
      this.layout(entry)
      await this.save(entry.state, meta)
      await this.openStore(entry)
    } catch (err) {
      await this.stopWith(entry, err)
    }
  }

  private async onDone(entry: Entry): Promise<void> {
    entry.state.status = 'seeding'
    this.stopSeeds(entry)
    await this.save(entry.state, null)
    this.online.completed(entry)
    this.emit('update', this.view(entry))
    for (const w of entry.waiters.splice(0)) w.resolve()
  }

  private stopSeeds(entry: Entry): void {
    for (const seed of entry.seeds.splice(0)) {
      entry.torrent?.removeSource(seed)
      seed.stop()
    }
  }

  /** The one teardown of a running torrent: connections, sources, announces, files. */
  private async halt(entry: Entry): Promise<void> {
    this.stopSeeds(entry)
    this.online.stopFinding(entry)
    entry.torrent?.stop()
    entry.torrent = null
    await entry.store?.close()
    entry.store = null
  }

  private async stopWith(entry: Entry, err: unknown): Promise<void> {
    const error = err instanceof Error ? err : new Error(String(err))
    entry.state.status = 'stopped'
    entry.state.reason = error.message
    await this.halt(entry)
    await this.save(entry.state, null).catch(() => {})
    this.emit('update', this.view(entry))
    for (const w of entry.waiters.splice(0)) w.reject(error)
  }

  // --- control ---------------------------------------------------------------------------

  async pause(infohash: Buffer): Promise<TransferView> {
    const entry = this.require(infohash)
    await this.halt(entry)
    entry.state.status = 'paused'
    await this.save(entry.state, null)
    for (const w of entry.waiters.splice(0)) w.reject(new ChrysalisError('TRANSFER_FAILED', 'the download was paused; resume it with `chrysalis fetch` again'))
    await this.online.leave(entry)
    return this.view(entry)
  }

  async resume(infohash: Buffer): Promise<TransferView> {
    const entry = this.require(infohash)
    if (entry.state.status === 'paused' || entry.state.status === 'stopped') {
      entry.state.status = entry.meta ? (entry.state.files.every((f) => f.skip || f.done) ? 'seeding' : 'downloading') : 'metadata'
      entry.state.reason = null
      await this.save(entry.state, null)
      await this.start(entry)
    }
    return this.view(entry)
  }

  /**
   * Forget a torrent; a partial download's private directory (OUT/.chrysalis-parts/<infohash>)
   * is removed, without following symlinks; complete files are kept.
   */
  async remove(infohash: Buffer): Promise<void> {
    const entry = this.require(infohash)
    await this.drop(entry)
    if (entry.state.role === 'fetched' && entry.state.out) await removePrivateDir(entry.state.out, entry.state.infohash).catch(() => {})
    this.entries.delete(entry.state.infohash)
    await this.folders.remove(entry.state.infohash)
    for (const w of entry.waiters.splice(0)) w.reject(new ChrysalisError('TRANSFER_FAILED', 'the download was cancelled'))
  }

  private async drop(entry: Entry): Promise<void> {
    await this.halt(entry)
    await this.online.leave(entry)
  }

  private require(infohash: Buffer): Entry {
    const entry = this.find(infohash)
    if (!entry) throw new ChrysalisError('NOT_FOUND', `no torrent ${infohash.toString('hex').slice(0, 16)}… here; see \`chrysalis downloads\` and \`chrysalis seeding\``)
    return entry
  }

  /** Per-peer counters of a running torrent. */
  peerStats(infohash: Buffer): TorrentPeerInfo[] {
    const entry = this.find(infohash)
    const peers = entry?.torrent?.peerList() ?? []
    for (const seed of entry?.seeds ?? []) {
      peers.push({ id: seed.id, address: seed.url, client: null, kind: 'webseed', transport: 'http', pieces: 0, downloaded: seed.downloaded, uploaded: 0 })
    }
    return peers
  }

  get(infohash: Buffer): TransferView | null {
    const entry = this.find(infohash)
    return entry ? this.view(entry) : null
  }

  /** The .torrent of a torrent this node has the metadata of. */
  torrentFile(infohash: Buffer): Buffer | null {
    const meta = this.metadata(infohash)
    return meta ? torrentBytes(meta) : null
  }

  list(): TransferView[] {
    return [...this.entries.values()].sort((a, b) => b.state.addedAt - a.state.addedAt).map((e) => this.view(e))
  }

  view(entry: Entry): TransferView {
    return viewOf(entry)
  }


  private save(state: SavedState, meta: Metainfo | null): Promise<void> {
    return this.folders.save(state, meta)
  }

  protected async _close(): Promise<void> {
    this.online.detach()
    for (const entry of this.entries.values()) {
      const running = entry.torrent !== null
      await this.halt(entry)
      if (running) await this.save(entry.state, null).catch(() => {})
      for (const w of entry.waiters.splice(0)) w.reject(new ChrysalisError('TRANSFER_FAILED', 'the node closed before the download finished; run the fetch again to resume'))
    }
    await this.online.close()
  }
}
