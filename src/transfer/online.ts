import type Protomux from 'protomux'
import { torrentTopic } from '../net/topics.js'
import type { BtOptions, BtStatus } from './bt-options.js'
import { BtNetwork } from './engine/bt-network.js'
import type { Torrent } from './engine/torrent.js'
import { type Entry, sampleRates, viewOf } from './entry.js'

/**
 * The networks a node's torrents are on while it is online: hyperswarm connections and each
 * torrent's topic, and the BitTorrent side (TCP, mainline DHT, trackers; bt-network.ts); and the
 * second timer that asks again where a download has no peers. The hyperswarm side is a narrow
 * interface (TransferNet), so this layer does not own the swarm.
 *
 *   const online = new TransfersOnline(peerId, { entries: () => map.values(), find })
 *   await online.attach(network, { port: 6881 })
 *   online.announce(entry)                      // a torrent started
 */
export interface TransferNet {
  on(event: 'connection', fn: (publicKey: Buffer, mux: Protomux) => void): unknown
  off(event: 'connection', fn: (publicKey: Buffer, mux: Protomux) => void): unknown
  connections(): Array<{ publicKey: Buffer; mux: Protomux }>
  joinTopic(topic: Buffer, opts: { server: boolean; client: boolean }): Promise<void>
  leaveTopic(topic: Buffer): Promise<void>
  refreshTopic(topic: Buffer): Promise<void>
}

export interface OnlineHost {
  /** Every torrent the node keeps. */
  entries(): Iterable<Entry>
  /** The running torrent a hash names (its v1, v2 or truncated v2 infohash). */
  find(hash: Buffer): Torrent | null
}

/** Puts a node's torrents on hyperswarm and the BitTorrent networks while it is online. */
export class TransfersOnline {
  private readonly peerId: Buffer
  private readonly host: OnlineHost
  private net: TransferNet | null = null
  private options: BtOptions = {}
  private bt: BtNetwork | null = null
  private readonly onConnection = (publicKey: Buffer, mux: Protomux): void => this.connect(publicKey, mux)
  private ticker: NodeJS.Timeout | null = null
  private ticks = 0

  constructor(peerId: Buffer, host: OnlineHost) {
    this.peerId = peerId
    this.host = host
  }

  /** How this node speaks BitTorrent (as attach was given it; {} before). */
  get btOptions(): BtOptions {
    return this.options
  }

  /** Our TCP port for BitTorrent peers; null offline or encrypted-only. */
  get port(): number | null {
    return this.bt?.connections.port ?? null
  }

  /**
   * Go online: listen for BitTorrent peers on TCP (unless encrypted-only), join the mainline DHT
   * when configured, and announce every torrent running, on this hyperswarm network too.
   */
  async attach(net: TransferNet, bt: BtOptions): Promise<void> {
    this.net = net
    this.options = bt
    this.bt = await BtNetwork.start(bt, this.peerId, (h) => this.host.find(h))
    net.on('connection', this.onConnection)
    for (const c of net.connections()) this.connect(c.publicKey, c.mux)
    // Torrents started while offline (a share before going online) announce now.
    for (const entry of this.host.entries()) this.announce(entry)
    this.ticker ??= setInterval(() => this.tick(), 1000)
    this.ticker.unref()
  }

  /** The BitTorrent side, for `status` (offline: no port, nothing running). */
  status(): BtStatus {
    return this.bt?.status() ?? { port: null, encryptedOnly: this.options.encryptedOnly === true, dht: { enabled: false, nodes: 0 } }
  }

  /** Connect to a peer's TCP port for a torrent (a Chrysalis peer met on hyperswarm that takes TCP). */
  dial(torrent: Torrent, host: string, port: number): void {
    void this.bt?.connections.dial(torrent, host, port)
  }

  /** On the networks: hyperswarm connections and topic, the mainline DHT, trackers, given peers. */
  announce(entry: Entry): void {
    const torrent = entry.torrent
    if (!this.net || !torrent) return
    const s = entry.state
    const downloading = s.status !== 'seeding'
    // Seeders wait for downloaders to open the stream (Connections.attachMux takes them).
    if (downloading) for (const c of this.net.connections()) this.bt?.connections.openMux(torrent, c.publicKey, c.mux)
    void this.net.joinTopic(topicOf(entry), { server: true, client: downloading }).catch(() => {})
    if (!this.options.encryptedOnly) {
      this.bt?.finder.start(s.infohash, torrent, {
        trackers: s.trackers ?? [],
        peers: s.peers ?? [],
        downloading,
        left: () => (entry.store ? Math.max(0, viewOf(entry).size - entry.store.haveBytes) : 0)
      })
    }
  }

  /** A download completed: trackers hear so. */
  completed(entry: Entry): void {
    this.bt?.finder.completed(entry.state.infohash)
  }

  /** Stop looking for a torrent's peers (it stopped). */
  stopFinding(entry: Entry): void {
    this.bt?.finder.stop(entry.state.infohash)
  }

  /** Leave a torrent's hyperswarm topic (paused, removed). */
  async leave(entry: Entry): Promise<void> {
    if (this.net) await this.net.leaveTopic(topicOf(entry)).catch(() => {})
  }

  private connect(publicKey: Buffer, mux: Protomux): void {
    const conns = this.bt?.connections
    if (!conns) return
    // Streams a peer opens for torrents we have; the ones we fetch we open ourselves.
    conns.attachMux(publicKey, mux)
    for (const entry of this.host.entries()) {
      if (entry.torrent && entry.state.status !== 'seeding') conns.openMux(entry.torrent, publicKey, mux)
    }
  }

  private tick(): void {
    const net = this.net
    this.bt?.finder.tick()
    // Peers that had not got a torrent when we asked may have it now: ask again now and then.
    if (net && ++this.ticks % 5 === 0) {
      for (const entry of this.host.entries()) {
        if (!entry.torrent || entry.state.status === 'seeding') continue
        for (const c of net.connections()) this.bt?.connections.openMux(entry.torrent, c.publicKey, c.mux)
      }
    }
    // Seeders that arrived after our lookup: look again while a download has no peer.
    const now = Date.now()
    for (const entry of this.host.entries()) {
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
      void net.refreshTopic(topicOf(entry)).catch(() => {})
    }
    for (const entry of this.host.entries()) sampleRates(entry)
  }

  /** Offline: no more connections taken, the BitTorrent side closed (torrents are the caller's). */
  detach(): void {
    if (this.ticker) clearInterval(this.ticker)
    this.ticker = null
    this.net?.off('connection', this.onConnection)
    this.net = null
  }

  async close(): Promise<void> {
    this.detach()
    await this.bt?.close()
    this.bt = null
  }
}

function topicOf(entry: Entry): Buffer {
  return torrentTopic(Buffer.from(entry.state.infohash, 'hex'))
}
