import type { PeerWire } from '../wire/peer.js'
import type { BlockRef } from '../picker.js'
import { Bitfield } from '../bitfield.js'

/**
 * What one torrent knows of one connected peer: the wire it speaks on, what it has, who chokes
 * whom, its requests to us and ours to it, and what it moved. The torrent (torrent.ts) drives it;
 * this holds state and small rules, no policy.
 */
export type PeerKind = 'chrysalis' | 'bittorrent'
export type Transport = 'tcp' | 'hyperswarm'

/** Our peer id prefix (Azureus style): `-CY` + version; the rest is random per node start. */
export const PEER_ID_PREFIX = Buffer.from('-CY0100-')

export function isChrysalisPeerId(id: Buffer): boolean {
  return id.subarray(0, 3).equals(PEER_ID_PREFIX.subarray(0, 3))
}

export interface PeerInfo {
  transport: Transport
  /** host:port for TCP peers; null on hyperswarm. */
  address: string | null
  /**
   * The key bans are kept by: host:port for TCP (the port we dialled, or the one it came from;
   * not the IP alone, which many peers may share behind one NAT), the public key on hyperswarm.
   */
  banKey: string
  /** A Chrysalis peer's hyperswarm key, when this TCP connection replaced a hyperswarm one. */
  publicKey?: string
  /** The remote host of a hyperswarm connection, when direct (for a TCP connection beside it). */
  host?: string | null
}

/** What one torrent knows of one connected peer: state and small rules, no policy. */
export class Peer {
  readonly wire: PeerWire
  readonly info: PeerInfo
  readonly id: string
  kind: PeerKind = 'bittorrent'
  client: string | null = null
  /** What it has: a bitfield once the piece count is known, 'all' for a seed. */
  has: Bitfield | 'all' | null = null
  /** Before the metadata: what it announced, kept to apply once the piece count is known. */
  early: { bits: Buffer | null; haves: number[]; all: boolean } = { bits: null, haves: [], all: false }
  /** Counted in the picker's availability (so it is taken back exactly once). */
  counted = false
  amChoking = true
  amInterested = false
  peerChoking = true
  peerInterested = false
  /** Its requests to us, in order. */
  readonly queue: BlockRef[] = []
  serving = false
  /** Requests of its we refused since we last unchoked it or sent it data. */
  rejected = 0
  /** Our requests to it in flight. */
  inflight = 0
  /** How many requests it takes at once (its `reqq`, bounded). */
  maxInflight: number
  downloaded = 0
  uploaded = 0
  /** Bytes per second over the last rechoke period. */
  private lastDown = 0
  private lastUp = 0
  downRate = 0
  upRate = 0
  /** Pieces it sent that failed their check. */
  strikes = 0
  metadataSize: number | null = null
  /** host:its listening TCP port (BEP 10 `p`), when told: a second ban key. */
  listenKey: string | null = null

  constructor(wire: PeerWire, info: PeerInfo, maxInflight: number) {
    this.wire = wire
    this.info = info
    this.maxInflight = maxInflight
    this.id = `${info.transport}:${info.address ?? info.banKey.slice(0, 16)}:${wire.remote?.peerId.toString('hex').slice(16) ?? ''}`
  }

  get peerId(): Buffer {
    return this.wire.remote!.peerId
  }

  holds(piece: number): boolean {
    return this.has === 'all' || (this.has !== null && this.has.get(piece))
  }

  pieceCount(total: number): number {
    if (this.has === 'all') return total
    return this.has?.count ?? 0
  }

  /** Once the piece count is known: turn what it announced into a bitfield (or 'all'). */
  settle(pieceCount: number): void {
    if (this.has !== null) return
    if (this.early.all) {
      this.has = 'all'
      return
    }
    const bits = new Bitfield(pieceCount, this.early.bits ?? undefined)
    for (const i of this.early.haves) if (i < pieceCount) bits.set(i)
    this.has = bits.full ? 'all' : bits
  }

  /** Rates since the last call, over `seconds`. */
  sampleRates(seconds: number): void {
    this.downRate = (this.downloaded - this.lastDown) / seconds
    this.upRate = (this.uploaded - this.lastUp) / seconds
    this.lastDown = this.downloaded
    this.lastUp = this.uploaded
  }
}
