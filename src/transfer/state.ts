import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import type { Valid } from '../valid.js'
import { exists, writeFileAtomic } from '../fs.js'
import type { MagnetPeer } from './magnet.js'
import { type Metainfo, parseTorrent, torrentBytes } from './metainfo.js'
import type { FileSlot } from './storage.js'

/**
 * What a node keeps of each torrent across restarts, in HOME/torrents/<key>/ (key: the v2
 * infohash in hex, or the v1 one for a v1-only torrent): state.json, the .torrent once known, and
 * the resume log. Everything read back is checked before it is used; a folder that fails the
 * check is reported (a stopped torrent whose reason says what is wrong), never silently skipped.
 *
 *   const folders = new TorrentFolders(path.join(home, 'torrents'))
 *   for (const key of await folders.open()) use(await folders.read(key))   // StoredTorrent or why damaged
 *   await folders.save(state, meta)                                         // one write at a time per torrent
 */
export type TransferStatus = 'metadata' | 'downloading' | 'seeding' | 'paused' | 'stopped'

export interface SavedState {
  /** 2: partial data in OUT/.chrysalis-parts/<key>/ (1: as FINAL.chrysalis-part, no longer read). */
  version: 1 | 2
  infohash: string
  /** The torrent's hashes, hex (v1 SHA-1, v2 SHA-256), when known. */
  v1?: string | null
  v2?: string | null
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
  /** Where peers may be found besides the DHT and hyperswarm. */
  trackers?: string[]
  webSeeds?: string[]
  peers?: MagnetPeer[]
}

/** A state.json read back from disk and checked field by field: only readState makes one. */
export type StoredState = Valid<SavedState>

/** A torrent folder read back and checked: its state, and its .torrent when known (checked against the key). */
export interface StoredTorrent {
  state: StoredState
  meta: Metainfo | null
}

export const STATE = 'state.json'
export const TORRENT = 'torrent'
export const LOG = 'pieces.log'

export const KEY_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/

const STATUSES = new Set(['metadata', 'downloading', 'seeding', 'paused', 'stopped'])

function damaged(dir: string, what: string): ChrysalisError {
  return new ChrysalisError('BAD_STATE', `the saved state in ${dir} is damaged (${what}); cancel this torrent and add it again`)
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string')
const isHex = (v: unknown, n: number): boolean => v === null || v === undefined || (typeof v === 'string' && new RegExp(`^[0-9a-f]{${n}}$`).test(v))

/** Read and check a torrent's state.json. */
export async function readState(dir: string, key: string): Promise<StoredState> {
  let raw: unknown
  try {
    raw = JSON.parse(await fs.readFile(path.join(dir, STATE), 'utf-8'))
  } catch (err) {
    throw damaged(dir, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no state.json' : 'state.json is not JSON')
  }
  const s = raw as Record<string, unknown>
  if (typeof s !== 'object' || s === null) throw damaged(dir, 'not an object')
  if (s.infohash !== key) throw damaged(dir, 'its infohash is not its folder name')
  if (s.role !== 'shared' && s.role !== 'fetched') throw damaged(dir, 'role')
  if (typeof s.status !== 'string' || !STATUSES.has(s.status)) throw damaged(dir, 'status')
  if (s.out !== null && typeof s.out !== 'string') throw damaged(dir, 'out')
  if (s.role === 'fetched' && (typeof s.out !== 'string' || !path.isAbsolute(s.out))) throw damaged(dir, 'a download without its folder')
  if (!isStrings(s.select)) throw damaged(dir, 'select')
  const slot = (v: unknown): boolean => {
    const f = v as Record<string, unknown> | null
    return typeof f === 'object' && f !== null && typeof f.path === 'string' && path.isAbsolute(f.path) && typeof f.skip === 'boolean' && typeof f.done === 'boolean' && (f.mtimeMs === null || typeof f.mtimeMs === 'number')
  }
  if (!Array.isArray(s.files) || !s.files.every(slot)) {
    throw damaged(dir, 'files')
  }
  if (typeof s.addedAt !== 'number') throw damaged(dir, 'addedAt')
  if (s.reason !== null && typeof s.reason !== 'string') throw damaged(dir, 'reason')
  if (!isHex(s.v1, 40) || !isHex(s.v2, 64)) throw damaged(dir, 'infohashes')
  for (const k of ['trackers', 'webSeeds'] as const) if (s[k] !== undefined && !isStrings(s[k])) throw damaged(dir, k)
  const peer = (v: unknown): boolean => typeof (v as { host?: unknown } | null)?.host === 'string' && Number.isInteger((v as { port?: unknown }).port)
  if (s.peers !== undefined && !(Array.isArray(s.peers) && s.peers.every(peer))) throw damaged(dir, 'peers')
  const state = s as unknown as SavedState
  // Version 1 kept partial data beside the final names, where anything could sit: those part
  // files are never read again (a resumed download starts its unfinished files afresh).
  state.version = 2
  if (key.length === 64) state.v2 ??= key
  else state.v1 ??= key
  return state as StoredState
}

export async function writeState(dir: string, state: SavedState, torrent: Buffer | null): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  if (torrent && !(await exists(path.join(dir, TORRENT)))) await writeFileAtomic(path.join(dir, TORRENT), torrent, 0o600)
  await writeFileAtomic(path.join(dir, STATE), JSON.stringify(state), 0o600)
}

/** The state of a torrent whose folder is damaged: kept stopped, its reason saying what to do. */
export function damagedState(key: string, reason: string): SavedState {
  return { version: 2, infohash: key, role: 'fetched', status: 'stopped', out: null, select: [], files: [], addedAt: 0, reason }
}

/** A node's torrent folders (HOME/torrents/<key>/): read back checked, saved one write at a time per torrent. */
export class TorrentFolders {
  readonly dir: string
  /** Saves of one torrent run one after another, so the newest state is the one kept. */
  private readonly saving = new Map<string, Promise<unknown>>()

  constructor(dir: string) {
    this.dir = dir
  }

  /** Make the folder (owner-only, like the rest of HOME) and list the torrents kept in it. */
  async open(): Promise<string[]> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    return (await fs.readdir(this.dir)).filter((name) => KEY_RE.test(name))
  }

  /** One torrent's folder, checked: its state and .torrent, or why it is damaged (a line saying what to do). */
  async read(key: string): Promise<StoredTorrent | { damaged: string }> {
    const d = path.join(this.dir, key)
    try {
      const state = await readState(d, key)
      const raw = await fs.readFile(path.join(d, TORRENT)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)))
      const meta = raw ? parseTorrent(raw, { infohash: Buffer.from(key, 'hex'), v1: true, requireLayers: false, badLayer: 'drop' }) : null
      if (meta && state.files.length !== 0 && state.files.length !== meta.files.length) throw new ChrysalisError('BAD_STATE', `the saved state in ${d} does not match its torrent; cancel this torrent and add it again`)
      return { state, meta }
    } catch (err) {
      return { damaged: err instanceof ChrysalisError && err.code === 'BAD_STATE' ? err.message : `the torrent folder ${d} is damaged (${(err as Error).message}); cancel this torrent and add it again` }
    }
  }

  /** Write a torrent's state (and its .torrent, the first time), after any save of it still under way. */
  save(state: SavedState, meta: Metainfo | null): Promise<void> {
    const prev = this.saving.get(state.infohash) ?? Promise.resolve()
    const next = prev.catch(() => {}).then(() => writeState(path.join(this.dir, state.infohash), state, meta ? torrentBytes(meta) : null))
    this.saving.set(state.infohash, next)
    return next
  }

  /** Replace the kept .torrent: a magnet's metadata now has every piece layer. */
  keepTorrent(key: string, meta: Metainfo): Promise<void> {
    return writeFileAtomic(path.join(this.dir, key, TORRENT), torrentBytes(meta), 0o600)
  }

  /** The resume log's path; the file is created here, owner-only (the piece store appends to it). */
  async log(key: string): Promise<string> {
    const log = path.join(this.dir, key, LOG)
    await fs.mkdir(path.dirname(log), { recursive: true, mode: 0o700 })
    await (await fs.open(log, 'a', 0o600)).close()
    return log
  }

  /** Forget a torrent's folder. */
  remove(key: string): Promise<void> {
    return fs.rm(path.join(this.dir, key), { recursive: true, force: true })
  }
}
