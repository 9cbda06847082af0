/**
 * Minimal trackers and a web seed server for tests, written from the BEPs (not from our client):
 * an HTTP tracker (BEP 3/23), a UDP tracker (BEP 15) and a static HTTP server with Range support
 * (RFC 9110), all on 127.0.0.1, each recording what it was asked and closed by t.teardown.
 */
import dgram from 'node:dgram'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { encode, key, type BValue } from '../src/transfer/bencode.js'

interface Teardown {
  teardown: (fn: () => unknown) => void
}

export interface HttpAnnounceSeen {
  path: string
  /** Query parameters with values as raw bytes (info_hash, peer_id are binary). */
  params: Map<string, Buffer>
  raw: string
}

/** Query string → raw bytes per key (%XX decoded byte by byte, '+' left alone as BEP 3 does not use it). */
export function rawQuery(search: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const k = eq === -1 ? part : part.slice(0, eq)
    const v = eq === -1 ? '' : part.slice(eq + 1)
    const bytes: number[] = []
    for (let i = 0; i < v.length; i++) {
      if (v[i] === '%') {
        bytes.push(parseInt(v.slice(i + 1, i + 3), 16))
        i += 2
      } else bytes.push(v.charCodeAt(i))
    }
    out.set(k, Buffer.from(bytes))
  }
  return out
}

export function dict(entries: Record<string, BValue>): Map<string, BValue> {
  return new Map(Object.entries(entries).map(([k, v]) => [key(k), v]))
}

export interface HttpTrackerReply {
  status?: number
  headers?: Record<string, string>
  body: Buffer
}

/** An HTTP tracker; `reply` decides each answer (default: interval 1800 and no peers). */
export async function httpTracker(t: Teardown, reply?: (seen: HttpAnnounceSeen, n: number) => HttpTrackerReply): Promise<{ url: string; port: number; seen: HttpAnnounceSeen[] }> {
  const seen: HttpAnnounceSeen[] = []
  const server = http.createServer((req, res) => {
    const raw = req.url ?? '/'
    const q = raw.indexOf('?')
    const s: HttpAnnounceSeen = { path: q === -1 ? raw : raw.slice(0, q), params: rawQuery(q === -1 ? '' : raw.slice(q)), raw }
    seen.push(s)
    const r = reply ? reply(s, seen.length - 1) : { body: encode(dict({ interval: 1800, peers: Buffer.alloc(0) })) }
    res.writeHead(r.status ?? 200, { 'content-type': 'text/plain', ...r.headers })
    res.end(r.body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  const port = (server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${port}/announce`, port, seen }
}

export interface UdpSeen {
  action: number
  transactionId: number
  packet: Buffer
}

export interface UdpTrackerOptions {
  /** Peers for every announce, compact (6 bytes each; 18 on IPv6). */
  peers?: Buffer
  /** Listen on ::1 instead of 127.0.0.1. */
  ipv6?: boolean
  interval?: number
  /** Datagrams to drop (by arrival number, from 0) without answering. */
  drop?: Set<number>
  /** Before each real answer, send one with a transaction id off by one. */
  wrongTransactionFirst?: boolean
  /** Answer announces with an error packet carrying this text. */
  error?: string
}

/** A BEP 15 tracker: checks the protocol id and the connection id it handed out. */
export async function udpTracker(t: Teardown, opts: UdpTrackerOptions = {}): Promise<{ url: string; port: number; seen: UdpSeen[] }> {
  const seen: UdpSeen[] = []
  const connectionIds = new Set<string>()
  const socket = dgram.createSocket(opts.ipv6 ? 'udp6' : 'udp4')
  let n = 0
  socket.on('message', (msg, rinfo) => {
    const i = n++
    if (msg.length < 16) return
    const action = msg.readUInt32BE(8)
    const tx = msg.readUInt32BE(12)
    seen.push({ action, transactionId: tx, packet: Buffer.from(msg) })
    if (opts.drop?.has(i)) return
    const send = (b: Buffer): void => {
      if (opts.wrongTransactionFirst) {
        const wrong = Buffer.from(b)
        wrong.writeUInt32BE((tx + 1) >>> 0, 4)
        socket.send(wrong, rinfo.port, rinfo.address)
      }
      socket.send(b, rinfo.port, rinfo.address)
    }
    if (action === 0) {
      if (msg.length !== 16 || msg.readBigUInt64BE(0) !== 0x41727101980n) return
      const id = Buffer.alloc(8)
      id.writeUInt32BE(Math.floor(Math.random() * 2 ** 32), 0)
      id.writeUInt32BE(i, 4)
      connectionIds.add(id.toString('hex'))
      const b = Buffer.alloc(16)
      b.writeUInt32BE(0, 0)
      b.writeUInt32BE(tx, 4)
      id.copy(b, 8)
      send(b)
    } else if (action === 1) {
      if (msg.length < 98 || !connectionIds.has(msg.subarray(0, 8).toString('hex'))) return
      if (opts.error !== undefined) {
        const b = Buffer.alloc(8)
        b.writeUInt32BE(3, 0)
        b.writeUInt32BE(tx, 4)
        send(Buffer.concat([b, Buffer.from(opts.error)]))
        return
      }
      const peers = opts.peers ?? Buffer.alloc(0)
      const b = Buffer.alloc(20)
      b.writeUInt32BE(1, 0)
      b.writeUInt32BE(tx, 4)
      b.writeUInt32BE(opts.interval ?? 1800, 8)
      b.writeUInt32BE(0, 12)
      b.writeUInt32BE(peers.length / (opts.ipv6 ? 18 : 6), 16)
      send(Buffer.concat([b, peers]))
    }
  })
  socket.bind(0, opts.ipv6 ? '::1' : '127.0.0.1')
  await once(socket, 'listening')
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())))
  const port = socket.address().port
  return { url: opts.ipv6 ? `udp://[::1]:${port}` : `udp://127.0.0.1:${port}`, port, seen }
}

export type WebSeedMode = 'range' | 'ignore-range' | 'too-many' | 'wrong-range'

/**
 * A static file server: `files` maps URL paths (decoded, as a real server reads them) to contents. Modes:
 * honest Range support; ignoring Range (200, whole file); a 206 whose body runs past the range;
 * a 206 for another range than asked. Paths under /r/ redirect to the same path without it.
 */
export async function webSeedServer(t: Teardown, files: Map<string, Buffer>, mode: () => WebSeedMode = () => 'range'): Promise<{ base: string; requests: Array<{ path: string; range: string | undefined }> }> {
  const requests: Array<{ path: string; range: string | undefined }> = []
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push({ path, range: req.headers.range })
    // A mirror that redirects: /r/X → /X.
    if (path.startsWith('/r/')) {
      res.writeHead(302, { location: path.slice(2) }).end()
      return
    }
    let body: Buffer | undefined
    try {
      body = files.get(path.split('/').map(decodeURIComponent).join('/'))
    } catch {
      body = undefined // a malformed escape: not found
    }
    if (!body) {
      res.writeHead(404).end()
      return
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
    const how = mode()
    if (!m || how === 'ignore-range') {
      res.writeHead(200, { 'content-length': String(body.length) }).end(body)
      return
    }
    const first = Number(m[1])
    const last = Math.min(Number(m[2]), body.length - 1)
    if (first > last) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end()
      return
    }
    if (how === 'wrong-range') {
      res.writeHead(206, { 'content-range': `bytes ${first + 1}-${last + 1}/${body.length}` }).end(body.subarray(first + 1, last + 2))
      return
    }
    const slice = how === 'too-many' ? Buffer.concat([body.subarray(first, last + 1), Buffer.alloc(4096, 0x41)]) : body.subarray(first, last + 1)
    // No Content-Length for 'too-many': the body runs on until the connection closes.
    res.writeHead(206, { 'content-range': `bytes ${first}-${last}/${body.length}`, ...(how === 'too-many' ? { connection: 'close' } : { 'content-length': String(slice.length) }) })
    res.end(slice)
  })
  server.keepAliveTimeout = 1000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}
