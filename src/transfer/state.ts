import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { exists, writeFileAtomic } from '../fs.js'
import type { MagnetPeer } from './magnet.js'
import type { FileSlot } from './storage.js'

/**
 * What a node keeps of each torrent across restarts, in HOME/torrents/<key>/ (key: the v2
 * infohash in hex, or the v1 one for a v1-only torrent): state.json, the .torrent once known, and
 * the resume log. Everything read back is checked before it is used; a folder that fails the
 * check is reported (a stopped torrent whose reason says what is wrong), never silently skipped.
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
export async function readState(dir: string, key: string): Promise<SavedState> {
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
  return state
}

export async function writeState(dir: string, state: SavedState, torrent: Buffer | null): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  if (torrent && !(await exists(path.join(dir, TORRENT)))) await writeFileAtomic(path.join(dir, TORRENT), torrent, 0o600)
  await writeFileAtomic(path.join(dir, STATE), JSON.stringify(state), 0o600)
}
