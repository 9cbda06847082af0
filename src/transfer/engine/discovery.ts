import type { MagnetPeer } from '../magnet.js'
import { DhtAnnouncer } from '../discovery/dht-announcer.js'
import { dhtHashes, type MainlineDht } from '../discovery/dht.js'
import { Announcer, normalizeTiers, ANNOUNCER_LIMITS } from '../discovery/announcer.js'
import type { Connections } from './connections.js'
import type { Torrent } from './torrent.js'

/**
 * Finding BitTorrent peers for each torrent: announcing on the mainline DHT (v1 hash and
 * truncated v2 hash, as libtorrent does) and to the torrent's trackers, looking peers up while a
 * download has few, and dialling what is found, plus peers given by address (x.pe, --peer).
 * Hyperswarm topics are the transfers layer's business. Nothing here runs in encrypted-only mode.
 *
 *   const finder = new PeerFinder({ dht, connections, port: () => 6881, peerId })
 *   finder.start(hex, torrent, { trackers, peers, downloading: true, left: () => n })
 */
export const FINDER_LIMITS = {
  /** A download with fewer peers than this looks for more. */
  wantPeers: 8,
  /** First lookup delay after a lookup, doubling up to `maxLookupEveryMs`. */
  lookupEveryMs: 5_000,
  maxLookupEveryMs: 300_000,
  /** One DHT lookup's deadline. */
  lookupTimeoutMs: 20_000,
  /** Peers given by address are dialled again this often while not connected, */
  redialMs: 15_000,
  /** or this often while the torrent has no peer at all. */
  redialAloneMs: 2_000
} as const

interface Entry {
  torrent: Torrent
  hashes: Buffer[]
  peers: MagnetPeer[]
  tracker: Announcer | null
  downloading: boolean
  nextLookup: number
  lookupEvery: number
  looking: boolean
  nextDial: number
}

export interface PeerFinderOptions {
  dht: MainlineDht | null
  connections: Connections
  /** Our TCP port (null: none, so nothing is announced). */
  port: () => number | null
  peerId: Buffer
  /** Told about tracker warnings and failures (one line each). */
  onMessage?: (text: string) => void
}

/** Finds BitTorrent peers for each torrent (DHT, trackers, given addresses) and dials them. */
export class PeerFinder {
  private readonly opts: PeerFinderOptions
  private readonly announcer: DhtAnnouncer | null
  private readonly entries = new Map<string, Entry>()
  private closed = false

  constructor(opts: PeerFinderOptions) {
    this.opts = opts
    this.announcer = opts.dht ? new DhtAnnouncer(opts.dht) : null
  }

  start(key: string, torrent: Torrent, info: { trackers: string[]; peers: MagnetPeer[]; downloading: boolean; left: () => number }): void {
    this.stop(key)
    const hashes = dhtHashes({ v1: torrent.v1, v2: torrent.v2 })
    const port = this.opts.port()
    let tracker: Announcer | null = null
    if (port !== null && info.trackers.length > 0) {
      tracker = new Announcer({
        peerId: this.opts.peerId,
        onPeers: (peers) => {
          for (const p of peers) this.opts.connections.dial(torrent, p.host, p.port)
        },
        onMessage: (m) => this.opts.onMessage?.(m.text)
      })
      tracker.start(
        { infohashes20: hashes, port, left: info.left, uploaded: () => torrent.uploaded, downloaded: () => torrent.downloaded },
        normalizeTiers(info.trackers.map((t) => [t]), ANNOUNCER_LIMITS.maxTrackers)
      )
    }
    if (port !== null) this.announcer?.keep(key, hashes, port)
    const entry: Entry = { torrent, hashes, peers: info.peers, tracker, downloading: info.downloading, nextLookup: 0, lookupEvery: FINDER_LIMITS.lookupEveryMs, looking: false, nextDial: 0 }
    this.entries.set(key, entry)
    this.tick(key)
  }

  /** The download finished: trackers hear `completed`; lookups stop. */
  completed(key: string): void {
    const e = this.entries.get(key)
    if (!e) return
    e.downloading = false
    e.tracker?.completed()
  }

  stop(key: string): void {
    const e = this.entries.get(key)
    if (!e) return
    this.entries.delete(key)
    this.announcer?.stop(key)
    void e.tracker?.stop()
  }

  /** Every second or so: dial given peers, look up more when a download has few. */
  tick(only?: string): void {
    if (this.closed) return
    const now = Date.now()
    for (const [key, e] of this.entries) {
      if (only !== undefined && key !== only) continue
      if (e.downloading && e.peers.length > 0 && now >= e.nextDial) {
        // Without any peer, soon again (a seeder still starting refuses connections).
        e.nextDial = now + (e.torrent.peerCount === 0 ? FINDER_LIMITS.redialAloneMs : FINDER_LIMITS.redialMs)
        for (const p of e.peers) this.opts.connections.dial(e.torrent, p.host, p.port)
      }
      const dht = this.opts.dht
      if (!dht || !e.downloading || e.looking || now < e.nextLookup) continue
      if (e.torrent.peerCount >= FINDER_LIMITS.wantPeers) {
        e.lookupEvery = FINDER_LIMITS.lookupEveryMs
        continue
      }
      e.looking = true
      e.nextLookup = now + e.lookupEvery
      e.lookupEvery = Math.min(FINDER_LIMITS.maxLookupEveryMs, e.lookupEvery * 2)
      void this.lookup(dht, e).finally(() => {
        e.looking = false
      })
    }
  }

  private async lookup(dht: MainlineDht, e: Entry): Promise<void> {
    await Promise.all(
      e.hashes.map(async (hash) => {
        try {
          for await (const node of dht.lookup(hash, { timeoutMs: FINDER_LIMITS.lookupTimeoutMs })) {
            if (this.closed || !this.entries.has(keyOf(this.entries, e))) return
            this.opts.connections.dial(e.torrent, node.host, node.port)
          }
        } catch {
          // A failed lookup is tried again at the next period.
        }
      })
    )
  }

  close(): void {
    this.closed = true
    for (const key of [...this.entries.keys()]) this.stop(key)
    this.announcer?.close()
  }
}

function keyOf(entries: Map<string, Entry>, e: Entry): string {
  for (const [k, v] of entries) if (v === e) return k
  return ''
}
