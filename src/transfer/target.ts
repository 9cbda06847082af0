import type { Magnet, MagnetPeer } from './magnet.js'
import type { Metainfo, TorrentExtras } from './metainfo.js'

/**
 * What a fetch names, whatever it came from (a magnet, a .torrent, a bare v1 or v2 infohash, a
 * post's attachment): the hashes known, the metadata when at hand, and where peers may be found.
 * The engine keys a torrent by `targetKey()`: the v2 infohash when known, else the v1 one.
 *
 *   const t = targetFromMagnet(readMagnet(link))
 *   await transfers.fetch(t, { out })
 */
export interface TorrentTarget {
  /** SHA-1 infohash (20 bytes), when known. */
  v1: Buffer | null
  /** SHA-256 infohash (32 bytes), when known. */
  v2: Buffer | null
  /** A display name (a hint: the metadata's own name wins). */
  name: string | null
  /** The metadata, when known (from a .torrent or the author's feed): checked against v1/v2. */
  meta: Metainfo | null
  /** Tracker announce URLs (http, https, udp). */
  trackers: string[]
  /** BEP 19 web seed URLs. */
  webSeeds: string[]
  /** Peers to connect to by address (x.pe, --peer). */
  peers: MagnetPeer[]
}

/** The key a torrent is kept under: its v2 infohash when it has one, else its v1 infohash. */
export function targetKey(t: Pick<TorrentTarget, 'v1' | 'v2'>): Buffer {
  const key = t.v2 ?? t.v1
  if (!key) throw new RangeError('a torrent target needs a v1 or a v2 infohash')
  return key
}

export function targetFromMagnet(m: Magnet): TorrentTarget {
  return { v1: m.infohashV1, v2: m.infohashV2, name: m.name, meta: null, trackers: m.trackers, webSeeds: m.webSeeds, peers: m.peers }
}

export function targetFromMeta(meta: Metainfo, extras: Partial<Pick<TorrentExtras, 'trackers' | 'webSeeds'>> = {}): TorrentTarget {
  return { v1: meta.infohashV1, v2: meta.infohashV2, name: meta.name, meta, trackers: extras.trackers ?? [], webSeeds: extras.webSeeds ?? [], peers: [] }
}

/** A bare infohash: 40 hex (v1) or 64 hex (v2). */
export function targetFromHash(hash: Buffer): TorrentTarget {
  if (hash.length !== 20 && hash.length !== 32) throw new RangeError('an infohash is 20 (v1) or 32 (v2) bytes')
  return { v1: hash.length === 20 ? hash : null, v2: hash.length === 32 ? hash : null, name: null, meta: null, trackers: [], webSeeds: [], peers: [] }
}
