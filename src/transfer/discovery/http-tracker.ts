/**
 * HTTP tracker client: BEP 3 announce, BEP 23 compact peers, BEP 7 `peers6`. The response is
 * read under TRACKER_LIMITS (size before buffering, then bencode values) and decoded with the
 * strict src/transfer/bencode.ts; `failure reason` and `warning message` come back as data for
 * the caller to show through src/display.ts, never inside an error's message.
 *
 *   const res = await httpAnnounce('http://127.0.0.1:8000/announce', { infoHash, peerId, port: 6881, uploaded: 0, downloaded: 0, left: size, event: 'started' })
 *   for (const { host, port } of res.peers) connect(host, port)
 */
import type http from 'node:http'
import type https from 'node:https'
import { decode, key, type BDict, type BValue } from '../bencode.js'
import { DiscoveryError } from './errors.js'
import { boundedGet, httpUrl } from './http-get.js'
import { TRACKER_LIMITS, checkAnnounce, checkPeer, decodeCompactPeers, remoteText, type AnnounceRequest, type AnnounceResponse, type PeerAddress } from './tracker.js'

export interface HttpAnnounceOptions {
  signal?: AbortSignal
  timeoutMs?: number
  maxRedirects?: number
  maxResponseBytes?: number
  maxPeers?: number
  /** The `tracker id` this tracker gave us last time. */
  trackerId?: Buffer
  agents?: { http?: http.Agent; https?: https.Agent }
}

/** The default re-announce interval when a tracker gives none (libtorrent's). */
const DEFAULT_INTERVAL = 1800

/** RFC 3986 unreserved characters stay; every other byte is %XX (BEP 3: raw bytes, URL-encoded). */
export function percentEncodeBytes(bytes: Buffer): string {
  let out = ''
  for (const b of bytes) {
    const unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e
    out += unreserved ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** The announce URL: the tracker's URL (its own query kept, e.g. a passkey) plus BEP 3 parameters. */
export function announceUrl(tracker: string, req: AnnounceRequest, trackerId?: Buffer): URL {
  checkAnnounce(req)
  const url = httpUrl(tracker, 'TRACKER_FAILED')
  url.hash = ''
  const params = [
    `info_hash=${percentEncodeBytes(req.infoHash)}`,
    `peer_id=${percentEncodeBytes(req.peerId)}`,
    `port=${req.port}`,
    `uploaded=${req.uploaded}`,
    `downloaded=${req.downloaded}`,
    `left=${req.left}`,
    'compact=1'
  ]
  if (req.event) params.push(`event=${req.event}`)
  if (req.numwant !== undefined) params.push(`numwant=${req.numwant}`)
  if (req.key !== undefined) params.push(`key=${(req.key >>> 0).toString(16).padStart(8, '0')}`)
  if (trackerId) params.push(`trackerid=${percentEncodeBytes(trackerId)}`)
  url.search = (url.search.length > 1 ? url.search.slice(1) + '&' : '') + params.join('&')
  return url
}

export async function httpAnnounce(tracker: string, req: AnnounceRequest, opts: HttpAnnounceOptions = {}): Promise<AnnounceResponse> {
  const url = announceUrl(tracker, req, opts.trackerId)
  const maxBytes = opts.maxResponseBytes ?? TRACKER_LIMITS.maxResponseBytes
  const res = await boundedGet(url, {
    code: 'TRACKER_FAILED',
    maxBytes,
    maxRedirects: opts.maxRedirects ?? TRACKER_LIMITS.maxRedirects,
    timeoutMs: opts.timeoutMs ?? TRACKER_LIMITS.httpTimeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.agents ? { agents: opts.agents } : {})
  })
  let parsed: AnnounceResponse
  try {
    parsed = parseAnnounceResponse(res.body, { maxBytes, maxPeers: opts.maxPeers ?? TRACKER_LIMITS.maxPeersPerResponse })
  } catch (err) {
    // A non-200 status with a bencoded `failure reason` is still the tracker's word.
    if (res.status !== 200 && !(err instanceof DiscoveryError && err.kind === 'refused')) {
      throw new DiscoveryError('TRACKER_FAILED', 'http-status', `tracker ${url.host} answered HTTP ${res.status}`)
    }
    throw err
  }
  if (res.status !== 200) throw new DiscoveryError('TRACKER_FAILED', 'http-status', `tracker ${url.host} answered HTTP ${res.status}`)
  return parsed
}

/**
 * A tracker's bencoded answer. Throws DiscoveryError: `refused` (with `remoteMessage`) for a
 * `failure reason`, `malformed` for anything that breaks BEP 3 / 23 / 7.
 */
export function parseAnnounceResponse(body: Buffer, limits: { maxBytes?: number; maxPeers?: number } = {}): AnnounceResponse {
  const maxPeers = limits.maxPeers ?? TRACKER_LIMITS.maxPeersPerResponse
  let value: BValue
  try {
    value = decode(body, {
      limits: {
        maxBytes: limits.maxBytes ?? TRACKER_LIMITS.maxResponseBytes,
        maxNodes: TRACKER_LIMITS.maxResponseValues,
        maxItems: TRACKER_LIMITS.maxResponseValues,
        maxDepth: 4
      }
    }).value
  } catch (err) {
    throw malformed('is not valid bencode', err)
  }
  if (!(value instanceof Map)) throw malformed('is not a dictionary')
  const failure = value.get(key('failure reason'))
  if (failure !== undefined) {
    throw new DiscoveryError('TRACKER_FAILED', 'refused', 'the tracker refused the announce', {
      remoteMessage: Buffer.isBuffer(failure) ? remoteText(failure) : ''
    })
  }
  const interval = optInt(value, 'interval') ?? DEFAULT_INTERVAL
  const peers: PeerAddress[] = []
  const v4 = value.get(key('peers'))
  if (Buffer.isBuffer(v4)) {
    const list = decodeCompactPeers(v4, 4, maxPeers)
    if (!list) throw malformed(`has compact peers of ${v4.byteLength} bytes, not a multiple of 6`)
    peers.push(...list)
  } else if (Array.isArray(v4)) {
    for (const entry of v4) {
      if (peers.length >= maxPeers) break
      if (!(entry instanceof Map)) throw malformed('has a peer that is not a dictionary')
      const ip = entry.get(key('ip'))
      const port = entry.get(key('port'))
      if (!Buffer.isBuffer(ip) || typeof port !== 'number') throw malformed('has a peer without ip and port')
      // Host names are skipped: a tracker must not make us resolve names of its choosing.
      const peer = checkPeer(ip.toString('latin1'), port)
      if (peer) peers.push(peer)
    }
  } else if (v4 !== undefined) {
    throw malformed('has peers that are neither a string nor a list')
  }
  const v6 = value.get(key('peers6'))
  if (Buffer.isBuffer(v6)) {
    const list = decodeCompactPeers(v6, 6, maxPeers - peers.length)
    if (!list) throw malformed(`has peers6 of ${v6.byteLength} bytes, not a multiple of 18`)
    peers.push(...list)
  } else if (v6 !== undefined) {
    throw malformed('has peers6 that is not a string')
  }
  const warning = value.get(key('warning message'))
  const trackerId = value.get(key('tracker id'))
  return {
    interval,
    minInterval: optInt(value, 'min interval'),
    peers,
    complete: optInt(value, 'complete'),
    incomplete: optInt(value, 'incomplete'),
    warning: Buffer.isBuffer(warning) ? remoteText(warning) : null,
    trackerId: Buffer.isBuffer(trackerId) && trackerId.byteLength <= 64 ? Buffer.from(trackerId) : null
  }
}

function optInt(d: BDict, k: string): number | null {
  const v = d.get(key(k))
  if (v === undefined) return null
  if (typeof v !== 'number' || v < 0) throw malformed(`has a bad "${k}"`)
  return v
}

function malformed(what: string, cause?: unknown): DiscoveryError {
  return new DiscoveryError('TRACKER_FAILED', 'malformed', `the tracker's answer ${what}`, cause === undefined ? {} : { cause })
}
