// The mainline DHT module (src/transfer/discovery/dht.ts), all on 127.0.0.1: our nodes among
// themselves, libtorrent 2.0.8 both ways (test/oracle/lt-peer.py), hostile datagrams, and proof
// that nothing goes to the public routers.
import test from 'brittle'
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import dgram from 'node:dgram'
import dns from 'node:dns'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import DHT from 'bittorrent-dht'
import { isChrysalisError } from '../src/errors.js'
import { LIMITS, MainlineDht, PUBLIC_ROUTERS, dhtHashes, type DhtNode, type MainlineDhtOptions } from '../src/transfer/discovery/dht.js'
import { tmpDir, type Test } from './helpers.js'
import { daemon, freeUdpPort, oneLineError, run, watch, type Daemon } from './helpers-cli.js'

const LT_PEER = path.resolve(import.meta.dirname, 'oracle', 'lt-peer.py')

async function node(t: Test, opts: Partial<MainlineDhtOptions> = {}): Promise<MainlineDht> {
  const dht = await MainlineDht.start({ bootstrap: [], host: '127.0.0.1', port: 0, ...opts })
  t.teardown(() => dht.close())
  return dht
}

/** Three of our nodes: c is the bootstrap of a and b. */
async function trio(t: Test): Promise<{ a: MainlineDht; b: MainlineDht; c: MainlineDht }> {
  const c = await node(t)
  const a = await node(t, { bootstrap: [c.address()] })
  const b = await node(t, { bootstrap: [c.address()] })
  await Promise.all([a.ready(), b.ready()])
  return { a, b, c }
}

async function collect(it: AsyncIterable<DhtNode>): Promise<string[]> {
  const out: string[] = []
  for await (const p of it) out.push(`${p.host}:${p.port}`)
  return out
}

/**
 * Look up every half second until `want` shows up or the deadline passes (a poll, not a fixed
 * wait: libtorrent blocks an address that queries it more than 5 times a second).
 */
async function findWithin(dht: MainlineDht, hash: Buffer, want: string, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms
  let seen: string[] = []
  while (Date.now() < deadline) {
    seen = []
    for await (const p of dht.lookup(hash, { timeoutMs: Math.max(1, Math.min(5000, deadline - Date.now())) })) {
      seen.push(`${p.host}:${p.port}`)
      if (seen.includes(want)) return seen
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 500))
  }
  return seen
}

test('three nodes: what a announces, b finds, each peer once', async (t) => {
  const { a, b } = await trio(t)
  const hash = crypto.randomBytes(20)
  await a.announce(hash, 51413)
  await a.announce(hash, 51413) // twice: still one peer
  t.alike(await collect(b.lookup(hash, { timeoutMs: 10_000 })), ['127.0.0.1:51413'])
  t.alike(await collect(b.lookup(crypto.randomBytes(20), { timeoutMs: 10_000 })), [], 'an unknown hash: nothing, and the lookup ends')
})

test('a bootstrap name is resolved to IPv4 (localhost, not ::1)', async (t) => {
  const c = await node(t)
  const a = await node(t, { bootstrap: [{ host: 'localhost', port: c.address().port }] })
  await a.ready()
  const hash = crypto.randomBytes(20)
  await a.announce(hash, 6881)
  t.alike(await collect(c.lookup(hash, { timeoutMs: 10_000 })), ['127.0.0.1:6881'])
})

test('a torrent goes on the DHT under its v1 hash and its v2 hash truncated to 20 bytes', async (t) => {
  const { a, b } = await trio(t)
  const v1 = crypto.randomBytes(20)
  const v2 = crypto.randomBytes(32)
  t.alike(dhtHashes({ v1, v2 }), [v1, v2.subarray(0, 20)])
  t.alike(dhtHashes({ v2 }), [v2.subarray(0, 20)])
  await a.announceTorrent({ v1, v2 }, 6889)
  t.alike(await collect(b.lookup(v1, { timeoutMs: 10_000 })), ['127.0.0.1:6889'], 'found by v1')
  t.alike(await collect(b.lookup(v2.subarray(0, 20), { timeoutMs: 10_000 })), ['127.0.0.1:6889'], 'found by truncated v2')
  for (const bad of [{}, { v1: Buffer.alloc(32) }, { v2: Buffer.alloc(20) }]) {
    try {
      dhtHashes(bad)
      t.fail('accepted a wrong hash')
    } catch (err) {
      t.ok(isChrysalisError(err, 'BAD_INPUT'), (err as Error).message)
    }
  }
})

test('a lookup stops at maxPeers; nodes() lets a restarted node find its way back', async (t) => {
  const { a, b } = await trio(t)
  const hash = crypto.randomBytes(20)
  for (const port of [7001, 7002, 7003, 7004, 7005]) await a.announce(hash, port)
  t.is((await collect(b.lookup(hash, { timeoutMs: 10_000 }))).length, 5)
  t.is((await collect(b.lookup(hash, { timeoutMs: 10_000, maxPeers: 2 }))).length, 2, 'capped')

  const saved = b.nodes()
  t.ok(saved.length >= 1 && saved.every((n) => n.host === '127.0.0.1'), `b knows ${saved.length} node(s)`)
  const d = await node(t, { bootstrap: [], knownNodes: saved })
  t.alike((await findWithin(d, hash, '127.0.0.1:7001', 10_000)).includes('127.0.0.1:7001'), true, 'no bootstrap, only the saved nodes')
})

test('concurrent lookups are bounded; abort and close end them', async (t) => {
  // A bootstrap that never answers keeps every lookup walking until its queries time out.
  const silent = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())))
  const dht = await node(t, { bootstrap: [{ host: '127.0.0.1', port: silent.address().port }] })
  const ac = new AbortController()
  const runs = Array.from({ length: LIMITS.maxConcurrentLookups + 2 }, () => collect(dht.lookup(crypto.randomBytes(20), { signal: ac.signal })))
  const deadline = Date.now() + 5000
  while (dht.lookups.running + dht.lookups.waiting < runs.length && Date.now() < deadline) await new Promise<void>((resolve) => setImmediate(resolve))
  t.alike(dht.lookups, { running: LIMITS.maxConcurrentLookups, waiting: 2 })
  ac.abort()
  t.alike(await Promise.all(runs), runs.map(() => []), 'aborted lookups end empty')
  t.alike(dht.lookups, { running: 0, waiting: 0 })

  const pending = collect(dht.lookup(crypto.randomBytes(20)))
  await dht.close()
  t.alike(await pending, [], 'close ends a running lookup')
  try {
    await dht.announce(crypto.randomBytes(20), 1)
    t.fail('announced on a closed node')
  } catch (err) {
    t.ok(isChrysalisError(err, 'DHT_FAILED'))
  }
})

test('errors are typed: no bootstrap list, bad input, a taken port, nobody to announce to', async (t) => {
  const codeOf = async (fn: () => Promise<unknown>): Promise<string> => {
    try {
      await fn()
      return 'no error'
    } catch (err) {
      return isChrysalisError(err) ? err.code : String(err)
    }
  }
  // Leaving bootstrap out is refused, never replaced by a default.
  t.is(await codeOf(() => MainlineDht.start({ host: '127.0.0.1', port: 0 } as unknown as MainlineDhtOptions)), 'USAGE')
  t.is(await codeOf(() => MainlineDht.start({ bootstrap: [{ host: '', port: 1 }], host: '127.0.0.1', port: 0 })), 'USAGE')
  t.is(await codeOf(() => MainlineDht.start({ bootstrap: [], host: '127.0.0.1', port: 70000 })), 'USAGE')
  t.is(await codeOf(() => MainlineDht.start({ bootstrap: [{ host: '::1', port: 6881 }], host: '127.0.0.1', port: 0 })), 'USAGE', 'IPv6: BEP 5 is IPv4')
  const dht = await node(t)
  t.is(await codeOf(() => MainlineDht.start({ bootstrap: [], host: '127.0.0.1', port: dht.address().port })), 'DHT_FAILED', 'port taken')
  t.is(await codeOf(() => dht.announce(Buffer.alloc(32), 1)), 'BAD_INPUT')
  t.is(await codeOf(() => dht.announce(Buffer.alloc(20), 0)), 'BAD_INPUT')
  t.is(await codeOf(() => Promise.resolve().then(() => dht.lookup(Buffer.alloc(19)))), 'BAD_INPUT')
  t.is(await codeOf(() => dht.announce(crypto.randomBytes(20), 6881)), 'DHT_FAILED', 'a node that knows no other node')
})

test('hostile datagrams are dropped and the node keeps serving', async (t) => {
  const { a, b, c } = await trio(t)
  const sock = dgram.createSocket('udp4')
  t.teardown(() => new Promise<void>((resolve) => sock.close(() => resolve())))
  const send = (msg: string | Buffer): Promise<void> => new Promise((resolve) => sock.send(Buffer.from(msg), c.address().port, '127.0.0.1', () => resolve()))
  const before = c.warnings
  // Each of these throws inside k-rpc-socket or bittorrent-dht; unguarded, one kills the process.
  await send('d1:ad2:id20:aaaaaaaaaaaaaaaaaaaa9:info_hashi5ee1:q9:get_peers1:t2:xx1:y1:qe') // integer info_hash
  await send('d1:ad2:id20:aaaaaaaaaaaaaaaaaaaa6:targeti5ee1:q9:find_node1:t2:xy1:y1:qe') // integer target
  await send('d1:ad2:id20:aaaaaaaaaaaaaaaaaaaa9:info_hash20:bbbbbbbbbbbbbbbbbbbb4:porti1e5:tokeni5ee1:q13:announce_peer1:t2:xz1:y1:qe') // integer token
  await send('d1:rd2:idi5ee1:t2:xx1:y1:re') // a reply with an integer node id
  await send(Buffer.alloc(LIMITS.maxDatagramBytes + 1, 0x64)) // oversized: dropped before decoding
  const deadline = Date.now() + 5000
  while (c.warnings < before + 5 && Date.now() < deadline) await new Promise<void>((resolve) => setImmediate(resolve))
  t.ok(c.warnings >= before + 5, `counted ${c.warnings - before} warning(s)`)
  const hash = crypto.randomBytes(20)
  await a.announce(hash, 6999)
  t.alike(await collect(b.lookup(hash, { timeoutMs: 10_000 })), ['127.0.0.1:6999'], 'still serving')
})

test('nothing leaves for the public routers: bootstrap [] sends no packet and resolves no name', async (t) => {
  const lookups: string[] = []
  const realLookup = dns.lookup
  ;(dns as { lookup: unknown }).lookup = (host: string, ...rest: unknown[]): unknown => {
    lookups.push(host)
    return (realLookup as (...args: unknown[]) => unknown)(host, ...rest)
  }
  t.teardown(() => {
    ;(dns as { lookup: unknown }).lookup = realLookup
  })
  const sent: string[] = []
  /** A UDP socket that notes where each datagram goes (dgram re-calls send() itself, 4-argument form, while binding). */
  const recording = (): dgram.Socket => {
    const socket = dgram.createSocket('udp4')
    const realSend = socket.send.bind(socket) as (...args: unknown[]) => void
    ;(socket as unknown as { send: unknown }).send = (...args: unknown[]): void => {
      const [port, host] = typeof args[2] === 'number' ? [args[3], args[4]] : [args[1], args[2]]
      sent.push(`${String(host)}:${String(port)}`)
      realSend(...args)
    }
    return socket
  }
  // Why the explicit list matters: left undefined, k-rpc falls back to its public routers. Shown
  // on a recording socket, destroyed before its first tick: nothing may leave even here.
  const unsafe = new DHT({ bootstrap: undefined as unknown as false, socket: recording() })
  t.ok(unsafe._rpc.bootstrap.some((n) => n.host === 'router.bittorrent.com'), 'the library default is public')
  unsafe.destroy()

  const socket = recording()
  const lone = await node(t, { bootstrap: [], socket })
  await lone.ready()
  t.alike(await collect(lone.lookup(crypto.randomBytes(20), { timeoutMs: 3000 })), [])
  try {
    await lone.announce(crypto.randomBytes(20), 6881)
  } catch {
    // no node to announce to: expected
  }
  t.alike(sent, [], 'no datagram sent at all')
  t.alike(lookups.filter((h) => PUBLIC_ROUTERS.some((r) => r.host === h)), [], 'no public router name resolved')

  // With a loopback bootstrap, every datagram goes to loopback.
  const peer = await node(t)
  const socket2 = recording()
  const joined = await node(t, { bootstrap: [peer.address()], socket: socket2 })
  await joined.ready()
  await joined.announce(crypto.randomBytes(20), 6881)
  t.ok(sent.length > 0 && sent.every((s) => s.startsWith('127.0.0.1:')), `${sent.length} datagram(s), all to 127.0.0.1: ${sent.join(' ')}`)
  t.alike(lookups.filter((h) => PUBLIC_ROUTERS.some((r) => r.host === h)), [])
})

// libtorrent ------------------------------------------------------------------------------

/** libtorrent (lt-peer.py) as a child process, stopped when the test ends. */
function lt(t: Test, args: string[]): Daemon {
  const d = watch(spawn('/usr/bin/python3', [LT_PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), `lt-peer.py ${args.join(' ')}`)
  t.teardown(() => d.stop())
  return d
}

/** A port free for both TCP and UDP on 127.0.0.1 (libtorrent listens on both). */
async function freeTcpUdpPort(): Promise<number> {
  for (;;) {
    const port = await freeUdpPort()
    const server = net.createServer()
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (ok) {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      return port
    }
  }
}

test('libtorrent seeds a hybrid torrent through our node: we find it by v1 and by truncated v2', async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'kaypro.pdf')
  await fs.writeFile(file, crypto.randomBytes(100_000))
  const made = lt(t, ['make', file, path.join(dir, 'kaypro.torrent'), 'hybrid'])
  const info = JSON.parse(await made.waitFor(/^\{.*\}$/m, 30_000)) as { v1: string; v2: string }
  const boot = await node(t)
  const ours = await node(t, { bootstrap: [boot.address()] })
  const port = await freeTcpUdpPort()
  await lt(t, ['seed', path.join(dir, 'kaypro.torrent'), dir, String(port), '--dht', `127.0.0.1:${boot.address().port}`]).waitFor(/^READY$/m, 30_000)
  const want = `127.0.0.1:${port}`
  t.ok((await findWithin(ours, Buffer.from(info.v1, 'hex'), want, 60_000)).includes(want), `v1 ${info.v1} → ${want}`)
  const v2short = Buffer.from(info.v2, 'hex').subarray(0, 20)
  t.ok((await findWithin(ours, v2short, want, 60_000)).includes(want), `truncated v2 → ${want}`)
})

test('libtorrent finds what our node announced (dht_get_peers)', async (t) => {
  const { a, c } = await trio(t)
  const hash = crypto.randomBytes(20)
  await a.announce(hash, 40123)
  const found = lt(t, ['peers', hash.toString('hex'), '--dht', `127.0.0.1:${c.address().port}`, '--timeout', '60'])
  const line = await found.waitFor(/^PEERS .*$/m, 70_000)
  t.ok((JSON.parse(line.slice(6)) as string[]).includes('127.0.0.1:40123'), line)
})

test('chrysalis bootstrap --mainline runs a mainline DHT node others join', async (t) => {
  const port = await freeUdpPort()
  const mport = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port), '--mainline', '--mainline-port', String(mport)])
  const line = await boot.waitFor(/mainline DHT node listening on 127\.0\.0\.1:\d+/)
  t.ok(line.endsWith(`:${mport}`), line)
  const a = await node(t, { bootstrap: [{ host: '127.0.0.1', port: mport }] })
  const b = await node(t, { bootstrap: [{ host: '127.0.0.1', port: mport }] })
  await Promise.all([a.ready(), b.ready()])
  const hash = crypto.randomBytes(20)
  await a.announce(hash, 6881)
  t.alike(await collect(b.lookup(hash, { timeoutMs: 10_000 })), ['127.0.0.1:6881'], 'found through the CLI node')
})

test('chrysalis bootstrap --mainline: bad or taken ports are one-line errors', async (t) => {
  oneLineError(t, await run(['bootstrap', '--mainline-port', '7000']), 2, /--mainline-port goes with --mainline/)
  oneLineError(t, await run(['bootstrap', '--mainline', '--mainline-port', 'x']), 2, /--mainline-port takes a port number/)
  const taken = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())))
  const r = await run(['bootstrap', '--host', '127.0.0.1', '--port', String(await freeUdpPort()), '--mainline', '--mainline-port', String(taken.address().port)])
  oneLineError(t, r, 1, /cannot listen on UDP 127\.0\.0\.1:\d+ for the mainline DHT \(EADDRINUSE\); choose another port/)
})
