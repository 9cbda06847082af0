import { isIP } from 'node:net'
import { ChrysalisError } from '../errors.js'
import { xtInfohash } from './infohash.js'
import type { Metainfo } from './metainfo.js'

/**
 * Magnet links (BEP 9, BEP 52 §magnet, BEP 19 `ws`), parsed from untrusted text into one typed
 * result, and made for torrents Chrysalis shares. Bounds and fields: protocol.md §12.
 *
 *   const m = readMagnet('magnet:?xt=urn:btih:…&xt=urn:btmh:1220…&dn=Kaypro&tr=udp://…')
 *   m.infohashV1, m.infohashV2, m.trackers, m.webSeeds, m.peers
 *   const link = magnetOf(meta, { trackers: ['udp://127.0.0.1:6969/announce'] })
 */
export const MAGNET_LIMITS = {
  /** The whole link. */
  bytes: 16 * 1024,
  /** Parameters of any kind. */
  params: 1000,
  /** Kept of each list (the rest is ignored): trackers, web seeds, peer addresses. */
  trackers: 100,
  webSeeds: 100,
  peers: 200,
  urlBytes: 2048,
  nameBytes: 1024
} as const

export interface MagnetPeer {
  host: string
  port: number
}

export interface Magnet {
  /** SHA-1 infohash (xt=urn:btih:, 40 hex or 32 base32), or null. */
  infohashV1: Buffer | null
  /** SHA-256 infohash (xt=urn:btmh:1220…), or null. */
  infohashV2: Buffer | null
  /** dn: the display name (a hint, unverified). */
  name: string | null
  /** tr: tracker URLs (http, https, udp, wss). */
  trackers: string[]
  /** ws: web seed URLs (http, https). */
  webSeeds: string[]
  /** x.pe: peer addresses. */
  peers: MagnetPeer[]
  /** xl: the exact length in bytes, when given. */
  length: number | null
}

function badMagnet(message: string): ChrysalisError {
  return new ChrysalisError('BAD_INPUT', `the magnet link ${message}`)
}

function url(v: string, schemes: string[]): string | null {
  if (v.length > MAGNET_LIMITS.urlBytes) return null
  try {
    return schemes.includes(new URL(v).protocol) ? v : null
  } catch {
    return null
  }
}

/** host:port, [ipv6]:port, or a DNS name:port; null when it is none of these. */
export function parsePeerAddress(v: string): MagnetPeer | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:[\]]+):(\d{1,5})$/.exec(v)
  if (!m) return null
  const host = m[1]!
  const port = Number(m[2])
  if (port < 1 || port > 65535) return null
  const name = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i
  // Digits and dots only must be an IPv4 address, not a "name" like 999.1.1.1.
  const ok = v.startsWith('[') ? isIP(host) === 6 : /^[\d.]+$/.test(host) ? isIP(host) === 4 : name.test(host)
  if (!ok) return null
  return { host, port }
}

/** Parse a magnet link. Refuses (BAD_INPUT, one line) what is not one, or names no torrent. */
export function readMagnet(input: string): Magnet {
  if (input.length > MAGNET_LIMITS.bytes) throw badMagnet(`is ${input.length} characters long, above the limit of ${MAGNET_LIMITS.bytes}`)
  if (!/^magnet:\?/i.test(input)) throw badMagnet('does not start with magnet:?')
  const params = new URLSearchParams(input.slice('magnet:?'.length))
  const m: Magnet = { infohashV1: null, infohashV2: null, name: null, trackers: [], webSeeds: [], peers: [], length: null }
  let count = 0
  for (const [k, v] of params) {
    if (++count > MAGNET_LIMITS.params) throw badMagnet(`has more than ${MAGNET_LIMITS.params} parameters`)
    // xt.1, xt.2 (BEP 9's numbered form) count as xt.
    const name = k.replace(/\.\d+$/, '')
    if (name === 'xt') {
      const xt = xtInfohash(v)
      if (xt === null) continue // another kind of xt (urn:sha1:…): not ours to read
      if ('why' in xt) throw badMagnet(`has ${xt.why}`)
      if (xt.v1) {
        if (m.infohashV1 && !m.infohashV1.equals(xt.v1)) throw badMagnet('names two different v1 infohashes')
        m.infohashV1 = xt.v1
      }
      if (xt.v2) {
        if (m.infohashV2 && !m.infohashV2.equals(xt.v2)) throw badMagnet('names two different v2 infohashes')
        m.infohashV2 = xt.v2
      }
    } else if (name === 'dn') {
      if (m.name === null) m.name = v.slice(0, MAGNET_LIMITS.nameBytes)
    } else if (name === 'tr') {
      const u = url(v, ['http:', 'https:', 'udp:', 'wss:'])
      if (u && !m.trackers.includes(u) && m.trackers.length < MAGNET_LIMITS.trackers) m.trackers.push(u)
    } else if (name === 'ws') {
      const u = url(v, ['http:', 'https:'])
      if (u && !m.webSeeds.includes(u) && m.webSeeds.length < MAGNET_LIMITS.webSeeds) m.webSeeds.push(u)
    } else if (name === 'x.pe') {
      const peer = parsePeerAddress(v)
      if (peer && m.peers.length < MAGNET_LIMITS.peers && !m.peers.some((p) => p.host === peer.host && p.port === peer.port)) m.peers.push(peer)
    } else if (name === 'xl') {
      if (/^(0|[1-9][0-9]{0,15})$/.test(v) && Number.isSafeInteger(Number(v))) m.length = Number(v)
    }
  }
  if (!m.infohashV1 && !m.infohashV2) throw badMagnet('names no BitTorrent infohash (xt=urn:btih:… or xt=urn:btmh:1220…)')
  return m
}

/** A magnet link: both xt for a hybrid, then dn, tr and ws when given. */
export function createMagnet(m: { infohashV1?: Buffer | null; infohashV2?: Buffer | null; name?: string | null; trackers?: string[]; webSeeds?: string[] }): string {
  const parts: string[] = []
  if (m.infohashV2) parts.push(`xt=urn:btmh:1220${m.infohashV2.toString('hex')}`)
  if (m.infohashV1) parts.push(`xt=urn:btih:${m.infohashV1.toString('hex')}`)
  if (parts.length === 0) throw new Error('a magnet needs an infohash')
  if (m.name) parts.push(`dn=${encodeURIComponent(m.name)}`)
  for (const tr of m.trackers ?? []) parts.push(`tr=${encodeURIComponent(tr)}`)
  for (const ws of m.webSeeds ?? []) parts.push(`ws=${encodeURIComponent(ws)}`)
  return `magnet:?${parts.join('&')}`
}

/** The magnet of a torrent: xt for each of its infohashes, dn, and tr and ws when given. */
export function magnetOf(meta: Metainfo, opts: { trackers?: string[]; webSeeds?: string[] } = {}): string {
  return createMagnet({ infohashV1: meta.infohashV1, infohashV2: meta.infohashV2, name: meta.name, trackers: opts.trackers, webSeeds: opts.webSeeds })
}
