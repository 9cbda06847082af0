import { WireError } from '../wire/errors.js'
import type { PeerWire } from '../wire/peer.js'
import type { Peer, PeerInfo, PeerKind, Transport } from './peer.js'

/**
 * Whom one torrent is connected to and whom it has banned: who gets in (not banned, not
 * ourselves, not twice, not past the limit), the bans by every key a peer is known by, and the
 * counts and lists the views show. The torrent (torrent.ts) drives what the peers do.
 *
 *   const info = peers.admit(wire, info, ourPeerId)   // null: refused, the wire closed with why
 *   if (info) peers.add(new Peer(wire, info, maxInflight))
 *   const who = peers.ban(peer, 'it sent data that failed its check'); peer.wire.destroy(…)
 */
export const PEER_SET_LIMITS = {
  /** Connections one torrent keeps; more are refused. */
  maxPeers: 50,
  /** Bans listed in a torrent's view (all are kept; the list shows the first). */
  bansShown: 100
} as const

export interface TorrentPeerInfo {
  id: string
  address: string | null
  client: string | null
  kind: PeerKind | 'webseed'
  transport: Transport | 'http'
  pieces: number
  downloaded: number
  uploaded: number
}

/** Whom one torrent is connected to and whom it has banned. */
export class PeerSet implements Iterable<Peer> {
  private readonly peers = new Set<Peer>()
  private readonly banned = new Set<string>()
  /** Peer id (hex) → hyperswarm key of Chrysalis peers met on hyperswarm. */
  private readonly keyOf = new Map<string, string>()
  /** Peers banned (this run), for views: a Chrysalis peer's key or a TCP address, and why. */
  readonly bans: Array<{ peer: string; address: string | null; reason: string }> = []

  get size(): number {
    return this.peers.size
  }

  [Symbol.iterator](): Iterator<Peer> {
    return this.peers[Symbol.iterator]()
  }

  get full(): boolean {
    return this.peers.size >= PEER_SET_LIMITS.maxPeers
  }

  has(peer: Peer): boolean {
    return this.peers.has(peer)
  }

  add(peer: Peer): void {
    this.peers.add(peer)
  }

  delete(peer: Peer): boolean {
    return this.peers.delete(peer)
  }

  /** Every connection closed (the torrent stops). */
  closeAll(): void {
    for (const p of [...this.peers]) p.wire.destroy(null)
    this.peers.clear()
  }

  isBanned(banKey: string): boolean {
    return this.banned.has(banKey)
  }

  /** Is a peer connected from or to this TCP address? */
  connectedAt(address: string): boolean {
    for (const p of this.peers) if (p.info.address === address) return true
    return false
  }

  /** Is a peer with this peer id connected (over any transport)? */
  connectedTo(peerId: Buffer): Peer | null {
    for (const p of this.peers) if (p.peerId.equals(peerId)) return p
    return null
  }

  /**
   * May this connection (its handshake done) join? The info it joins with (a Chrysalis peer met
   * on hyperswarm keeps its key over TCP), or null: refused and closed when the peer is banned,
   * ourselves, already connected, or the torrent full. A TCP connection replaces a hyperswarm
   * one to the same peer: bulk data goes the faster way.
   */
  admit(wire: PeerWire, info: PeerInfo, self: Buffer): PeerInfo | null {
    const remote = wire.remote!
    // A Chrysalis peer met on hyperswarm keeps its key over TCP (for bans and views), even when
    // its hyperswarm connection closed first.
    const idHex = remote.peerId.toString('hex')
    if (info.transport === 'hyperswarm') {
      if (this.keyOf.size >= PEER_SET_LIMITS.maxPeers * 4) this.keyOf.delete(this.keyOf.keys().next().value!)
      this.keyOf.set(idHex, info.banKey)
    } else if (this.keyOf.has(idHex)) {
      info = { ...info, publicKey: this.keyOf.get(idHex)! }
    }
    if (this.banned.has(info.banKey) || (info.publicKey !== undefined && this.banned.has(info.publicKey))) {
      wire.destroy(new WireError('BANNED', 'this peer is banned from the torrent'))
      return null
    }
    if (remote.peerId.equals(self)) {
      wire.destroy(new WireError('SELF', 'a connection to ourselves'))
      return null
    }
    const twin = this.connectedTo(remote.peerId)
    if (twin) {
      if (twin.info.transport === 'hyperswarm' && info.transport === 'tcp') {
        twin.wire.destroy(null)
      } else {
        wire.destroy(new WireError('DUPLICATE', 'already connected to this peer'))
        return null
      }
    }
    if (this.full) {
      wire.destroy(new WireError('TOO_MANY', 'the torrent has as many peers as it keeps'))
      return null
    }
    return info
  }

  /**
   * A TCP peer that connected to us told its listening port: it is known by that address too,
   * so a ban holds across its connections, in and out. False (and closed) when that one is banned.
   */
  listening(peer: Peer, port: number): boolean {
    if (peer.info.transport !== 'tcp' || !peer.info.address) return true
    const listening = `${peer.info.address.slice(0, peer.info.address.lastIndexOf(':'))}:${port}`
    if (this.banned.has(listening)) {
      peer.wire.destroy(new WireError('BANNED', 'this peer is banned from the torrent'))
      return false
    }
    peer.listenKey = listening
    return true
  }

  /** Ban a peer by every key it is known by; returns who it was, for events (the caller closes it). */
  ban(peer: Peer, reason: string): string {
    this.banned.add(peer.info.banKey)
    if (peer.info.publicKey) this.banned.add(peer.info.publicKey)
    if (peer.listenKey) this.banned.add(peer.listenKey)
    const who = peer.info.publicKey ?? peer.info.address ?? peer.info.banKey
    if (this.bans.length < PEER_SET_LIMITS.bansShown) this.bans.push({ peer: who, address: peer.info.address, reason })
    return who
  }

  /** Connected peers by kind, counted without building the peer list (views ask on every piece). */
  kindCounts(): { bittorrent: number; chrysalis: number } {
    const kinds = { bittorrent: 0, chrysalis: 0 }
    for (const p of this.peers) kinds[p.kind]++
    return kinds
  }

  list(pieceCount: number): TorrentPeerInfo[] {
    return [...this.peers].map((p) => ({
      id: p.id,
      address: p.info.address,
      client: p.client,
      kind: p.kind,
      transport: p.info.transport,
      pieces: p.pieceCount(pieceCount),
      downloaded: p.downloaded,
      uploaded: p.uploaded
    }))
  }
}
