import net from 'node:net'
import type Protomux from 'protomux'
import { acceptMuxStreams, openMuxStream } from '../mux-stream.js'
import { PeerWire } from '../wire/peer.js'
import type { PeerInfo } from './peer.js'
import type { Torrent } from './torrent.js'

/**
 * Where BitTorrent connections come from and go to: a TCP listener on the BitTorrent port (one
 * for every torrent: the handshake's hash picks the torrent), outgoing TCP connections to peers
 * found by address, and the same wire inside hyperswarm connections between Chrysalis peers
 * (mux-stream.ts). Each connection becomes a PeerWire, handed to its torrent once the handshake
 * is done. Limits: protocol.md §13.
 *
 *   const conns = new Connections({ peerId, find: (hash20) => torrentFor(hash20) })
 *   await conns.listen({ port: 6881, host: '0.0.0.0' })   // taken → a free port
 *   conns.dial(torrent, '10.0.0.2', 6881)
 *   conns.attachMux(publicKey, mux, '10.0.0.2')
 */
export const CONNECTION_LIMITS = {
  /** Connections of every torrent together. */
  maxConnections: 400,
  /** Outgoing TCP connections being set up at once. */
  halfOpen: 16,
  /** A TCP connect that has not succeeded in this long is given up. */
  connectTimeoutMs: 10_000,
  /**
   * Bytes a connection's write buffer takes before the uploader waits for it to drain (Node emits
   * 'drain' only once it is empty, so a small one leaves the link idle between batches). What a
   * peer can make us buffer is bounded anyway by its queued requests: 500 × 16 KiB.
   */
  socketBuffer: 8 * 1024 * 1024,
  /** Bytes one read of an outgoing connection takes at most (one buffer for them all). */
  readBuffer: 256 * 1024,
  /** The default BitTorrent port (BEP 3's range starts here). */
  defaultPort: 6881
} as const

/** What every outgoing connection reads into, consumed before the next read (see dial). */
const readBuffer = Buffer.allocUnsafeSlow(CONNECTION_LIMITS.readBuffer)

export interface ConnectionsOptions {
  peerId: Buffer
  /** The running torrent a 20-byte handshake hash names, if any. */
  find: (hash20: Buffer) => Torrent | null
  /** Keep everything on hyperswarm: no listener, no outgoing TCP. */
  encryptedOnly?: boolean
}

/** Brings BitTorrent connections to their torrents: TCP in and out, and streams inside hyperswarm connections. */
export class Connections {
  private readonly opts: ConnectionsOptions
  private server: net.Server | null = null
  private readonly sockets = new Set<net.Socket>()
  private readonly wires = new Set<PeerWire>()
  private halfOpen = 0
  /** Addresses being dialled or connected, per torrent (no second connection to the same). */
  private readonly dialing = new Set<string>()
  private readonly muxes = new Map<Protomux, () => void>()
  port: number | null = null
  private closed = false

  constructor(opts: ConnectionsOptions) {
    this.opts = opts
  }

  get count(): number {
    return this.wires.size
  }

  /**
   * Listen for BitTorrent peers on TCP. `port` undefined: 6881, or a free port when it is taken;
   * 0: any free port. Resolves with the port in use.
   */
  async listen(opts: { port?: number; host?: string } = {}): Promise<number> {
    if (this.opts.encryptedOnly) return -1
    const host = opts.host ?? '0.0.0.0'
    const tryPort = (port: number): Promise<net.Server> =>
      new Promise((resolve, reject) => {
        const server = net.createServer({ highWaterMark: CONNECTION_LIMITS.socketBuffer }, (socket) => this.incoming(socket))
        server.once('error', reject)
        server.listen({ port, host }, () => {
          server.off('error', reject)
          resolve(server)
        })
      })
    let server: net.Server
    try {
      server = await tryPort(opts.port ?? CONNECTION_LIMITS.defaultPort)
    } catch (err) {
      if (opts.port !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      server = await tryPort(0)
    }
    server.on('error', () => {})
    this.server = server
    this.port = (server.address() as net.AddressInfo).port
    return this.port
  }

  private track(socket: net.Socket): boolean {
    if (this.closed || this.wires.size + this.halfOpen >= CONNECTION_LIMITS.maxConnections) {
      socket.destroy()
      return false
    }
    socket.setNoDelay(true)
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    return true
  }

  private incoming(socket: net.Socket): void {
    if (!this.track(socket)) return
    const host = normalizeHost(socket.remoteAddress ?? '')
    const address = `${host}:${socket.remotePort ?? 0}`
    const wire = new PeerWire(socket, {
      peerId: this.opts.peerId,
      resolve: (hash) => {
        const t = this.opts.find(hash)
        if (!t || t.isBanned(address) || t.full) return null
        return t.wireTorrent()
      }
    })
    this.adopt(wire, (remoteHash) => this.opts.find(remoteHash), { transport: 'tcp', address, banKey: address })
  }

  /** Connect to a peer by address for a torrent (no-op when already connected or dialling). */
  dial(torrent: Torrent, host: string, port: number): boolean {
    if (this.closed || this.opts.encryptedOnly || torrent.full || torrent.isBanned(`${normalizeHost(host)}:${port}`)) return false
    if (this.halfOpen >= CONNECTION_LIMITS.halfOpen || this.wires.size >= CONNECTION_LIMITS.maxConnections) return false
    if (port === this.port && isLocal(host)) return false // ourselves
    if (torrent.connectedAt(`${host}:${port}`)) return false
    const wt = torrent.wireTorrent()
    const key = `${wt.infohash.toString('hex')}@${host}:${port}`
    if (this.dialing.has(key)) return false
    this.dialing.add(key)
    this.halfOpen++
    let wire: PeerWire | null = null
    // Node takes highWaterMark here too (its types do not say so). Reads go into one buffer
    // shared by every outgoing connection and consumed before the next read (PeerWire.received):
    // no fresh 64 KiB buffer per read for the garbage collector.
    const socket = net.connect({
      host,
      port,
      highWaterMark: CONNECTION_LIMITS.socketBuffer,
      onread: {
        buffer: readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          wire?.received(Buffer.from(buf.buffer, buf.byteOffset, n))
          return true
        }
      }
    } as net.NetConnectOpts)
    let connected = false
    const timer = setTimeout(() => socket.destroy(), CONNECTION_LIMITS.connectTimeoutMs)
    timer.unref()
    const done = (): void => {
      clearTimeout(timer)
      if (!connected) this.halfOpen--
    }
    socket.once('error', () => {})
    socket.once('close', () => {
      done()
      this.dialing.delete(key)
    })
    socket.once('connect', () => {
      done()
      connected = true
      if (!this.track(socket)) return
      wire = new PeerWire(socket, { peerId: this.opts.peerId, torrent: wt })
      this.adopt(wire, () => torrent, { transport: 'tcp', address: `${host}:${port}`, banKey: `${normalizeHost(host)}:${port}` })
    })
    return true
  }

  /** Hand a wire to its torrent once the handshake is through. */
  private adopt(wire: PeerWire, torrentOf: (hash20: Buffer) => Torrent | null, info: PeerInfo): void {
    this.wires.add(wire)
    wire.once('close', () => this.wires.delete(wire))
    wire.once('handshake', (h) => {
      const t = torrentOf(h.infohash)
      if (!t) {
        wire.destroy(null)
        return
      }
      t.addPeer(wire, info)
    })
  }

  // --- hyperswarm ------------------------------------------------------------------------

  /** Take BitTorrent streams a Chrysalis peer opens on this hyperswarm connection. */
  attachMux(publicKey: Buffer, mux: Protomux): void {
    if (this.muxes.has(mux)) return
    const banKey = publicKey.toString('hex')
    const stop = acceptMuxStreams(
      mux,
      (hash20) => {
        const t = this.opts.find(hash20)
        return t !== null && !t.isBanned(banKey) && !t.full
      },
      (_hash20, stream) => {
        const wire = new PeerWire(stream, {
          peerId: this.opts.peerId,
          resolve: (hash) => this.opts.find(hash)?.wireTorrent() ?? null
        })
        this.adopt(wire, (h) => this.opts.find(h), { transport: 'hyperswarm', address: null, banKey, host: remoteHost(mux) })
      }
    )
    this.muxes.set(mux, stop)
  }

  detachMux(mux: Protomux): void {
    this.muxes.get(mux)?.()
    this.muxes.delete(mux)
  }

  /** Open a torrent's BitTorrent stream to a Chrysalis peer over hyperswarm. */
  openMux(torrent: Torrent, publicKey: Buffer, mux: Protomux): void {
    if (this.closed) return
    const banKey = publicKey.toString('hex')
    if (torrent.isBanned(banKey) || torrent.full) return
    const wt = torrent.wireTorrent()
    const stream = openMuxStream(mux, wt.infohash)
    if (!stream) return
    const wire = new PeerWire(stream, { peerId: this.opts.peerId, torrent: wt })
    this.adopt(wire, () => torrent, { transport: 'hyperswarm', address: null, banKey, host: remoteHost(mux) })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const stop of this.muxes.values()) stop()
    this.muxes.clear()
    for (const w of [...this.wires]) w.destroy(null)
    for (const s of [...this.sockets]) s.destroy()
    const server = this.server
    this.server = null
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** The remote address under a hyperswarm connection (a UDX stream), when it has one. */
function remoteHost(mux: Protomux): string | null {
  const raw = (mux as unknown as { stream?: { rawStream?: { remoteHost?: unknown } } }).stream?.rawStream?.remoteHost
  return typeof raw === 'string' && raw !== '' ? normalizeHost(raw) : null
}

function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') ? host.slice(7) : host
}

function isLocal(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '0.0.0.0'
}
