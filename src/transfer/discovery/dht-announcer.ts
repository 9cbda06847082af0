/**
 * Keeps torrents announced on the mainline DHT: the engine says "keep announcing this torrent on
 * port P" or "stop", the announcer re-announces every `intervalMs` (BEP 5 nodes forget a peer
 * after about 30 minutes), and sooner (`retryMs`) after an announce no node took.
 *
 *   const announcer = new Announcer(dht, { onError: (key, err) => log(err.message) })
 *   announcer.keep(hex, [v1, v2.subarray(0, 20)], 6881)
 *   announcer.stop(hex)
 */
import type { ChrysalisError } from '../../errors.js'
import { REAL_TIMERS, type Timers } from './timers.js'

export type { Timers }

export const ANNOUNCE = {
  /** Re-announce period: under the ~30 minutes after which BEP 5 nodes drop a peer. */
  intervalMs: 20 * 60_000,
  /** After a failed announce (no node answered), try again this soon. */
  retryMs: 60_000,
  /** Torrents kept announced at once; keep() beyond it throws. */
  maxTorrents: 1_000
} as const

export interface AnnounceTarget {
  announce(infohash: Buffer, port: number): Promise<void>
}

export interface DhtAnnouncerOptions {
  intervalMs?: number
  retryMs?: number
  timers?: Timers
  /** Told about each announce that failed (the announcer keeps trying). */
  onError?: (key: string, err: ChrysalisError | Error) => void
}

interface Entry {
  hashes: Buffer[]
  port: number
  timer: unknown
}

/** Keeps torrents announced on the mainline DHT, again on a timer and after a failed announce. */
export class DhtAnnouncer {
  readonly #dht: AnnounceTarget
  readonly #intervalMs: number
  readonly #retryMs: number
  readonly #timers: Timers
  readonly #onError: (key: string, err: Error) => void
  readonly #entries = new Map<string, Entry>()
  #closed = false

  constructor(dht: AnnounceTarget, opts: DhtAnnouncerOptions = {}) {
    this.#dht = dht
    this.#intervalMs = opts.intervalMs ?? ANNOUNCE.intervalMs
    this.#retryMs = opts.retryMs ?? ANNOUNCE.retryMs
    this.#timers = opts.timers ?? REAL_TIMERS
    this.#onError = opts.onError ?? (() => {})
  }

  /** Announce `hashes` on `port` now and keep doing so; replaces what `key` announced before. */
  keep(key: string, hashes: readonly Buffer[], port: number): void {
    if (this.#closed) return
    const old = this.#entries.get(key)
    if (!old && this.#entries.size >= ANNOUNCE.maxTorrents) {
      throw new Error(`at most ${ANNOUNCE.maxTorrents} torrents are announced at once`)
    }
    if (old) this.#timers.clearTimeout(old.timer)
    // A run still in flight for `old` sees it replaced (identity check in #run) and schedules nothing.
    const entry: Entry = { hashes: hashes.map((h) => Buffer.from(h)), port, timer: null }
    this.#entries.set(key, entry)
    void this.#run(key, entry)
  }

  /** Stop announcing `key` (nodes forget it within their peer timeout). */
  stop(key: string): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#timers.clearTimeout(entry.timer)
    this.#entries.delete(key)
  }

  has(key: string): boolean {
    return this.#entries.has(key)
  }

  get size(): number {
    return this.#entries.size
  }

  close(): void {
    this.#closed = true
    for (const key of [...this.#entries.keys()]) this.stop(key)
  }

  async #run(key: string, entry: Entry): Promise<void> {
    let failed = false
    for (const hash of entry.hashes) {
      try {
        await this.#dht.announce(hash, entry.port)
      } catch (err) {
        failed = true
        if (this.#entries.get(key) === entry) this.#onError(key, err as Error)
      }
    }
    if (this.#closed || this.#entries.get(key) !== entry) return // stopped or replaced meanwhile
    entry.timer = this.#timers.setTimeout(() => void this.#run(key, entry), failed ? this.#retryMs : this.#intervalMs)
  }
}
