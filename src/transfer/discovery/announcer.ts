/**
 * Announces one torrent to its trackers (BEP 12 `announce-list`): tiers tried in order, trackers
 * shuffled within a tier once, the first that answers moved to the front of its tier; re-announces
 * at the interval it asks (clamped); `started` on first contact with a tracker, `completed` once,
 * `stopped` on stop() to every tracker that heard `started`. Each 20-byte infohash (a hybrid has
 * two: v1 and truncated v2) walks the tiers on its own. Peers go to `onPeers`, deduplicated and
 * bounded; failures and warnings go to `onMessage` (remote text: show it through src/display.ts).
 *
 *   const a = new Announcer({ peerId, onPeers: (peers) => engine.addPeers(peers) })
 *   a.start({ infohashes20: [ih], port, left: () => left, uploaded: () => up, downloaded: () => down }, [['udp://127.0.0.1:6969'], ['http://127.0.0.1:8000/announce']])
 *   a.completed()
 *   await a.stop()
 */
import { randomBytes } from 'node:crypto'
import { isDiscoveryError } from './errors.js'
import { httpAnnounce } from './http-tracker.js'
import { UdpTrackerClient } from './udp-tracker.js'
import type { AnnounceEvent, AnnounceRequest, AnnounceResponse, PeerAddress } from './tracker.js'
import { REAL_TIMERS, type Timers } from './timers.js'

export interface AnnouncedTorrent {
  /** 20-byte hashes to announce: the v1 infohash and/or the truncated v2 infohash. */
  infohashes20: Buffer[]
  port: number
  left(): number
  uploaded(): number
  downloaded(): number
}

export interface AnnouncerMessage {
  tracker: string
  infoHash: Buffer
  /** `warning`: the tracker answered with a warning; `failure`: this announce failed. */
  kind: 'warning' | 'failure'
  /** One line of ours, for a person (see DiscoveryError). */
  text: string
  /** What the tracker itself said, when it said something: untrusted. */
  remoteMessage: string | null
}

/** Bounds of one announcer. Documented in protocol.md §15.5. */
export const ANNOUNCER_LIMITS = {
  /** Trackers kept per torrent, all tiers together (the rest are ignored). */
  maxTrackers: 32,
  /** Peers passed on from one response. */
  maxPeersPerResponse: 200,
  /** A tracker's interval is clamped to [min, max]. */
  minIntervalMs: 60_000,
  maxIntervalMs: 3_600_000,
  /** When every tracker failed: retry after this, doubling up to maxRetryMs. */
  retryMs: 60_000,
  maxRetryMs: 1_800_000,
  /** How long stop() waits for `stopped` announces. */
  stopTimeoutMs: 5_000,
  numwant: 50
}

export type AnnouncerLimits = typeof ANNOUNCER_LIMITS

export type AnnounceFn = (tracker: string, req: AnnounceRequest, opts: { signal: AbortSignal }) => Promise<AnnounceResponse>

export interface AnnouncerOptions {
  onPeers: (peers: PeerAddress[], from: { tracker: string; infoHash: Buffer }) => void
  onMessage?: (m: AnnouncerMessage) => void
  /** 20 bytes; default a random `-CH0001-` id. */
  peerId?: Buffer
  /** A shared UDP client (closed by its owner); default one of our own, closed by stop(). */
  udp?: UdpTrackerClient
  /** Overrides the HTTP client (tests). */
  http?: AnnounceFn
  limits?: Partial<AnnouncerLimits>
  random?: () => number
  timers?: Timers
}

interface HashState {
  infoHash: Buffer
  /** Trackers that heard `started` from us (and so get `stopped`). */
  started: Set<string>
  completedSent: boolean
  /** The event the next announce carries (kept until a tracker has heard it). */
  pending: AnnounceEvent | undefined
  /** Announce now rather than at the interval (completed() was called). */
  urgent: boolean
  timer: unknown
  running: boolean
  failures: number
}

/** Only tracker URLs we can speak to; duplicates and empty tiers dropped; at most `max` in all. */
export function normalizeTiers(tiers: string[][], max: number): string[][] {
  const seen = new Set<string>()
  const out: string[][] = []
  let count = 0
  for (const tier of tiers) {
    const kept: string[] = []
    for (const url of tier) {
      if (count >= max) break
      if (!/^(https?|udp):\/\//i.test(url) || seen.has(url)) continue
      seen.add(url)
      kept.push(url)
      count++
    }
    if (kept.length > 0) out.push(kept)
  }
  return out
}

/** Announces one torrent to its trackers, tier by tier, and hands on the peers they name. */
export class Announcer {
  private readonly opts: AnnouncerOptions
  private readonly limits: AnnouncerLimits
  private readonly peerId: Buffer
  private readonly key = randomBytes(4).readUInt32BE(0)
  private readonly abort = new AbortController()
  private udp: UdpTrackerClient | null
  private readonly ownsUdp: boolean
  private torrent: AnnouncedTorrent | null = null
  private tiers: string[][] = []
  private states: HashState[] = []
  private stopping = false
  private readonly timers: Timers

  constructor(opts: AnnouncerOptions) {
    this.opts = opts
    this.timers = opts.timers ?? REAL_TIMERS
    this.limits = { ...ANNOUNCER_LIMITS, ...opts.limits }
    this.peerId = opts.peerId ?? Buffer.concat([Buffer.from('-CH0001-'), randomBytes(12)])
    if (this.peerId.byteLength !== 20) throw new RangeError('a peer id is 20 bytes')
    this.udp = opts.udp ?? null
    this.ownsUdp = opts.udp === undefined
  }

  start(torrent: AnnouncedTorrent, trackers: string[][]): void {
    if (this.torrent) throw new Error('this announcer has already started')
    this.torrent = torrent
    const random = this.opts.random ?? Math.random
    this.tiers = normalizeTiers(trackers, this.limits.maxTrackers).map((tier) => shuffle(tier, random))
    if (this.tiers.length === 0) return
    this.states = torrent.infohashes20.map((infoHash) => ({
      infoHash,
      started: new Set(),
      completedSent: false,
      pending: undefined,
      urgent: false,
      timer: null,
      running: false,
      failures: 0
    }))
    for (const s of this.states) this.schedule(s, 0)
  }

  /** The download finished: tell the trackers now (once). */
  completed(): void {
    for (const s of this.states) {
      if (s.completedSent || this.stopping) continue
      s.completedSent = true
      s.pending = 'completed'
      s.urgent = true
      this.schedule(s, 0)
    }
  }

  /** Stops re-announcing and sends `stopped` to every tracker that heard `started` (bounded wait). */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.abort.abort()
    for (const s of this.states) if (s.timer !== null) this.timers.clearTimeout(s.timer)
    const torrent = this.torrent
    if (torrent) {
      const signal = AbortSignal.timeout(this.limits.stopTimeoutMs)
      const sends: Promise<unknown>[] = []
      for (const s of this.states) {
        for (const tracker of s.started) {
          sends.push(this.send(tracker, this.request(s, torrent, 'stopped'), signal).catch(() => null))
        }
      }
      await Promise.all(sends)
    }
    if (this.ownsUdp && this.udp) await this.udp.close()
  }

  /** The tiers as they stand (shuffled, the working tracker first in its tier). */
  trackers(): string[][] {
    return this.tiers.map((t) => [...t])
  }

  private schedule(s: HashState, ms: number): void {
    if (this.stopping) return
    if (s.timer !== null) this.timers.clearTimeout(s.timer)
    s.timer = this.timers.setTimeout(() => {
      s.timer = null
      void this.cycle(s)
    }, ms)
  }

  /** One walk through the tiers for one infohash; schedules the next. */
  private async cycle(s: HashState): Promise<void> {
    const torrent = this.torrent
    if (s.running || this.stopping || !torrent) return
    s.running = true
    const event = s.pending
    s.pending = undefined
    s.urgent = false
    let next: number | null = null
    let answer: { tracker: string; res: AnnounceResponse } | null = null
    try {
      walk: for (const tier of this.tiers) {
        for (let i = 0; i < tier.length; i++) {
          const tracker = tier[i]!
          const ev = s.started.has(tracker) ? event : 'started'
          try {
            const res = await this.send(tracker, this.request(s, torrent, ev), this.abort.signal)
            s.started.add(tracker)
            // BEP 12: the tracker that answered moves to the front of its tier.
            tier.splice(i, 1)
            tier.unshift(tracker)
            answer = { tracker, res }
            s.failures = 0
            next = Math.min(Math.max(res.interval * 1000, (res.minInterval ?? 0) * 1000, this.limits.minIntervalMs), this.limits.maxIntervalMs)
            break walk
          } catch (err) {
            if (this.stopping) return
            this.opts.onMessage?.({
              tracker,
              infoHash: s.infoHash,
              kind: 'failure',
              text: err instanceof Error ? err.message : String(err),
              remoteMessage: isDiscoveryError(err) ? err.remoteMessage : null
            })
          }
        }
      }
      if (next === null) {
        // Nobody answered: keep the event for the next try, at the retry pace.
        s.pending ??= event
        next = Math.min(this.limits.retryMs * 2 ** s.failures, this.limits.maxRetryMs)
        s.failures++
      }
    } finally {
      s.running = false
    }
    this.schedule(s, s.urgent ? 0 : next)
    // After scheduling: the caller's callback cannot disturb the announcing.
    if (answer) this.deliver(s, answer.tracker, answer.res)
  }

  private deliver(s: HashState, tracker: string, res: AnnounceResponse): void {
    if (res.warning !== null) {
      this.opts.onMessage?.({ tracker, infoHash: s.infoHash, kind: 'warning', text: 'the tracker sent a warning', remoteMessage: res.warning })
    }
    const seen = new Set<string>()
    const peers: PeerAddress[] = []
    for (const p of res.peers) {
      if (peers.length >= this.limits.maxPeersPerResponse) break
      const id = `${p.host}|${p.port}`
      if (seen.has(id)) continue
      seen.add(id)
      peers.push(p)
    }
    if (peers.length > 0) this.opts.onPeers(peers, { tracker, infoHash: s.infoHash })
  }

  private request(s: HashState, torrent: AnnouncedTorrent, event: AnnounceEvent | undefined): AnnounceRequest {
    return {
      infoHash: s.infoHash,
      peerId: this.peerId,
      port: torrent.port,
      uploaded: torrent.uploaded(),
      downloaded: torrent.downloaded(),
      left: torrent.left(),
      numwant: event === 'stopped' ? 0 : this.limits.numwant,
      key: this.key,
      ...(event ? { event } : {})
    }
  }

  private send(tracker: string, req: AnnounceRequest, signal: AbortSignal): Promise<AnnounceResponse> {
    if (/^udp:/i.test(tracker)) {
      this.udp ??= new UdpTrackerClient()
      return this.udp.announce(tracker, req, { signal })
    }
    return (this.opts.http ?? httpAnnounce)(tracker, req, { signal })
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
