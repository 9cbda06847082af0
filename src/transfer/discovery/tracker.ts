/**
 * What the HTTP (BEP 3) and UDP (BEP 15) tracker clients share: the announce a client sends, the
 * answer it gets, the compact peer formats (BEP 23 for IPv4, BEP 7 for IPv6) and the limits.
 *
 * The infohash is always 20 bytes: a v1 infohash, or for v2 the SHA-256 infohash truncated to 20
 * bytes (BEP 52). The caller decides which; a hybrid torrent is announced under both.
 */
import { isIP } from 'node:net'

export type AnnounceEvent = 'started' | 'completed' | 'stopped'

export interface AnnounceRequest {
  /** 20 bytes: the v1 infohash or the truncated v2 infohash. */
  infoHash: Buffer
  /** 20 bytes. */
  peerId: Buffer
  /** The TCP port we accept peers on. */
  port: number
  uploaded: number
  downloaded: number
  left: number
  /** Omitted for a regular re-announce. */
  event?: AnnounceEvent
  /** How many peers we want (default: the tracker's choice, usually 50). */
  numwant?: number
  /** A random 32-bit number fixed for the session, so a tracker knows us across IP changes. */
  key?: number
}

export interface PeerAddress {
  /** An IPv4 or IPv6 literal, never a host name (we do not resolve names a tracker hands out). */
  host: string
  port: number
}

export interface AnnounceResponse {
  /** Seconds until the next regular announce, as the tracker asked (callers clamp it). */
  interval: number
  /** The tracker's `min interval`, when it sent one. */
  minInterval: number | null
  peers: PeerAddress[]
  /** Seeders and leechers, when the tracker says. */
  complete: number | null
  incomplete: number | null
  /** `warning message` (HTTP): untrusted text, shown only through src/display.ts. */
  warning: string | null
  /** `tracker id` (HTTP): sent back on later announces. */
  trackerId: Buffer | null
}

/** Bounds on what a tracker may make us hold. Documented in protocol.md §15.5. */
export const TRACKER_LIMITS = {
  /** Largest HTTP announce response body, checked before and while buffering. */
  maxResponseBytes: 1024 * 1024,
  /** Bencode values in one HTTP response (a peer dictionary is 7). */
  maxResponseValues: 50_000,
  /** Peers kept from one response; the rest are ignored. */
  maxPeersPerResponse: 500,
  /** Longest `failure reason` / `warning message` / UDP error text kept, in bytes. */
  maxMessageBytes: 1024,
  /** HTTP redirects followed. */
  maxRedirects: 3,
  /** Deadline for one HTTP announce. */
  httpTimeoutMs: 15_000,
  /** BEP 15: retransmit after 15 · 2^n s … */
  udpBaseTimeoutMs: 15_000,
  /** … for n = 0 … 3 (BEP 15 allows up to 8; 3 gives up after 225 s, and there are other trackers). */
  udpMaxRetries: 3,
  /** BEP 15: a connection id is valid for one minute. */
  udpConnectionTtlMs: 60_000
} as const

/** BEP 23 compact IPv4 peers (6 bytes each) or BEP 7 IPv6 peers (18 bytes each); null if the length is not a multiple. */
export function decodeCompactPeers(bytes: Buffer, family: 4 | 6, max: number): PeerAddress[] | null {
  const stride = family === 4 ? 6 : 18
  if (bytes.byteLength % stride !== 0) return null
  const out: PeerAddress[] = []
  for (let at = 0; at < bytes.byteLength && out.length < max; at += stride) {
    const port = bytes.readUInt16BE(at + stride - 2)
    if (port === 0) continue
    out.push({ host: family === 4 ? ipv4(bytes, at) : ipv6(bytes, at), port })
  }
  return out
}

export function encodeCompactPeers(peers: PeerAddress[], family: 4 | 6): Buffer {
  const stride = family === 4 ? 6 : 18
  const out = Buffer.alloc(peers.length * stride)
  peers.forEach((p, i) => {
    const at = i * stride
    if (family === 4) p.host.split('.').forEach((part, j) => out.writeUInt8(Number(part), at + j))
    else ipv6Bytes(p.host).copy(out, at)
    out.writeUInt16BE(p.port, at + stride - 2)
  })
  return out
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`
}

function ipv6(b: Buffer, at: number): string {
  const groups: string[] = []
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2).toString(16))
  // Node's own formatting (zero compression, lowercase) via the URL parser.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}

/** 16 bytes of an IPv6 literal (tests and the encoder). */
export function ipv6Bytes(host: string): Buffer {
  const [head = '', tail] = host.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

/** A peer address from a non-compact peer list: an IP literal and a port 1–65535, or null. */
export function checkPeer(host: string, port: number): PeerAddress | null {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null
  if (isIP(host) === 0) return null
  return { host, port }
}

/** Untrusted text from a tracker, bounded, as a string (invalid UTF-8 becomes U+FFFD). */
export function remoteText(bytes: Buffer): string {
  return bytes.subarray(0, TRACKER_LIMITS.maxMessageBytes).toString('utf-8')
}

export function checkAnnounce(req: AnnounceRequest): void {
  if (req.infoHash.byteLength !== 20) throw new RangeError('a tracker infohash is 20 bytes (truncate a v2 infohash)')
  if (req.peerId.byteLength !== 20) throw new RangeError('a peer id is 20 bytes')
  if (!Number.isInteger(req.port) || req.port < 0 || req.port > 65535) throw new RangeError(`bad port ${req.port}`)
  for (const n of [req.uploaded, req.downloaded, req.left]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad byte count ${n}`)
  }
}
