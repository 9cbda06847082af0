/**
 * UDP tracker client (BEP 15). One client shares one socket per address family between every
 * tracker and torrent; answers are matched to requests by transaction id and sender address
 * (anything else is ignored, like a stray datagram), and every packet is length-checked before
 * a field is read. Retransmission follows BEP 15 (15 · 2^n s), with the base and the number of
 * retries as options so tests run in milliseconds.
 *
 *   const udp = new UdpTrackerClient()
 *   const res = await udp.announce('udp://127.0.0.1:6969', { infoHash, peerId, port, uploaded: 0, downloaded: 0, left, event: 'started' })
 *   await udp.close()
 */
import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { DiscoveryError } from './errors.js'
import { TRACKER_LIMITS, checkAnnounce, decodeCompactPeers, remoteText, type AnnounceEvent, type AnnounceRequest, type AnnounceResponse } from './tracker.js'

/** BEP 15 constants. */
export const UDP = {
  protocolId: 0x41727101980n,
  connect: 0,
  announce: 1,
  scrape: 2,
  error: 3,
  /** event field: 0 none, 1 completed, 2 started, 3 stopped */
  events: { completed: 1, started: 2, stopped: 3 } satisfies Record<AnnounceEvent, number>,
  announceBytes: 98,
  connectBytes: 16,
  /** action, transaction id, interval, leechers, seeders */
  announceHeaderBytes: 20
} as const

export interface UdpTrackerOptions {
  /** A udp4 socket to use (bound or not; left open by close()); default one of our own, made on first use. */
  socket?: dgram.Socket
  /** The same for IPv6 trackers (a udp6 socket). */
  socket6?: dgram.Socket
  /** BEP 15's 15 s; the n-th retransmission waits base · 2^n. */
  baseTimeoutMs?: number
  /** Highest n (BEP 15: up to 8). */
  maxRetries?: number
  maxPeers?: number
  now?: () => number
  /** Host name resolution (default: node:dns lookup). */
  resolve?: (host: string) => Promise<{ address: string; family: 4 | 6 }>
}

export interface UdpAddress {
  address: string
  port: number
  family: 4 | 6
}

interface Pending {
  from: UdpAddress
  resolve: (msg: Buffer) => void
}

export function connectPacket(transactionId: number): Buffer {
  const b = Buffer.alloc(UDP.connectBytes)
  b.writeBigUInt64BE(UDP.protocolId, 0)
  b.writeUInt32BE(UDP.connect, 8)
  b.writeUInt32BE(transactionId, 12)
  return b
}

export function announcePacket(connectionId: Buffer, transactionId: number, req: AnnounceRequest): Buffer {
  checkAnnounce(req)
  const b = Buffer.alloc(UDP.announceBytes)
  connectionId.copy(b, 0, 0, 8)
  b.writeUInt32BE(UDP.announce, 8)
  b.writeUInt32BE(transactionId, 12)
  req.infoHash.copy(b, 16)
  req.peerId.copy(b, 36)
  b.writeBigUInt64BE(BigInt(req.downloaded), 56)
  b.writeBigUInt64BE(BigInt(req.left), 64)
  b.writeBigUInt64BE(BigInt(req.uploaded), 72)
  b.writeUInt32BE(req.event ? UDP.events[req.event] : 0, 80)
  b.writeUInt32BE(0, 84) // IP address: 0 = the sender's
  b.writeUInt32BE((req.key ?? 0) >>> 0, 88)
  b.writeInt32BE(req.numwant ?? -1, 92)
  b.writeUInt16BE(req.port, 96)
  return b
}

/** The 8-byte connection id of a connect response, or a DiscoveryError. */
export function parseConnectResponse(msg: Buffer, transactionId: number): Buffer {
  common(msg, transactionId, UDP.connect)
  if (msg.byteLength !== UDP.connectBytes) throw malformed(`a connect response of ${msg.byteLength} bytes (16 expected)`)
  return Buffer.from(msg.subarray(8, 16))
}

/** An announce response; peers are 6 bytes each from an IPv4 tracker, 18 from an IPv6 one. */
export function parseAnnounceResponse(msg: Buffer, transactionId: number, family: 4 | 6, maxPeers: number = TRACKER_LIMITS.maxPeersPerResponse): AnnounceResponse {
  common(msg, transactionId, UDP.announce)
  if (msg.byteLength < UDP.announceHeaderBytes) throw malformed(`an announce response of ${msg.byteLength} bytes`)
  const peers = decodeCompactPeers(msg.subarray(UDP.announceHeaderBytes), family, maxPeers)
  if (!peers) throw malformed(`an announce response whose peers are not ${family === 4 ? 6 : 18}-byte entries`)
  return {
    interval: msg.readUInt32BE(8),
    minInterval: null,
    incomplete: msg.readUInt32BE(12),
    complete: msg.readUInt32BE(16),
    peers,
    warning: null,
    trackerId: null
  }
}

function common(msg: Buffer, transactionId: number, action: number): void {
  if (msg.byteLength < 8) throw malformed(`a packet of ${msg.byteLength} bytes`)
  if (msg.readUInt32BE(4) !== transactionId) throw malformed('a packet for another transaction')
  const got = msg.readUInt32BE(0)
  if (got === UDP.error) {
    throw new DiscoveryError('TRACKER_FAILED', 'refused', 'the tracker refused the announce', { remoteMessage: remoteText(msg.subarray(8)) })
  }
  if (got !== action) throw malformed(`action ${got} where ${action} was expected`)
}

function malformed(what: string): DiscoveryError {
  return new DiscoveryError('TRACKER_FAILED', 'malformed', `the UDP tracker sent ${what}`)
}

/** `udp://host:port[/anything]` → host and port (BEP 41's path is ignored). */
export function parseUdpUrl(text: string): { host: string; port: number } {
  let url: URL
  try {
    url = new URL(text)
  } catch (err) {
    throw new DiscoveryError('TRACKER_FAILED', 'bad-url', 'not a valid tracker URL', { cause: err })
  }
  const port = Number(url.port)
  if (url.protocol !== 'udp:' || !url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DiscoveryError('TRACKER_FAILED', 'bad-url', 'a UDP tracker URL is udp://HOST:PORT')
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return { host, port }
}

/** Talks BEP 15 to UDP trackers for every torrent, over one socket per address family. */
export class UdpTrackerClient {
  private readonly sockets = new Map<4 | 6, dgram.Socket>()
  private readonly owned = new Set<dgram.Socket>()
  private readonly pending = new Map<number, Pending>()
  private readonly connections = new Map<string, { id: Buffer; at: number }>()
  private readonly base: number
  private readonly maxRetries: number
  private readonly maxPeers: number
  private readonly now: () => number
  private readonly resolveHost: (host: string) => Promise<{ address: string; family: 4 | 6 }>
  private closed = false

  constructor(opts: UdpTrackerOptions = {}) {
    this.base = opts.baseTimeoutMs ?? TRACKER_LIMITS.udpBaseTimeoutMs
    this.maxRetries = opts.maxRetries ?? TRACKER_LIMITS.udpMaxRetries
    this.maxPeers = opts.maxPeers ?? TRACKER_LIMITS.maxPeersPerResponse
    this.now = opts.now ?? Date.now
    this.resolveHost = opts.resolve ?? defaultResolve
    if (opts.socket) this.attach(opts.socket, 4, false)
    if (opts.socket6) this.attach(opts.socket6, 6, false)
  }

  async announce(tracker: string, req: AnnounceRequest, opts: { signal?: AbortSignal } = {}): Promise<AnnounceResponse> {
    checkAnnounce(req)
    const { host, port } = parseUdpUrl(tracker)
    let to: UdpAddress
    try {
      to = { ...(await this.resolveHost(host)), port }
    } catch (err) {
      throw new DiscoveryError('TRACKER_FAILED', 'network', `could not resolve the tracker ${host}`, { cause: err })
    }
    const conn = `${to.address}|${to.port}`
    for (let n = 0; n <= this.maxRetries; n++) {
      const timeout = this.base * 2 ** n
      let c = this.connections.get(conn)
      if (!c || this.now() - c.at >= TRACKER_LIMITS.udpConnectionTtlMs) {
        this.connections.delete(conn)
        const tx = this.transactionId()
        const answer = await this.exchange(to, connectPacket(tx), tx, timeout, opts.signal)
        if (!answer) continue
        c = { id: parseConnectResponse(answer, tx), at: this.now() }
        this.connections.set(conn, c)
      }
      const tx = this.transactionId()
      const answer = await this.exchange(to, announcePacket(c.id, tx, req), tx, timeout, opts.signal)
      if (!answer) continue
      try {
        return parseAnnounceResponse(answer, tx, to.family, this.maxPeers)
      } catch (err) {
        // A tracker that restarted no longer knows our connection id; the next attempt reconnects.
        this.connections.delete(conn)
        throw err
      }
    }
    throw new DiscoveryError('TRACKER_FAILED', 'timeout', `the UDP tracker ${host}:${port} did not answer (${this.maxRetries + 1} tries)`)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const p of this.pending.values()) p.resolve(Buffer.alloc(0))
    this.pending.clear()
    await Promise.all([...this.owned].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    for (const [, s] of this.sockets) {
      if (this.owned.has(s)) continue
      s.off('message', this.listener)
      s.off('error', ignoreError)
    }
  }

  private transactionId(): number {
    for (;;) {
      const tx = randomBytes(4).readUInt32BE(0)
      if (!this.pending.has(tx)) return tx
    }
  }

  /** Sends one packet and waits for the answer to `tx` from `to`: the message, or null after `timeoutMs`. */
  private async exchange(to: UdpAddress, packet: Buffer, tx: number, timeoutMs: number, signal?: AbortSignal): Promise<Buffer | null> {
    if (this.closed) throw new DiscoveryError('TRACKER_FAILED', 'aborted', 'the tracker client is closed')
    signal?.throwIfAborted()
    const socket = await this.socket(to.family)
    return new Promise<Buffer | null>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.pending.delete(tx)
      }
      const onAbort = (): void => {
        done()
        reject(new DiscoveryError('TRACKER_FAILED', 'aborted', 'the announce was cancelled'))
      }
      const timer = setTimeout(() => {
        done()
        resolve(null)
      }, timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.pending.set(tx, {
        from: to,
        resolve: (msg) => {
          done()
          if (this.closed) reject(new DiscoveryError('TRACKER_FAILED', 'aborted', 'the tracker client is closed'))
          else resolve(msg)
        }
      })
      // A send error (unreachable) is one more lost datagram: the retransmission handles it.
      try {
        socket.send(packet, to.port, to.address, ignoreError)
      } catch (err) {
        // Only a socket closed under us (an injected one) throws here.
        done()
        reject(new DiscoveryError('TRACKER_FAILED', 'network', 'the UDP socket is closed', { cause: err }))
      }
    })
  }

  private readonly listener = (msg: Buffer, rinfo: dgram.RemoteInfo): void => this.onMessage(msg, rinfo)

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.byteLength < 8) return
    const p = this.pending.get(msg.readUInt32BE(4))
    if (!p || p.from.port !== rinfo.port || !sameAddress(p.from.address, rinfo.address)) return
    p.resolve(msg)
  }

  private async socket(family: 4 | 6): Promise<dgram.Socket> {
    const have = this.sockets.get(family)
    if (have) return have
    const s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6')
    this.attach(s, family, true)
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.bind(0, () => {
        s.off('error', reject)
        resolve()
      })
    })
    return s
  }

  private attach(s: dgram.Socket, family: 4 | 6, owned: boolean): void {
    this.sockets.set(family, s)
    if (owned) this.owned.add(s)
    s.on('message', this.listener)
    s.on('error', ignoreError)
  }
}

/** Errors on a UDP socket are per datagram (ICMP unreachable): requests time out on their own. */
function ignoreError(): void {}

function sameAddress(a: string, b: string): boolean {
  return a === b || a === b.replace(/^::ffff:/, '')
}

async function defaultResolve(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const literal = isIP(host)
  if (literal === 4 || literal === 6) return { address: host, family: literal }
  const { address, family } = await lookup(host)
  return { address, family: family === 6 ? 6 : 4 }
}
