/**
 * The mainline DHT (BEP 5): find BitTorrent peers by infohash and tell others where we seed.
 * An adapter over `bittorrent-dht` (types/bittorrent-dht.d.ts), one node per Chrysalis node.
 *
 *   const dht = await MainlineDht.start({ bootstrap: [{ host: '127.0.0.1', port: 6881 }], host: '127.0.0.1', port: 0 })
 *   await dht.announce(infohash, 6881)
 *   for await (const peer of dht.lookup(infohash, { timeoutMs: 10_000 })) console.log(peer.host, peer.port)
 *   await dht.close()
 *
 * Bootstrap is always explicit: the caller passes the list (an empty list: no bootstrap at all,
 * the node waits to be contacted). The public routers are only in PUBLIC_ROUTERS, which only the
 * CLI's default path (dht-config.ts) hands in. The library's own default list (k-rpc's
 * BOOTSTRAP_NODES, used when `bootstrap` is undefined) is never reached: we always pass `false`
 * or a list, and start() checks the list k-rpc kept before the socket is even bound.
 *
 * Hostile datagrams: k-rpc-socket and bittorrent-dht handle a decoded packet synchronously and
 * throw on some shapes (an integer `info_hash` reaches `toString('hex')`, an integer node id
 * reaches `Buffer.equals`), which in a 'message' listener would crash the process. The UDP socket
 * they get is a GuardedSocket: it drops datagrams over LIMITS.maxDatagramBytes, turns a throw in
 * their handling into a counted warning, and turns send errors into callback errors.
 */
import dgram from 'node:dgram'
import dns from 'node:dns/promises'
import { EventEmitter } from 'node:events'
import net from 'node:net'
import DHT from 'bittorrent-dht'
import { ChrysalisError } from '../../errors.js'

export interface DhtNode {
  host: string
  port: number
}

/** Bounds of one node; protocol.md §15.x lists them. */
export const LIMITS = {
  /** Distinct peers one lookup yields before it stops. */
  maxPeersPerLookup: 200,
  /** Lookups running at once per node; more wait for a slot (FIFO). */
  maxConcurrentLookups: 8,
  /** A lookup ends after this long unless the caller asks for less. */
  lookupTimeoutMs: 30_000,
  /** DHT queries in flight per node (k-rpc `concurrency`). */
  queryConcurrency: 16,
  /** One DHT query waits this long for its answer (k-rpc-socket `timeout`). */
  queryTimeoutMs: 2_000,
  /** Peers stored for others' announces, all infohashes together (bittorrent-dht `maxPeers`). */
  maxStoredPeers: 10_000,
  /** Lookup tables kept for announcing (bittorrent-dht `maxTables`). */
  maxTables: 1_000,
  /** BEP 44 values stored for others (we never put any; bittorrent-dht `maxValues`). */
  maxStoredValues: 100,
  /** A datagram above this is dropped before decoding (a BEP 5 message fits in ~1,500 bytes). */
  maxDatagramBytes: 8_192,
  /** Bootstrap nodes accepted in one list. */
  maxBootstrapNodes: 64,
  /** Routing-table nodes returned by nodes() for persistence. */
  maxPersistedNodes: 256
} as const

/**
 * The well-known public routers. Only the CLI's default (no --bt-bootstrap, no
 * CHRYSALIS_BT_BOOTSTRAP, DHT on) uses them; tests never do.
 */
export const PUBLIC_ROUTERS: readonly DhtNode[] = Object.freeze([
  { host: 'router.bittorrent.com', port: 6881 },
  { host: 'dht.transmissionbt.com', port: 6881 },
  { host: 'router.utorrent.com', port: 6881 },
  { host: 'dht.libtorrent.org', port: 25401 }
])

export interface MainlineDhtOptions {
  /** Required: the nodes to join through; [] = none (this node waits to be contacted). */
  bootstrap: readonly DhtNode[]
  /** UDP address to bind, e.g. '127.0.0.1' (tests) or '0.0.0.0'. */
  host: string
  /** UDP port; 0 picks a free one. */
  port: number
  /** Routing-table nodes saved by an earlier run (nodes()); pinged, not trusted. */
  knownNodes?: readonly DhtNode[]
  /** Injected UDP socket (tests); by default a new udp4 socket. */
  socket?: dgram.Socket
}

export interface LookupOptions {
  signal?: AbortSignal
  /** Default and maximum LIMITS.lookupTimeoutMs. */
  timeoutMs?: number
  /** Default and maximum LIMITS.maxPeersPerLookup. */
  maxPeers?: number
}

/** One mainline DHT node (BEP 5): looks BitTorrent peers up by infohash and announces ours. */
export class MainlineDht {
  readonly #lib: DHT
  readonly #socket: GuardedSocket
  readonly #ending = new Set<() => void>()
  readonly #waiting: Array<() => void> = []
  #running = 0
  #closed: Promise<void> | null = null

  private constructor(lib: DHT, socket: GuardedSocket) {
    this.#lib = lib
    this.#socket = socket
  }

  static async start(opts: MainlineDhtOptions): Promise<MainlineDht> {
    const listed = checkNodes(opts.bootstrap, 'bootstrap')
    const known = opts.knownNodes === undefined ? [] : checkNodes(opts.knownNodes, 'known').slice(0, LIMITS.maxPersistedNodes)
    if (typeof opts.host !== 'string' || opts.host === '' || !validPort(opts.port, true)) {
      throw new ChrysalisError('USAGE', `the mainline DHT needs a host and a port from 0 to 65535, not ${String(opts.host)}:${String(opts.port)}`)
    }
    const bootstrap = await resolveIPv4(listed)
    const socket = new GuardedSocket(opts.socket ?? dgram.createSocket('udp4'))
    const lib = new DHT({
      bootstrap: bootstrap.length > 0 ? bootstrap : false,
      socket: socket as unknown as dgram.Socket,
      concurrency: LIMITS.queryConcurrency,
      timeout: LIMITS.queryTimeoutMs,
      maxPeers: LIMITS.maxStoredPeers,
      maxTables: LIMITS.maxTables,
      maxValues: LIMITS.maxStoredValues
    })
    // Socket and library errors never reach an unhandled 'error' event: bind errors reject
    // start() below, later ones (a send to an unreachable host, ICMP errors) are only counted.
    lib.on('error', () => socket.countWarning())
    lib.on('warning', () => socket.countWarning())
    // The library's first bootstrap query runs on the next tick; the list it will use is fixed
    // now, so a wrong one is caught before a single packet is sent.
    if (!sameNodes(lib._rpc.bootstrap, bootstrap)) {
      lib.destroy()
      throw new ChrysalisError('DHT_FAILED', 'the mainline DHT library did not take our bootstrap list; refusing to start')
    }
    const bound = new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        lib.off('listening', onListening)
        reject(err)
      }
      const onListening = (): void => {
        lib.off('error', onError)
        resolve()
      }
      lib.once('error', onError)
      lib.once('listening', onListening)
    })
    lib.listen(opts.port, opts.host)
    try {
      await bound
    } catch (err) {
      await new Promise<void>((resolve) => lib.destroy(resolve))
      const code = (err as NodeJS.ErrnoException).code ?? 'error'
      throw new ChrysalisError('DHT_FAILED', `cannot listen on UDP ${opts.host}:${opts.port} for the mainline DHT (${code}); choose another port`, { cause: err })
    }
    for (const node of known) lib.addNode(node)
    return new MainlineDht(lib, socket)
  }

  /** The UDP address this node listens on. */
  address(): DhtNode {
    const a = this.#lib.address()
    return { host: a.address, port: a.port }
  }

  /** Resolves once the first walk through the bootstrap nodes has finished (or at once without any). */
  async ready(): Promise<void> {
    if ((this.#lib as unknown as { ready?: boolean }).ready === true || this.#closed) return
    await new Promise<void>((resolve) => {
      this.#lib.once('ready', resolve)
      this.#lib.once('close', resolve)
    })
  }

  /** Datagrams dropped or handling errors swallowed so far (hostile or broken peers). */
  get warnings(): number {
    return this.#socket.warnings
  }

  /** Announce that we take BitTorrent connections for `infohash` on TCP `port` (BEP 5 announce_peer). */
  async announce(infohash: Buffer, port: number): Promise<void> {
    checkHash(infohash)
    if (!validPort(port, false)) throw new ChrysalisError('BAD_INPUT', `cannot announce port ${String(port)}; use a port from 1 to 65535`)
    this.#checkOpen()
    await new Promise<void>((resolve, reject) => {
      this.#lib.announce(Buffer.from(infohash), port, (err) => {
        if (!err) return resolve()
        reject(new ChrysalisError('DHT_FAILED', `no mainline DHT node took the announce of ${infohash.toString('hex')} (${err.message}); check --bt-bootstrap and the network`, { cause: err }))
      })
    })
  }

  /** Announce a torrent under each of its DHT hashes (dhtHashes()); fails only if all failed. */
  async announceTorrent(hashes: TorrentHashes, port: number): Promise<void> {
    const results = await Promise.allSettled(dhtHashes(hashes).map((h) => this.announce(h, port)))
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed.length === results.length && failed[0]) throw failed[0].reason
  }

  /**
   * Peers for `infohash` as they arrive, each host:port once, at most maxPeers; ends when the walk
   * through the DHT ends, on timeout, on abort or on close(). Waits for a slot when
   * LIMITS.maxConcurrentLookups are running.
   */
  lookup(infohash: Buffer, opts: LookupOptions = {}): AsyncIterable<DhtNode> {
    checkHash(infohash)
    this.#checkOpen()
    const hash = Buffer.from(infohash)
    return { [Symbol.asyncIterator]: () => this.#iterate(hash, opts) }
  }

  async *#iterate(hash: Buffer, opts: LookupOptions): AsyncGenerator<DhtNode> {
    const limit = Math.max(0, Math.min(opts.maxPeers ?? LIMITS.maxPeersPerLookup, LIMITS.maxPeersPerLookup))
    const timeoutMs = Math.max(0, Math.min(opts.timeoutMs ?? LIMITS.lookupTimeoutMs, LIMITS.lookupTimeoutMs))
    const deadline = Date.now() + timeoutMs
    if (!(await this.#acquire(opts.signal))) return
    if (this.#closed) return this.#release() // closed while this lookup waited for its first step
    const seen = new Set<string>()
    const queue: DhtNode[] = []
    let done = false
    let wake: (() => void) | null = null
    const notify = (): void => {
      const w = wake
      wake = null
      w?.()
    }
    const end = (): void => {
      done = true
      notify()
    }
    const onPeer = (peer: { host: string; port: number }, infoHash: Buffer): void => {
      if (done || !infoHash.equals(hash) || seen.size >= limit) return
      const key = `${peer.host}:${peer.port}`
      if (seen.has(key)) return
      seen.add(key)
      queue.push({ host: peer.host, port: peer.port })
      notify()
    }
    this.#lib.on('peer', onPeer)
    this.#ending.add(end)
    opts.signal?.addEventListener('abort', end, { once: true })
    const timer = setTimeout(end, Math.max(0, deadline - Date.now()))
    const abort = this.#lib.lookup(hash, end)
    try {
      for (;;) {
        const next = queue.shift()
        if (next) {
          yield next
          continue
        }
        if (done || seen.size >= limit || opts.signal?.aborted === true) return
        await new Promise<void>((resolve) => (wake = resolve))
      }
    } finally {
      done = true
      abort()
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', end)
      this.#lib.off('peer', onPeer)
      this.#ending.delete(end)
      this.#release()
    }
  }

  async #acquire(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted === true || this.#closed) return false
    if (this.#running < LIMITS.maxConcurrentLookups) {
      this.#running++
      return true
    }
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(go)
        if (i >= 0) this.#waiting.splice(i, 1)
        this.#ending.delete(onAbort)
        resolve(false)
      }
      const go = (): void => {
        signal?.removeEventListener('abort', onAbort)
        this.#ending.delete(onAbort)
        resolve(true)
      }
      this.#waiting.push(go)
      this.#ending.add(onAbort)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  #release(): void {
    const next = this.#waiting.shift()
    if (next) next() // the slot passes on
    else this.#running--
  }

  /** Lookups running and waiting (for tests and status). */
  get lookups(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length }
  }

  /** Routing-table nodes worth saving for the next start (knownNodes), at most LIMITS.maxPersistedNodes. */
  nodes(): DhtNode[] {
    return this.#lib
      .toJSON()
      .nodes.filter((n) => typeof n.host === 'string' && validPort(n.port, false))
      .slice(0, LIMITS.maxPersistedNodes)
      .map((n) => ({ host: n.host, port: n.port }))
  }

  /** Add a node to the routing table (it is pinged first). */
  addNode(node: DhtNode): void {
    this.#checkOpen()
    this.#lib.addNode(checkNodes([node], 'added')[0]!)
  }

  /** Ends every lookup and closes the socket; idempotent. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed
    this.#closed = new Promise<void>((resolve) => {
      for (const end of [...this.#ending]) end()
      this.#lib.destroy(() => resolve())
    })
    return this.#closed
  }

  #checkOpen(): void {
    if (this.#closed) throw new ChrysalisError('DHT_FAILED', 'the mainline DHT node is closed')
  }
}

/** A torrent's infohashes: v1 (SHA-1, 20 bytes) and/or v2 (SHA-256, 32 bytes). */
export interface TorrentHashes {
  v1?: Buffer | null
  v2?: Buffer | null
}

/**
 * The hashes a torrent goes by on the DHT: its v1 infohash and its v2 infohash truncated to its
 * first 20 bytes (BEP 52), as libtorrent announces both.
 */
export function dhtHashes(hashes: TorrentHashes): Buffer[] {
  const out: Buffer[] = []
  if (hashes.v1) {
    if (hashes.v1.length !== 20) throw new ChrysalisError('BAD_INPUT', `a v1 infohash has 20 bytes, not ${hashes.v1.length}`)
    out.push(Buffer.from(hashes.v1))
  }
  if (hashes.v2) {
    if (hashes.v2.length !== 32) throw new ChrysalisError('BAD_INPUT', `a v2 infohash has 32 bytes, not ${hashes.v2.length}`)
    out.push(Buffer.from(hashes.v2.subarray(0, 20)))
  }
  if (out.length === 0) throw new ChrysalisError('BAD_INPUT', 'a torrent needs a v1 or a v2 infohash to go on the DHT')
  return out
}

function checkHash(infohash: Buffer): void {
  if (!Buffer.isBuffer(infohash) || infohash.length !== 20) {
    throw new ChrysalisError('BAD_INPUT', 'a DHT infohash has 20 bytes (a v1 hash, or a v2 hash truncated to 20 bytes)')
  }
}

function validPort(port: unknown, allowZero: boolean): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65535
}

function checkNodes(nodes: readonly DhtNode[] | undefined, what: string): DhtNode[] {
  if (!Array.isArray(nodes)) {
    throw new ChrysalisError('USAGE', `the mainline DHT needs an explicit ${what} list ([] for none)`)
  }
  if (nodes.length > LIMITS.maxBootstrapNodes && what === 'bootstrap') {
    throw new ChrysalisError('USAGE', `at most ${LIMITS.maxBootstrapNodes} bootstrap nodes, not ${nodes.length}`)
  }
  return nodes.map((n: DhtNode) => {
    if (typeof n?.host !== 'string' || n.host === '' || !validPort(n.port, false)) {
      throw new ChrysalisError('USAGE', `"${String(n?.host)}:${String(n?.port)}" is not a DHT node address; use HOST:PORT`)
    }
    return { host: n.host, port: n.port }
  })
}

/**
 * The socket is udp4 (BEP 5), but k-rpc resolves a name with dns.lookup's default family, which
 * may answer ::1 for `localhost`: names are resolved here to IPv4 first. A name that does not
 * resolve now is kept, for the library to try again when it re-bootstraps.
 */
async function resolveIPv4(nodes: DhtNode[]): Promise<DhtNode[]> {
  return Promise.all(
    nodes.map(async (n) => {
      if (net.isIPv4(n.host)) return n
      if (net.isIPv6(n.host)) throw new ChrysalisError('USAGE', `${n.host} is an IPv6 address; the mainline DHT here is IPv4 (BEP 5): use an IPv4 address or a host name`)
      try {
        return { host: (await dns.lookup(n.host, { family: 4 })).address, port: n.port }
      } catch {
        return n
      }
    })
  )
}

function sameNodes(a: unknown, b: readonly DhtNode[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false
  const got = a as Array<Partial<DhtNode> | undefined>
  return b.every((n, i) => got[i]?.host === n.host && got[i]?.port === n.port)
}

type SendCallback = (err: Error | null, bytes?: number) => void

/**
 * The UDP socket handed to k-rpc-socket: the calls it makes (on/bind/send/address/close),
 * with a bound on datagram size and a wall between its exceptions and the process.
 */
class GuardedSocket extends EventEmitter {
  readonly #raw: dgram.Socket
  warnings = 0

  constructor(raw: dgram.Socket) {
    super()
    this.#raw = raw
    raw.on('message', (buf: Buffer, rinfo: dgram.RemoteInfo) => {
      if (buf.length > LIMITS.maxDatagramBytes) return this.countWarning()
      try {
        this.emit('message', buf, rinfo)
      } catch {
        this.countWarning() // a datagram the library chokes on: dropped, the node goes on
      }
    })
    raw.on('error', (err) => this.emit('error', err))
    raw.on('listening', () => this.emit('listening'))
    raw.on('close', () => this.emit('close'))
  }

  countWarning(): void {
    this.warnings++
  }

  bind(port: number, host: string): void {
    this.#raw.bind(port, host)
  }

  address(): dgram.RemoteInfo | { address: string; family: string; port: number } {
    try {
      return this.#raw.address()
    } catch {
      return { address: '', family: 'IPv4', port: 0 } // not bound (yet, or any more)
    }
  }

  send(buf: Buffer, offset: number, length: number, port: number, host: string, cb: SendCallback): void {
    try {
      this.#raw.send(buf, offset, length, port, host, cb)
    } catch (err) {
      // A closed socket or a bad port throws synchronously; k-rpc-socket expects a callback.
      process.nextTick(() => cb(err as Error))
    }
  }

  close(): void {
    try {
      this.#raw.close()
    } catch {
      process.nextTick(() => this.emit('close')) // never bound, or closed already
    }
  }
}
