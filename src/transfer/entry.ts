import path from 'node:path'
import type { Metainfo } from './metainfo.js'
import { filePath } from './metainfo.js'
import type { SavedState, StoredTorrent, TransferStatus } from './state.js'
import type { PieceStore } from './storage.js'
import type { Torrent } from './engine/torrent.js'
import type { WebSeedSource } from './engine/webseeds.js'

/**
 * One torrent as the transfers layer keeps it: its saved state, metadata, and while running its
 * engine, store and web seeds; and the view of it the CLI and TUI show.
 */
export interface TransferView {
  infohash: string
  infohashV1: string | null
  infohashV2: string | null
  name: string
  role: 'shared' | 'fetched'
  status: TransferStatus
  reason: string | null
  /** Bytes of the selection, and of it verified. */
  size: number
  have: number
  peers: number
  /** Connected peers by kind: classic BitTorrent clients, Chrysalis nodes. */
  peerKinds: { bittorrent: number; chrysalis: number }
  /** Bytes per second, over the last seconds. */
  downloadRate: number
  uploadRate: number
  uploaded: number
  /** Bytes received since this node started the torrent (verified or not). */
  downloaded: number
  /** Bytes received per kind of source (this run). */
  sources: { peers: number; webSeeds: number }
  /** Peers banned this run (a piece from them failed its check, or their hashes lied). */
  banned: Array<{ peer: string; address: string | null; reason: string }>
  /** The download itself, this run: first data to complete (null until both happened). */
  seconds: number | null
  /** Where the data is: the shared path, or the file/directory fetched. */
  path: string | null
}

export interface Entry {
  state: SavedState
  meta: Metainfo | null
  torrent: Torrent | null
  store: PieceStore | null
  seeds: WebSeedSource[]
  /** Resolvers waiting for the download to complete. */
  waiters: Array<{ resolve: () => void; reject: (err: Error) => void }>
  rate: { down: number; up: number; lastDown: number; lastUp: number }
  /** Starving downloads look their topic up again, backing off from 2 s to a minute. */
  lookup: { next: number; every: number }
}

export function viewOf(entry: Entry): TransferView {
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
  const t = entry.torrent
  return {
    infohash: entry.state.infohash,
    infohashV1: entry.state.v1 ?? null,
    infohashV2: entry.state.v2 ?? null,
    name: meta?.name ?? '(waiting for metadata)',
    role: entry.state.role,
    status: entry.state.status,
    reason: entry.state.reason,
    size,
    have,
    peers: t?.peerCount ?? 0,
    peerKinds: t?.kindCounts() ?? { bittorrent: 0, chrysalis: 0 },
    downloadRate: Math.round(entry.rate.down),
    uploadRate: Math.round(entry.rate.up),
    uploaded: entry.torrent?.uploaded ?? 0,
    downloaded: t?.downloaded ?? 0,
    sources: { ...(t?.received ?? { peers: 0, webSeeds: 0 }) },
    banned: t ? [...t.bans] : [],
    seconds: t && t.firstDataAt !== null && t.doneAt !== null ? (t.doneAt - t.firstDataAt) / 1000 : null,
    path: where
  }
}

/** An exponential average of the bytes a running torrent moved, sampled each second. A resumed torrent counts from zero again. */
export function sampleRates(entry: Entry): void {
  const t = entry.torrent
  if (!t) return
  const r = entry.rate
  r.down = 0.6 * r.down + 0.4 * (t.downloaded >= r.lastDown ? t.downloaded - r.lastDown : t.downloaded)
  r.up = 0.6 * r.up + 0.4 * (t.uploaded >= r.lastUp ? t.uploaded - r.lastUp : t.uploaded)
  r.lastDown = t.downloaded
  r.lastUp = t.uploaded
}

/** An entry for a torrent this node has just made a state for (shared, fetched, or found damaged). */
export function newEntry(state: SavedState, meta: Metainfo | null): Entry {
  return { state, meta, torrent: null, store: null, seeds: [], waiters: [], rate: { down: 0, up: 0, lastDown: 0, lastUp: 0 }, lookup: { next: 0, every: 2000 } }
}

/** An entry for a torrent read back from disk: only a checked StoredTorrent (state.ts) makes one. */
export function restoredEntry(stored: StoredTorrent): Entry {
  return newEntry(stored.state, stored.meta)
}
