/**
 * One bounded HTTP(S) GET, shared by the tracker client and web seeds: only http: and https:
 * URLs (redirects included), a deadline over the whole exchange, at most `maxRedirects`
 * redirects, and a body cap checked against Content-Length before reading and against the bytes
 * received while reading (a longer body aborts the request). Nothing is decompressed: we send
 * no Accept-Encoding, so a conforming server answers with the identity encoding.
 *
 *   const { status, body } = await boundedGet(new URL(url), { maxBytes: 1 << 20, maxRedirects: 3, timeoutMs: 15_000, code: 'TRACKER_FAILED' })
 */
import http from 'node:http'
import https from 'node:https'
import { DiscoveryError } from './errors.js'

export interface BoundedGetOptions {
  /** The error code failures carry (TRACKER_FAILED or WEBSEED_FAILED). */
  code: 'TRACKER_FAILED' | 'WEBSEED_FAILED'
  /** Largest body accepted, in bytes. */
  maxBytes: number
  maxRedirects: number
  /** Deadline for the whole exchange, redirects and body included. */
  timeoutMs: number
  headers?: Record<string, string>
  signal?: AbortSignal
  agents?: { http?: http.Agent; https?: https.Agent }
  /**
   * Sees the final response before its body is read: throw to refuse it, or return a smaller
   * body cap for it (a web seed expects exactly the bytes it asked for) and, with `truncate`,
   * keep only the first `maxBytes` bytes of a longer body and close the connection.
   */
  check?: (res: { status: number; headers: http.IncomingHttpHeaders; url: URL }) => { maxBytes: number; truncate?: boolean } | undefined
}

export interface BoundedGetResult {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** The URL that answered, after redirects. */
  url: URL
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** Refuses anything but http: and https: (no file:, data:, ftp:, no javascript: in a Location). */
export function httpUrl(text: string | URL, code: BoundedGetOptions['code'], base?: URL): URL {
  let url: URL
  try {
    url = typeof text === 'string' ? new URL(text, base) : text
  } catch (err) {
    throw new DiscoveryError(code, 'bad-url', 'not a valid URL; check the tracker or web seed address', { cause: err })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DiscoveryError(code, 'bad-url', `${url.protocol} URLs are not supported (only http: and https:)`)
  }
  return url
}

export async function boundedGet(start: URL, opts: BoundedGetOptions): Promise<BoundedGetResult> {
  const deadline = AbortSignal.timeout(opts.timeoutMs)
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline
  let url = httpUrl(start, opts.code)
  for (let redirects = 0; ; redirects++) {
    const res = await send(url, opts, signal, deadline)
    const location = res.headers.location
    if (REDIRECTS.has(res.statusCode ?? 0) && location !== undefined) {
      res.destroy()
      if (redirects >= opts.maxRedirects) {
        throw new DiscoveryError(opts.code, 'redirects', `${url.host} redirected more than ${opts.maxRedirects} times`)
      }
      url = httpUrl(location, opts.code, url)
      continue
    }
    const status = res.statusCode ?? 0
    const encoding = res.headers['content-encoding']
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      res.destroy()
      throw new DiscoveryError(opts.code, 'malformed', `${url.host} sent a compressed or encoded body, which was not asked for`)
    }
    let cap = opts.maxBytes
    let truncate = false
    try {
      const limit = opts.check?.({ status, headers: res.headers, url })
      if (limit !== undefined) {
        cap = Math.min(cap, limit.maxBytes)
        truncate = limit.truncate === true
      }
    } catch (err) {
      res.destroy()
      throw err
    }
    const body = await readBody(res, cap, truncate, url, opts, signal, deadline)
    return { status, headers: res.headers, body, url }
  }
}

function send(url: URL, opts: BoundedGetOptions, signal: AbortSignal, deadline: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http
    const agent = url.protocol === 'https:' ? opts.agents?.https : opts.agents?.http
    let req: http.ClientRequest
    try {
      req = mod.request(url, { method: 'GET', headers: { 'user-agent': 'chrysalis', ...opts.headers }, signal, ...(agent ? { agent } : {}) })
    } catch (err) {
      reject(failure(err, url, opts, signal, deadline))
      return
    }
    req.once('response', resolve)
    req.once('error', (err) => reject(failure(err, url, opts, signal, deadline)))
    req.end()
  })
}

function readBody(res: http.IncomingMessage, cap: number, truncate: boolean, url: URL, opts: BoundedGetOptions, signal: AbortSignal, deadline: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = res.headers['content-length']
    if (!truncate && declared !== undefined && Number(declared) > cap) {
      res.destroy()
      reject(new DiscoveryError(opts.code, 'too-large', `${url.host} announced a body of ${declared} bytes, above the ${cap}-byte limit`))
      return
    }
    const chunks: Buffer[] = []
    let total = 0
    res.on('data', (chunk: Buffer) => {
      if (truncate && total + chunk.byteLength >= cap) {
        chunks.push(chunk.subarray(0, cap - total))
        total = cap
        res.destroy()
        resolve(Buffer.concat(chunks, total))
        return
      }
      total += chunk.byteLength
      if (total > cap) {
        res.destroy()
        reject(new DiscoveryError(opts.code, 'too-large', `${url.host} sent more than ${cap} bytes`))
        return
      }
      chunks.push(chunk)
    })
    res.once('end', () => resolve(Buffer.concat(chunks, total)))
    res.once('error', (err) => reject(failure(err, url, opts, signal, deadline)))
    res.once('close', () => {
      if (!res.complete) reject(failure(new Error('connection closed before the body ended'), url, opts, signal, deadline))
    })
  })
}

function failure(err: unknown, url: URL, opts: BoundedGetOptions, signal: AbortSignal, deadline: AbortSignal): DiscoveryError {
  if (err instanceof DiscoveryError) return err
  if (deadline.aborted) return new DiscoveryError(opts.code, 'timeout', `${url.host} did not answer within ${opts.timeoutMs / 1000} s`, { cause: err })
  if (signal.aborted) return new DiscoveryError(opts.code, 'aborted', `the request to ${url.host} was cancelled`, { cause: err })
  const detail = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'network error'
  return new DiscoveryError(opts.code, 'network', `could not reach ${url.host} (${detail})`, { cause: err })
}
