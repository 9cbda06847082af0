import { EventEmitter } from 'node:events'
import fs from 'node:fs/promises'
import path from 'node:path'
import type Protomux from 'protomux'
import { ChrysalisError } from '../errors.js'
import { exists, writeFileAtomic } from '../fs.js'
import { torrentTopic } from '../net/topics.js'
import { createTorrent, type CreateOptions } from './create.js'
import { type Metainfo, filePath, parseTorrent, torrentBytes } from './metainfo.js'
import { TORRENT_PROTOCOL } from './messages.js'
import { type FileSlot, PARTS_DIR, PieceStore, type FileChangedError } from './storage.js'
import { removePrivateDir } from './safe-path.js'
import { Torrent, type TorrentPeerInfo } from './torrent.js'
import { type TorrentTarget, targetKey } from './target.js'

/**
 * Every torrent of a node: what it shares and fetches, kept across restarts in HOME/torrents/
 * (one directory per infohash: the .torrent, state.json, the resume log), seeded whenever the
 * node is online. The network side is a narrow interface so this layer does not own the swarm.
 *
 *   const transfers = await Transfers.open(path.join(home, 'torrents'))
 *   const { meta } = await transfers.share('/scans/kaypro.pdf')
 *   transfers.attach(network)                     // seeds and fetches from now on
 */
export interface TransferNet {
  on(event: 'connection', fn: (publicKey: Buffer, mux: Protomux) => void): unknown
  off(event: 'connection', fn: (publicKey: Buffer, mux: Protomux) => void): unknown
  connections(): Array<{ publicKey: Buffer; mux: Protomux }>
  joinTopic(topic: Buffer, opts: { server: boolean; client: boolean }): Promise<void>
  leaveTopic(topic: Buffer): Promise<void>
  refreshTopic(topic: Buffer): Promise<void>
}

export type TransferStatus = 'metadata' | 'downloading' | 'seeding' | 'paused' | 'stopped'

interface SavedState {
  /** 2: partial data in OUT/.chrysalis-parts/<infohash>/ (1: as FINAL.chrysalis-part, no longer read). */
  version: 1 | 2
  infohash: string
  role: 'shared' | 'fetched'
  status: TransferStatus
  /** Download directory (fetched torrents). */
  out: string | null
  /** Paths inside the torrent to fetch; empty = everything. */
  select: string[]
  files: FileSlot[]
  addedAt: number
  /** Why it stopped, in words. */
  reason: string | null
}

export interface TransferView {
  infohash: string
  name: string
  role: 'shared' | 'fetched'
  status: TransferStatus
  reason: string | null
  /** Bytes of the selection, and of it verified. */
  size: number
  have: number
  peers: number
  /** Bytes per second, over the last seconds. */
  downloadRate: number
  uploadRate: number
  uploaded: number
  /** Bytes received from peers since this node started the torrent (verified or not). */
  downloaded: number
  /** Where the data is: the shared path, or the file/directory fetched. */
  path: string | null
}

export interface TransferEvents {
  update: [TransferView]
  ban: [string, Buffer, string]
  changed: [string, FileChangedError]
}

interface Entry {
  state: SavedState
  meta: Metainfo | null
  torrent: Torrent | null
  store: PieceStore | null
  /** Resolvers waiting for the download to complete. */
  waiters: Array<{ resolve: () => void; reject: (err: Error) => void }>
  rate: { down: number; up: number; lastDown: number; lastUp: number }
  /** Starving downloads look their topic up again, backing off from 2 s to a minute. */
  lookup: { next: number; every: number }
}

const STATE = 'state.json'
const TORRENT = 'torrent'
const LOG = 'pieces.log'

export class Transfers extends EventEmitter<TransferEvents> {
  readonly dir: string
  private readonly entries = new Map<string, Entry>()
  private net: TransferNet | null = null
  private readonly onConnection = (publicKey: Buffer, mux: Protomux): void => this.connect(publicKey, mux)
  private ticker: NodeJS.Timeout | null = null
  private ticks = 0

  private constructor(dir: string) {
    super()
    this.dir = dir
  }

  static async open(dir: string): Promise<Transfers> {
    const t = new Transfers(dir)
    await fs.mkdir(dir, { recursive: true, mode: 0o700 }) // the torrents' state is the node's, owner-only like the rest of HOME
    for (const name of await fs.readdir(dir)) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue
      await t.load(name).catch(() => {})
    }
    return t
  }

  private async load(hex: string): Promise<void> {
    const d = path.join(this.dir, hex)
    const state = JSON.parse(await fs.readFile(path.join(d, STATE), 'utf-8')) as SavedState
    // Version 1 kept partial data beside the final names, where anything could sit: those part
    // files are never read again (a resumed download starts its unfinished files afresh).
    state.version = 2
    const raw = await fs.readFile(path.join(d, TORRENT)).catch(() => null)
    const meta = raw ? parseTorrent(raw, { infohash: Buffer.from(hex, 'hex') }) : null
    this.entries.set(hex, newEntry(state, meta))
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
      reason: null
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
    return this.entries.get(infohash.toString('hex'))?.meta ?? null
  }

  // --- fetching --------------------------------------------------------------------------

  /**
   * Fetch a torrent into `out`. With `meta` (from the author's feed) it starts at once; without,
   * the metadata comes from peers and is checked against the infohash. Resolves when every
   * selected file is complete and verified; the torrent keeps seeding afterwards.
   */
  async fetch(target: TorrentTarget, opts: { out: string; files?: string[] }): Promise<TransferView> {
    const hex = targetKey(target).toString('hex')
    const meta = target.meta
    let entry = this.entries.get(hex)
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
        reason: null
      }
      entry = newEntry(state, meta)
      if (entry.meta) this.layout(entry)
      await this.save(state, entry.meta)
      this.entries.set(hex, entry)
    } else if (entry.state.status === 'paused' || entry.state.status === 'stopped') {
      entry.state.status = entry.meta ? 'downloading' : 'metadata'
      entry.state.reason = null
      await this.save(entry.state, null)
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

  /** Choose final paths for the selection, refusing anything that escapes `out`. */
  private layout(entry: Entry): void {
    const meta = entry.meta!
    const out = entry.state.out!
    const select = entry.state.select
    const matched = new Set<string>()
    entry.state.files = meta.files.map((f) => {
      const rel = filePath(meta, f)
      const inside = f.path.join('/')
      const chosen = select.length === 0 || select.some((s) => {
        const hit = inside === s || inside.startsWith(s.replace(/\/$/, '') + '/') || rel.join('/') === s
        if (hit) matched.add(s)
        return hit
      })
      const full = path.resolve(out, ...rel)
      if (!full.startsWith(path.resolve(out) + path.sep)) throw new ChrysalisError('BAD_TORRENT', `the torrent's path ${rel.join('/')} escapes the download directory; it was refused`)
      if (rel[0]!.toLowerCase() === PARTS_DIR) throw new ChrysalisError('BAD_TORRENT', `the torrent's name ${rel[0]} is the folder kept for partial downloads; it was refused`)
      return { path: full, skip: !chosen, done: false, mtimeMs: null }
    })
    const missing = select.filter((s) => !matched.has(s))
    if (missing.length > 0) throw new ChrysalisError('NOT_FOUND', `the torrent has no file ${missing[0]}; see its files with \`chrysalis fetch ${meta.infohash.toString('hex')} --list\``)
    entry.state.status = 'downloading'
  }

  // --- running ---------------------------------------------------------------------------

  /** Go online: seed and fetch everything not paused, on this network. */
  attach(net: TransferNet): void {
    this.net = net
    net.on('connection', this.onConnection)
    for (const c of net.connections()) this.connect(c.publicKey, c.mux)
    // Torrents started while offline (a share before going online) announce now.
    for (const entry of this.entries.values()) this.announce(entry)
    this.ticker ??= setInterval(() => this.tick(), 1000)
    this.ticker.unref()
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
    const torrent = new Torrent(Buffer.from(entry.state.infohash, 'hex'), { meta: entry.meta })
    entry.torrent = torrent
    // Events of a torrent already stopped (paused, removed, replaced) change nothing.
    const current = (): boolean => entry.torrent === torrent
    const fail = (err: unknown): void => {
      if (current()) void this.stopWith(entry, err)
    }
    torrent.on('metadata', (meta) => {
      if (current()) void this.onMetadata(entry, meta)
    })
    torrent.on('ban', (pk, reason) => this.emit('ban', entry.state.infohash, pk, reason))
    torrent.on('changed', (err) => {
      if (!current()) return
      void this.stopWith(entry, err)
      this.emit('changed', entry.state.infohash, err)
    })
    torrent.on('error', fail)
    torrent.on('file', () => {
      // A finished file is at its final path: the state must say so before anything else happens.
      if (current()) void this.save(entry.state, null).catch(fail)
    })
    torrent.on('done', () => {
      if (current()) void this.onDone(entry).catch(fail)
    })
    torrent.on('piece', () => this.emit('update', this.view(entry)))
    if (entry.meta) {
      try {
        await this.openStore(entry)
      } catch (err) {
        await this.stopWith(entry, err)
        throw err
      }
    }
    this.announce(entry)
  }

  /** On the network: open the torrent on existing connections and join its topic. */
  private announce(entry: Entry): void {
    const torrent = entry.torrent
    if (!this.net || !torrent) return
    const downloading = entry.state.status !== 'seeding'
    // Seeders wait for downloaders to open the channel (Transfers.connect pairs them).
    if (downloading) for (const c of this.net.connections()) torrent.attach(c.publicKey, c.mux)
    void this.net.joinTopic(torrentTopic(torrent.infohash), { server: true, client: downloading }).catch(() => {})
  }

  private async openStore(entry: Entry): Promise<void> {
    const log = path.join(this.dir, entry.state.infohash, LOG)
    await fs.mkdir(path.dirname(log), { recursive: true, mode: 0o700 })
    await (await fs.open(log, 'a', 0o600)).close() // created owner-only here: PieceStore appends to it
    const out = entry.state.role === 'fetched' ? entry.state.out : null
    const store = new PieceStore(entry.meta!, entry.state.files, log, out)
    await store.open()
    await store.prepare()
    entry.store = store
    entry.torrent!.setStore(entry.meta!, store)
    if (store.complete()) {
      await this.onDone(entry)
      return
    }
    entry.torrent!.download()
  }

  private async onMetadata(entry: Entry, meta: Metainfo): Promise<void> {
    if (entry.meta) return
    try {
      entry.meta = meta
      this.layout(entry)
      await this.save(entry.state, meta)
      await this.openStore(entry)
    } catch (err) {
      await this.stopWith(entry, err)
    }
  }

  private async onDone(entry: Entry): Promise<void> {
    entry.state.status = 'seeding'
    await this.save(entry.state, null)
    this.emit('update', this.view(entry))
    for (const w of entry.waiters.splice(0)) w.resolve()
  }

  private async stopWith(entry: Entry, err: unknown): Promise<void> {
    const error = err instanceof Error ? err : new Error(String(err))
    entry.state.status = 'stopped'
    entry.state.reason = error.message
    entry.torrent?.stop()
    entry.torrent = null
    await entry.store?.close()
    entry.store = null
    await this.save(entry.state, null).catch(() => {})
    this.emit('update', this.view(entry))
    for (const w of entry.waiters.splice(0)) w.reject(error)
  }

  private connect(publicKey: Buffer, mux: Protomux): void {
    // Channels a peer opens for torrents we have; the ones we fetch we open ourselves.
    mux.pair({ protocol: TORRENT_PROTOCOL }, (id) => {
      const entry = id ? this.entries.get(Buffer.from(id).toString('hex')) : undefined
      entry?.torrent?.attach(publicKey, mux)
    })
    for (const entry of this.entries.values()) {
      if (entry.torrent && entry.state.status !== 'seeding') entry.torrent.attach(publicKey, mux)
    }
  }

  private tick(): void {
    const net = this.net
    // Peers that had not got a torrent when we asked may have it now: ask again now and then.
    if (net && ++this.ticks % 5 === 0) {
      for (const entry of this.entries.values()) {
        if (!entry.torrent || entry.state.status === 'seeding') continue
        for (const c of net.connections()) entry.torrent.attach(c.publicKey, c.mux)
      }
    }
    // Seeders that arrived after our lookup: look again while a download has no peer.
    const now = Date.now()
    for (const entry of this.entries.values()) {
      const t = entry.torrent
      if (!net || !t || entry.state.status === 'seeding') continue
      if (t.peerCount > 0) {
        entry.lookup = { next: 0, every: 2000 }
        continue
      }
      if (entry.lookup.next === 0) entry.lookup.next = now + entry.lookup.every
      if (now < entry.lookup.next) continue
      entry.lookup.every = Math.min(60_000, entry.lookup.every * 2)
      entry.lookup.next = now + entry.lookup.every
      void net.refreshTopic(torrentTopic(t.infohash)).catch(() => {})
    }
    for (const entry of this.entries.values()) {
      const t = entry.torrent
      if (!t) continue
      const r = entry.rate
      // An exponential average over a few seconds. A resumed torrent counts from zero again.
      r.down = 0.6 * r.down + 0.4 * (t.downloaded >= r.lastDown ? t.downloaded - r.lastDown : t.downloaded)
      r.up = 0.6 * r.up + 0.4 * (t.uploaded >= r.lastUp ? t.uploaded - r.lastUp : t.uploaded)
      r.lastDown = t.downloaded
      r.lastUp = t.uploaded
    }
  }

  // --- control ---------------------------------------------------------------------------

  async pause(infohash: Buffer): Promise<TransferView> {
    const entry = this.require(infohash)
    entry.torrent?.stop()
    entry.torrent = null
    await entry.store?.close()
    entry.store = null
    entry.state.status = 'paused'
    await this.save(entry.state, null)
    for (const w of entry.waiters.splice(0)) w.reject(new ChrysalisError('TRANSFER_FAILED', 'the download was paused; resume it with `chrysalis fetch` again'))
    if (this.net) await this.net.leaveTopic(torrentTopic(infohash)).catch(() => {})
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
    await fs.rm(path.join(this.dir, entry.state.infohash), { recursive: true, force: true })
    for (const w of entry.waiters.splice(0)) w.reject(new ChrysalisError('TRANSFER_FAILED', 'the download was cancelled'))
  }

  private async drop(entry: Entry): Promise<void> {
    entry.torrent?.stop()
    entry.torrent = null
    await entry.store?.close()
    entry.store = null
    if (this.net) await this.net.leaveTopic(torrentTopic(Buffer.from(entry.state.infohash, 'hex'))).catch(() => {})
  }

  private require(infohash: Buffer): Entry {
    const entry = this.entries.get(infohash.toString('hex'))
    if (!entry) throw new ChrysalisError('NOT_FOUND', `no torrent ${infohash.toString('hex').slice(0, 16)}… here; see \`chrysalis downloads\` and \`chrysalis seeding\``)
    return entry
  }

  /** Per-peer counters of a running torrent. */
  peerStats(infohash: Buffer): TorrentPeerInfo[] {
    return this.entries.get(infohash.toString('hex'))?.torrent?.peerList() ?? []
  }

  get(infohash: Buffer): TransferView | null {
    const entry = this.entries.get(infohash.toString('hex'))
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
    const meta = entry.meta
    let size = 0
    let have = 0
    if (meta) {
      meta.files.forEach((f, i) => {
        const slot = entry.state.files[i]
        if (!slot || slot.skip) return
        size += f.length
        if (slot.done) have += f.length
      })
      // Running: the store counts verified bytes as pieces arrive (a view per piece stays cheap).
      if (entry.store) have = entry.store.haveBytes
    }
    let where: string | null = null
    if (entry.state.role === 'shared') where = meta?.multi ? path.dirname(entry.state.files[0]!.path) : (entry.state.files[0]?.path ?? null)
    else if (meta && entry.state.out) where = path.join(entry.state.out, meta.multi ? meta.name : filePath(meta, meta.files[0]!).join('/'))
    return {
      infohash: entry.state.infohash,
      name: meta?.name ?? '(waiting for metadata)',
      role: entry.state.role,
      status: entry.state.status,
      reason: entry.state.reason,
      size,
      have,
      peers: entry.torrent?.peerCount ?? 0,
      downloadRate: Math.round(entry.rate.down),
      uploadRate: Math.round(entry.rate.up),
      uploaded: entry.torrent?.uploaded ?? 0,
      downloaded: entry.torrent?.downloaded ?? 0,
      path: where
    }
  }

  /** Saves of one torrent run one after another, so the newest state is the one kept. */
  private saving = new Map<string, Promise<unknown>>()

  private save(state: SavedState, meta: Metainfo | null): Promise<void> {
    const prev = this.saving.get(state.infohash) ?? Promise.resolve()
    const next = prev.catch(() => {}).then(() => this.write(state, meta))
    this.saving.set(state.infohash, next)
    return next
  }

  private async write(state: SavedState, meta: Metainfo | null): Promise<void> {
    const d = path.join(this.dir, state.infohash)
    await fs.mkdir(d, { recursive: true, mode: 0o700 })
    if (meta && !(await exists(path.join(d, TORRENT)))) await writeFileAtomic(path.join(d, TORRENT), torrentBytes(meta), 0o600)
    await writeFileAtomic(path.join(d, STATE), JSON.stringify(state), 0o600)
  }

  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker)
    this.ticker = null
    this.net?.off('connection', this.onConnection)
    this.net = null
    for (const entry of this.entries.values()) {
      const running = entry.torrent !== null
      entry.torrent?.stop()
      entry.torrent = null
      await entry.store?.close()
      entry.store = null
      if (running) await this.save(entry.state, null).catch(() => {})
      for (const w of entry.waiters.splice(0)) w.reject(new ChrysalisError('TRANSFER_FAILED', 'the node closed before the download finished; run the fetch again to resume'))
    }
  }
}

/**
 * The download folder, resolved once: it is the user's choice and may be a symlink (~/Downloads
 * to /data); everything below it is checked without following symlinks (safe-path.ts).
 */
async function downloadFolder(out: string): Promise<string> {
  const dir = path.resolve(out)
  try {
    await fs.mkdir(dir, { recursive: true })
    return await fs.realpath(dir)
  } catch (err) {
    throw new ChrysalisError('BAD_INPUT', `cannot use ${dir} as the download folder (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another with --out`, { cause: err })
  }
}

function newEntry(state: SavedState, meta: Metainfo | null): Entry {
  return { state, meta, torrent: null, store: null, waiters: [], rate: { down: 0, up: 0, lastDown: 0, lastUp: 0 }, lookup: { next: 0, every: 2000 } }
}
