/**
 * Web seeds (BEP 19, GetRight style: `url-list` in a .torrent, `ws` in a magnet): an HTTP server
 * holding the torrent's files is asked for byte ranges. This module maps a piece (or any range of
 * the torrent's data) to files, fetches each file's part with a Range request and returns the
 * bytes; the caller verifies them like any peer's and calls reportBadPiece() when they fail.
 *
 * Layouts: the v1 one (files concatenated, pad files included; BEP 19 is defined on it) and the
 * v2-only one (`aligned`: every file starts on a piece boundary, a piece lies in one file).
 * Pad files and the gaps of an aligned layout are zeros, never requested.
 *
 *   const seed = new WebSeed('http://127.0.0.1:8080/files/', layout)
 *   const bytes = await seed.readPiece(7)
 *   if (!verify(7, bytes)) seed.reportBadPiece()
 *   seed.close()
 */
import http from 'node:http'
import https from 'node:https'
import { DiscoveryError, isDiscoveryError } from './errors.js'
import { boundedGet, httpUrl } from './http-get.js'
import { lastAtOrBefore } from '../sorted.js'

export interface WebSeedFile {
  /** Path components below the torrent's name (ignored for a single-file torrent). */
  path: string[]
  length: number
  /** Where the file begins in the torrent's data (v1: concatenated, pad files included). */
  offset: number
  pad?: boolean
}

export interface WebSeedLayout {
  name: string
  multi: boolean
  pieceLength: number
  /** v2-only: each file starts on a piece boundary (the space between is not data). */
  aligned?: boolean
  /** In offset order. */
  files: WebSeedFile[]
}

/** One file's part of a range: where it goes in the result, and what to fetch (or zero). */
export interface Segment {
  /** Index in layout.files, or -1 for a gap of an aligned layout. */
  file: number
  fileOffset: number
  length: number
  /** Offset in the range's bytes. */
  at: number
  /** Zeros: a pad file or an alignment gap. */
  zero: boolean
}

/** Bounds of one web seed. Documented in protocol.md §15.5. */
export const WEBSEED_LIMITS = {
  /** Deadline for one HTTP request (one file's part of a range). */
  timeoutMs: 30_000,
  maxRedirects: 3,
  /** Largest range read at once (a piece is at most 16 MiB, §12.5). */
  maxRangeBytes: 16 * 1024 * 1024,
  /** Consecutive failures before the web seed is dropped. */
  maxFailures: 5,
  /** After a failure the seed rests backoffMs · 2^(failures-1), at most maxBackoffMs. */
  backoffMs: 5_000,
  maxBackoffMs: 300_000,
  /** Pieces that failed verification before the web seed is dropped. */
  maxBadPieces: 1,
  /** Connections kept open to one web seed. */
  maxSockets: 4
}

export type WebSeedLimits = typeof WEBSEED_LIMITS
export type WebSeedState = 'ok' | 'backoff' | 'dropped'

/** Checks a layout's arithmetic once, so a bad one is a programming error, not a network one. */
export function checkLayout(layout: WebSeedLayout): void {
  const { pieceLength, files } = layout
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) throw new RangeError('bad piece length')
  if (!layout.multi && files.filter((f) => !f.pad).length !== 1) throw new RangeError('a single-file layout has one file')
  let end = 0
  for (const f of files) {
    if (!Number.isSafeInteger(f.length) || f.length < 0 || !Number.isSafeInteger(f.offset) || f.offset < 0) throw new RangeError('bad file length or offset')
    if (layout.aligned ? f.offset < end || (f.length > 0 && f.offset % pieceLength !== 0) : f.offset !== end) {
      throw new RangeError(layout.aligned ? 'files of an aligned layout start on piece boundaries, in order' : 'files of a v1 layout are contiguous, in order')
    }
    end = f.offset + f.length
    if (!f.pad && layout.multi) for (const c of f.path) checkComponent(c)
  }
  checkComponent(layout.name)
}

function checkComponent(c: string): void {
  // WHATWG URLs resolve "..", "." and their %2E forms: such a name would address another path.
  if (c === '' || /^(\.|%2e)+$/i.test(c)) throw new RangeError(`path component "${c}" cannot be part of a web seed URL`)
}

/** The torrent's data length (v1: pad files included; aligned: to the end of the last file). */
export function dataLength(layout: WebSeedLayout): number {
  const last = layout.files[layout.files.length - 1]
  return last ? last.offset + last.length : 0
}

/** Where piece `index` lies in the torrent's data. */
export function pieceSpan(layout: WebSeedLayout, index: number): { start: number; length: number } {
  const start = index * layout.pieceLength
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`bad piece index ${index}`)
  if (layout.aligned) {
    const f = layout.files[fileAt(layout, start)]
    if (!f || f.offset > start || start >= f.offset + f.length) throw new RangeError(`piece ${index} is not in any file`)
    return { start, length: Math.min(layout.pieceLength, f.offset + f.length - start) }
  }
  const total = dataLength(layout)
  if (start >= total) throw new RangeError(`piece ${index} is past the end of the torrent`)
  return { start, length: Math.min(layout.pieceLength, total - start) }
}

/** The files (and zeros) that make up [start, start + length). */
export function planRange(layout: WebSeedLayout, start: number, length: number): Segment[] {
  const end = start + length
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length <= 0 || end > dataLength(layout)) {
    throw new RangeError(`range ${start}+${length} is outside the torrent`)
  }
  const out: Segment[] = []
  let pos = start
  for (let i = fileAt(layout, start); i < layout.files.length; i++) {
    const f = layout.files[i]!
    if (f.offset >= end) break
    const fEnd = f.offset + f.length
    if (f.length === 0 || fEnd <= pos) continue
    if (f.offset > pos) out.push({ file: -1, fileOffset: 0, length: f.offset - pos, at: pos - start, zero: true })
    const from = Math.max(pos, f.offset)
    const to = Math.min(end, fEnd)
    out.push({ file: i, fileOffset: from - f.offset, length: to - from, at: from - start, zero: f.pad === true })
    pos = to
  }
  if (pos < end) out.push({ file: -1, fileOffset: 0, length: end - pos, at: pos - start, zero: true })
  return out
}

/** The last file that begins at or before `pos` (binary search: files are in offset order). */
function fileAt(layout: WebSeedLayout, pos: number): number {
  return lastAtOrBefore(layout.files.length, (i) => layout.files[i]!.offset, pos)
}

/**
 * BEP 19 URLs. Single file: the URL is the file, or URL + name when it ends with '/'.
 * Multi-file: URL + '/'? + name + '/' + path, each component percent-encoded.
 */
export function fileUrl(base: string, layout: WebSeedLayout, file: WebSeedFile): URL {
  const enc = (c: string): string => encodeURIComponent(c)
  let text: string
  if (!layout.multi) text = base.endsWith('/') ? base + enc(layout.name) : base
  else text = (base.endsWith('/') ? base : base + '/') + [layout.name, ...file.path].map(enc).join('/')
  return httpUrl(text, 'WEBSEED_FAILED')
}

/** Reads byte ranges of one torrent's data from one BEP 19 web seed over HTTP. */
export class WebSeed {
  readonly url: string
  private readonly layout: WebSeedLayout
  private readonly limits: WebSeedLimits
  private readonly now: () => number
  private readonly agents: { http: http.Agent; https: https.Agent }
  private failures = 0
  private badPieces = 0
  private restUntil = 0
  private dropped = false
  /** Bytes received from this source (for per-source accounting). */
  bytes = 0

  constructor(url: string, layout: WebSeedLayout, opts: { limits?: Partial<WebSeedLimits>; now?: () => number } = {}) {
    httpUrl(url, 'WEBSEED_FAILED')
    checkLayout(layout)
    this.url = url
    this.layout = layout
    this.limits = { ...WEBSEED_LIMITS, ...opts.limits }
    this.now = opts.now ?? Date.now
    const agentOpts = { keepAlive: true, maxSockets: this.limits.maxSockets }
    this.agents = { http: new http.Agent(agentOpts), https: new https.Agent(agentOpts) }
  }

  state(): WebSeedState {
    if (this.dropped) return 'dropped'
    return this.now() < this.restUntil ? 'backoff' : 'ok'
  }

  readPiece(index: number, signal?: AbortSignal): Promise<Buffer> {
    const { start, length } = pieceSpan(this.layout, index)
    return this.read(start, length, signal)
  }

  /** The bytes [start, start + length) of the torrent's data, from this web seed. */
  async read(start: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    const state = this.state()
    if (state !== 'ok') {
      throw new DiscoveryError('WEBSEED_FAILED', 'unavailable', `web seed ${this.host()} is ${state === 'dropped' ? 'no longer used' : 'resting after failures'}`)
    }
    if (length > this.limits.maxRangeBytes) throw new RangeError(`a range of ${length} bytes is above the ${this.limits.maxRangeBytes}-byte limit`)
    const segments = planRange(this.layout, start, length)
    const out = Buffer.alloc(length)
    // The first failure cancels the other requests of this range.
    const siblings = new AbortController()
    const both = signal ? AbortSignal.any([signal, siblings.signal]) : siblings.signal
    try {
      await Promise.all(segments.filter((s) => !s.zero).map(async (s) => {
        const bytes = await this.fetch(s, both)
        bytes.copy(out, s.at)
      }))
    } catch (err) {
      siblings.abort()
      if (!isDiscoveryError(err, 'aborted')) this.fail(isDiscoveryError(err, 'no-range'))
      throw err
    }
    this.failures = 0
    this.bytes += length
    return out
  }

  /** The caller's verification failed for bytes from this seed. */
  reportBadPiece(): void {
    if (++this.badPieces >= this.limits.maxBadPieces) this.dropped = true
  }

  close(): void {
    this.agents.http.destroy()
    this.agents.https.destroy()
  }

  private host(): string {
    try {
      return new URL(this.url).host
    } catch {
      return 'web seed'
    }
  }

  private fail(permanent: boolean): void {
    this.failures++
    if (permanent || this.failures >= this.limits.maxFailures) this.dropped = true
    this.restUntil = this.now() + Math.min(this.limits.backoffMs * 2 ** (this.failures - 1), this.limits.maxBackoffMs)
  }

  private async fetch(s: Segment, signal?: AbortSignal): Promise<Buffer> {
    const file = this.layout.files[s.file]!
    const url = fileUrl(this.url, this.layout, file)
    const first = s.fileOffset
    const last = s.fileOffset + s.length - 1
    const res = await boundedGet(url, {
      code: 'WEBSEED_FAILED',
      maxBytes: s.length,
      maxRedirects: this.limits.maxRedirects,
      timeoutMs: this.limits.timeoutMs,
      headers: { range: `bytes=${first}-${last}` },
      agents: this.agents,
      ...(signal ? { signal } : {}),
      check: ({ status, headers, url }) => {
        if (status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(headers['content-range'] ?? '')
          if (!m || Number(m[1]) !== first || Number(m[2]) !== last || (m[3] !== '*' && Number(m[3]) !== file.length)) {
            throw new DiscoveryError('WEBSEED_FAILED', 'malformed', `web seed ${url.host} answered another range than the one asked for`)
          }
          return { maxBytes: s.length }
        }
        if (status === 200) {
          // No Range support: the body is the whole file. Usable only from its start, and only if
          // it is the right file (its length); we keep the bytes we asked for and hang up.
          const declared = headers['content-length']
          if (first !== 0) throw new DiscoveryError('WEBSEED_FAILED', 'no-range', `web seed ${url.host} does not support range requests`)
          if (declared !== undefined && Number(declared) !== file.length) {
            throw new DiscoveryError('WEBSEED_FAILED', 'malformed', `web seed ${url.host} serves a file of another size`)
          }
          return { maxBytes: s.length, truncate: true }
        }
        throw new DiscoveryError('WEBSEED_FAILED', 'http-status', `web seed ${url.host} answered HTTP ${status}`)
      }
    })
    if (res.body.byteLength !== s.length) {
      throw new DiscoveryError('WEBSEED_FAILED', 'malformed', `web seed ${res.url.host} sent ${res.body.byteLength} bytes where ${s.length} were asked for`)
    }
    return res.body
  }
}
