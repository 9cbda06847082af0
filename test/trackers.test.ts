import test from 'brittle'
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { encode } from '../src/transfer/bencode.js'
import { Announcer, normalizeTiers } from '../src/transfer/discovery/announcer.js'
import { isDiscoveryError } from '../src/transfer/discovery/errors.js'
import { announceUrl, httpAnnounce, parseAnnounceResponse as parseHttp } from '../src/transfer/discovery/http-tracker.js'
import { encodeCompactPeers, type AnnounceRequest, type PeerAddress } from '../src/transfer/discovery/tracker.js'
import { UdpTrackerClient, announcePacket, connectPacket, parseAnnounceResponse as parseUdp, parseConnectResponse } from '../src/transfer/discovery/udp-tracker.js'
import { dict, httpTracker, udpTracker } from './helpers-tracker.js'

interface Fixture {
  announce: { infoHash: string; peerId: string; port: number; uploaded: number; downloaded: number; left: number; event: 'started'; numwant: number; key: number }
  http: { tracker: string; url: string; response: string; responsePeers: PeerAddress[]; nonCompact: string; nonCompactPeers: PeerAddress[] }
  udp: {
    connectTransactionId: number
    connectRequest: string
    connectResponse: string
    connectionId: string
    announceTransactionId: number
    announceRequest: string
    announceResponse4: string
    peers4: PeerAddress[]
    interval4: number
    leechers4: number
    seeders4: number
    announceResponse6: string
    peers6: PeerAddress[]
    error: string
    errorMessage: string
  }
}

const fx = JSON.parse(readFileSync(new URL('./fixtures/trackers.json', import.meta.url), 'utf-8')) as Fixture
const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const req: AnnounceRequest = { ...fx.announce, infoHash: hex(fx.announce.infoHash), peerId: hex(fx.announce.peerId) }

function rejects(t: { ok: (v: unknown, m?: string) => void; fail: (m?: string) => void }, p: Promise<unknown>, kind: string, label: string): Promise<unknown> {
  return p.then(
    () => t.fail(`${label}: resolved`),
    (err: unknown) => {
      t.ok(isDiscoveryError(err) && err.kind === kind && err.code === 'TRACKER_FAILED', `${label}: ${isDiscoveryError(err) ? err.kind : String(err)}`)
      return err
    }
  )
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setImmediate(r))
  }
}

test('trackers: byte vectors (BEP 3, 7, 15, 23)', (t) => {
  t.is(announceUrl(fx.http.tracker, req).href, fx.http.url, 'HTTP announce URL: raw bytes percent-encoded, the tracker query kept')
  const res = parseHttp(hex(fx.http.response))
  t.alike(res.peers, fx.http.responsePeers, 'compact peers and peers6')
  t.is(res.interval, 1800)
  t.is(res.minInterval, 60)
  t.is(res.complete, 7)
  t.is(res.incomplete, 3)
  t.alike(parseHttp(hex(fx.http.nonCompact)).peers, fx.http.nonCompactPeers, 'non-compact peers; a host name is skipped')

  const u = fx.udp
  t.alike(connectPacket(u.connectTransactionId), hex(u.connectRequest), 'UDP connect request')
  t.alike(parseConnectResponse(hex(u.connectResponse), u.connectTransactionId), hex(u.connectionId), 'UDP connect response')
  t.alike(announcePacket(hex(u.connectionId), u.announceTransactionId, req), hex(u.announceRequest), 'UDP announce request, 98 bytes')
  const a4 = parseUdp(hex(u.announceResponse4), u.announceTransactionId, 4)
  t.alike(a4.peers, u.peers4, 'UDP IPv4 announce response')
  t.is(a4.interval, u.interval4)
  t.is(a4.incomplete, u.leechers4)
  t.is(a4.complete, u.seeders4)
  t.alike(parseUdp(hex(u.announceResponse6), u.announceTransactionId, 6).peers, u.peers6, 'UDP IPv6 announce response (18-byte peers)')
  try {
    parseUdp(hex(u.error), u.announceTransactionId, 4)
    t.fail('error packet accepted')
  } catch (err) {
    t.ok(isDiscoveryError(err, 'refused'), 'UDP error packet → refused')
    t.is(isDiscoveryError(err) ? err.remoteMessage : null, u.errorMessage, 'the tracker text is kept as data')
    t.absent(String((err as Error).message).includes(u.errorMessage), 'and not in the message')
  }
  t.alike(encodeCompactPeers(u.peers6, 6), hex(u.announceResponse6).subarray(20), 'IPv6 encoder agrees')
})

test('trackers: strict lengths and transaction ids', (t) => {
  const u = fx.udp
  const conn = hex(u.connectResponse)
  const bad: Array<[string, () => unknown]> = [
    ['connect response of 15 bytes', () => parseConnectResponse(conn.subarray(0, 15), u.connectTransactionId)],
    ['connect response of 17 bytes', () => parseConnectResponse(Buffer.concat([conn, Buffer.alloc(1)]), u.connectTransactionId)],
    ['connect response for another transaction', () => parseConnectResponse(conn, u.connectTransactionId + 1)],
    ['announce response of 19 bytes', () => parseUdp(hex(u.announceResponse4).subarray(0, 19), u.announceTransactionId, 4)],
    ['IPv4 peers not a multiple of 6', () => parseUdp(hex(u.announceResponse4).subarray(0, 25), u.announceTransactionId, 4)],
    ['IPv6 response read as IPv4', () => parseUdp(Buffer.concat([hex(u.announceResponse6), Buffer.alloc(1)]), u.announceTransactionId, 6)],
    ['connect answer to an announce', () => parseUdp(conn, u.connectTransactionId, 4)],
    ['HTTP compact peers of 7 bytes', () => parseHttp(encode(dict({ interval: 60, peers: Buffer.alloc(7) })))],
    ['HTTP peers6 of 17 bytes', () => parseHttp(encode(dict({ interval: 60, peers6: Buffer.alloc(17) })))],
    ['HTTP non-bencode', () => parseHttp(Buffer.from('<html>'))],
    ['HTTP negative interval', () => parseHttp(encode(dict({ interval: -1 })))],
    ['HTTP deep nesting', () => parseHttp(Buffer.from('d5:peersl' + 'l'.repeat(10) + 'e'.repeat(10) + 'ee'))]
  ]
  for (const [label, fn] of bad) {
    try {
      fn()
      t.fail(`${label}: accepted`)
    } catch (err) {
      t.ok(isDiscoveryError(err, 'malformed'), label)
    }
  }
  const many = Buffer.alloc(6 * 1000, 1)
  t.is(parseHttp(encode(dict({ interval: 60, peers: many }))).peers.length, 500, 'peers kept from one response are bounded')
})

test('http tracker: announce with raw-byte parameters, compact peers', async (t) => {
  const peers = [{ host: '127.0.0.1', port: 7001 }, { host: '127.0.0.2', port: 7002 }]
  const tr = await httpTracker(t, () => ({ body: encode(dict({ interval: 900, peers: encodeCompactPeers(peers, 4), 'warning message': Buffer.from('be nice\x1b[2J') })) }))
  const res = await httpAnnounce(tr.url + '?passkey=abc', req)
  t.alike(res.peers, peers)
  t.is(res.interval, 900)
  t.is(res.warning, 'be nice\x1b[2J', 'the warning is data (the caller displays it safely)')
  const seen = tr.seen[0]!
  t.is(seen.path, '/announce')
  t.alike(seen.params.get('info_hash'), req.infoHash, 'info_hash arrives as the 20 raw bytes')
  t.alike(seen.params.get('peer_id'), req.peerId)
  t.is(seen.params.get('passkey')?.toString(), 'abc', 'the tracker URL query is kept')
  for (const [k, v] of [['port', '6881'], ['uploaded', '1'], ['downloaded', '2'], ['left', '1000'], ['compact', '1'], ['event', 'started'], ['numwant', '50'], ['key', '0badcafe']]) {
    t.is(seen.params.get(k!)?.toString(), v, k)
  }
})

test('http tracker: non-compact peers, failure reason, HTTP errors', async (t) => {
  const tr = await httpTracker(t, (_s, n) => {
    if (n === 0) return { body: hex(fx.http.nonCompact) }
    if (n === 1) return { body: encode(dict({ 'failure reason': Buffer.from('unregistered torrent') })) }
    if (n === 2) return { status: 400, body: encode(dict({ 'failure reason': Buffer.from('bad passkey') })) }
    if (n === 3) return { headers: { 'content-encoding': 'gzip' }, body: Buffer.from('not really gzip') }
    return { status: 503, body: Buffer.from('busy') }
  })
  t.alike((await httpAnnounce(tr.url, req)).peers, fx.http.nonCompactPeers, 'non-compact peer list')
  const err = await rejects(t, httpAnnounce(tr.url, req), 'refused', 'failure reason')
  t.is(isDiscoveryError(err) ? err.remoteMessage : null, 'unregistered torrent')
  t.absent((err as Error).message.includes('unregistered'), 'the remote text is not in our message')
  const err2 = await rejects(t, httpAnnounce(tr.url, req), 'refused', 'failure reason with HTTP 400')
  t.is(isDiscoveryError(err2) ? err2.remoteMessage : null, 'bad passkey')
  await rejects(t, httpAnnounce(tr.url, req), 'malformed', 'a content encoding we did not ask for')
  await rejects(t, httpAnnounce(tr.url, req), 'http-status', 'HTTP 503')
  await rejects(t, httpAnnounce('ftp://127.0.0.1/announce', req), 'bad-url', 'only http(s) URLs')
})

test('http tracker: an oversize response is refused, announced or not', async (t) => {
  const big = Buffer.alloc(1024 * 1024 + 1, 0x61)
  const tr = await httpTracker(t, () => ({ body: big }))
  await rejects(t, httpAnnounce(tr.url, req), 'too-large', 'Content-Length above 1 MiB')
  // Without Content-Length (chunked): the cap is enforced while reading.
  const server = http.createServer((_req, res) => {
    res.writeHead(200)
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    let sent = 0
    const pump = (): void => {
      while (sent < 4 * 1024 * 1024) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    pump()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  await rejects(t, httpAnnounce(`http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`, req), 'too-large', 'chunked body above 1 MiB')
})

test('http tracker: redirects are followed, bounded, and only to http(s)', async (t) => {
  const good = await httpTracker(t, () => ({ body: encode(dict({ interval: 60, peers: encodeCompactPeers([{ host: '127.0.0.9', port: 9 }], 4) })) }))
  const hop = await httpTracker(t, (s) => ({ status: 302, headers: { location: good.url + s.raw.slice(s.path.length) }, body: Buffer.alloc(0) }))
  t.alike((await httpAnnounce(hop.url, req)).peers, [{ host: '127.0.0.9', port: 9 }], 'one redirect followed')
  t.alike(good.seen[0]!.params.get('info_hash'), req.infoHash, 'the redirected announce reached the target')

  const loop = await httpTracker(t, (s) => ({ status: 307, headers: { location: s.raw }, body: Buffer.alloc(0) }))
  await rejects(t, httpAnnounce(loop.url, req), 'redirects', 'a redirect loop')
  t.is(loop.seen.length, 4, 'the first request and 3 redirects, no more')

  const file = await httpTracker(t, () => ({ status: 301, headers: { location: 'file:///etc/passwd' }, body: Buffer.alloc(0) }))
  await rejects(t, httpAnnounce(file.url, req), 'bad-url', 'a redirect to file:')
})

test('http tracker: https, with the tracker certificate trusted through an injected agent', async (t) => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-tls-'))
  t.teardown(() => fs.rm(tmp, { recursive: true, force: true }))
  const [keyFile, certFile] = [path.join(tmp, 'k.pem'), path.join(tmp, 'c.pem')]
  const made = await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']).then(() => true, () => false)
  if (!made) {
    t.comment('openssl is not available: https not tested')
    return
  }
  const cert = await fs.readFile(certFile)
  const server = https.createServer({ key: await fs.readFile(keyFile), cert }, (_req, res) => {
    res.end(encode(dict({ interval: 60, peers: encodeCompactPeers([{ host: '127.0.0.3', port: 3 }], 4) })))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/announce`
  const agent = new https.Agent({ ca: cert })
  t.teardown(() => agent.destroy())
  t.alike((await httpAnnounce(url, req, { agents: { https: agent } })).peers, [{ host: '127.0.0.3', port: 3 }], 'announce over TLS')
  await rejects(t, httpAnnounce(url, req), 'network', 'an untrusted certificate is refused')
})

test('http tracker: a silent tracker times out; a closed port fails fast', async (t) => {
  const server = http.createServer(() => {})
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`
  await rejects(t, httpAnnounce(url, req, { timeoutMs: 200 }), 'timeout', 'no answer within the deadline')
  const ac = new AbortController()
  const p = httpAnnounce(url, req, { signal: ac.signal })
  ac.abort()
  await rejects(t, p, 'aborted', 'the caller cancels')
  await rejects(t, httpAnnounce(await closedHttpUrl(), req), 'network', 'connection refused')
})

async function closedHttpUrl(): Promise<string> {
  const s = http.createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise((resolve) => s.close(resolve))
  return `http://127.0.0.1:${port}/announce`
}

test('udp tracker: connect, announce, connection id reused for a minute', async (t) => {
  const peers = [{ host: '127.0.0.1', port: 7001 }, { host: '10.1.2.3', port: 7002 }]
  const tr = await udpTracker(t, { peers: encodeCompactPeers(peers, 4), interval: 600 })
  let now = 1_000_000
  const udp = new UdpTrackerClient({ baseTimeoutMs: 2000, now: () => now })
  t.teardown(() => udp.close())
  const res = await udp.announce(tr.url, req)
  t.alike(res.peers, peers)
  t.is(res.interval, 600)
  t.alike(tr.seen.map((s) => s.action), [0, 1], 'connect then announce')
  const packet = tr.seen[1]!.packet
  t.is(packet.length, 98)
  t.alike(packet.subarray(16, 36), req.infoHash)
  t.is(packet.readUInt32BE(80), 2, 'event started = 2')
  t.is(packet.readUInt16BE(96), 6881)
  await udp.announce(tr.url, { ...req, event: 'completed' })
  t.alike(tr.seen.map((s) => s.action), [0, 1, 1], 'the connection id is reused within the minute')
  t.is(tr.seen[2]!.packet.readUInt32BE(80), 1, 'event completed = 1')
  now += 60_000
  await udp.announce(tr.url, req)
  t.alike(tr.seen.map((s) => s.action), [0, 1, 1, 0, 1], 'after a minute it connects again')
})

test('udp tracker: an IPv6 tracker answers with 18-byte peers', async (t) => {
  const peers = [{ host: '::1', port: 7001 }, { host: '2001:db8::7', port: 7002 }]
  const tr = await udpTracker(t, { ipv6: true, peers: encodeCompactPeers(peers, 6) })
  const udp = new UdpTrackerClient({ baseTimeoutMs: 2000 })
  t.teardown(() => udp.close())
  t.alike((await udp.announce(tr.url, req)).peers, peers)
  t.alike(tr.seen.map((s) => s.action), [0, 1])
})

test('udp tracker: retransmits after a dropped packet (15·2^n, base scaled down)', async (t) => {
  const tr = await udpTracker(t, { drop: new Set([0, 2]), peers: encodeCompactPeers([{ host: '127.0.0.1', port: 7001 }], 4) })
  const udp = new UdpTrackerClient({ baseTimeoutMs: 200 })
  t.teardown(() => udp.close())
  const started = Date.now()
  const res = await udp.announce(tr.url, req)
  t.is(res.peers.length, 1)
  // connect dropped (wait 200 ms) → connect ok; announce dropped (wait 400 ms) → announce ok.
  t.alike(tr.seen.map((s) => s.action), [0, 0, 1, 1], 'the connect and the announce were both sent again')
  t.ok(Date.now() - started >= 600, 'waited 200 ms, then 400 ms (doubling)')
  t.not(tr.seen[0]!.transactionId, tr.seen[1]!.transactionId, 'a fresh transaction id per attempt')
})

test('udp tracker: a wrong transaction id is ignored; error packets; giving up', async (t) => {
  const tr = await udpTracker(t, { wrongTransactionFirst: true, peers: encodeCompactPeers([{ host: '127.0.0.1', port: 7001 }], 4) })
  const udp = new UdpTrackerClient({ baseTimeoutMs: 5000 })
  t.teardown(() => udp.close())
  const res = await udp.announce(tr.url, req)
  t.alike(res.peers, [{ host: '127.0.0.1', port: 7001 }], 'the forged answers were ignored, the real ones used')
  t.alike(tr.seen.map((s) => s.action), [0, 1], 'without retransmitting')

  const bad = await udpTracker(t, { error: 'torrent not registered' })
  const err = await rejects(t, udp.announce(bad.url, req), 'refused', 'error packet (action 3)')
  t.is(isDiscoveryError(err) ? err.remoteMessage : null, 'torrent not registered')

  const silent = await udpTracker(t, { drop: new Set(Array.from({ length: 100 }, (_, i) => i)) })
  const quick = new UdpTrackerClient({ baseTimeoutMs: 20, maxRetries: 2 })
  t.teardown(() => quick.close())
  await rejects(t, quick.announce(silent.url, req), 'timeout', 'no answer after the retries')
  t.is(silent.seen.length, 3, 'n = 0, 1, 2: three tries')
  await rejects(t, quick.announce('udp://127.0.0.1', req), 'bad-url', 'a UDP URL needs a port')
})

test('announcer: tiers fall back to the next tracker, started/completed/stopped', async (t) => {
  const failing = await httpTracker(t, () => ({ body: encode(dict({ 'failure reason': Buffer.from('go away') })) }))
  const good = await httpTracker(t, () => ({ body: encode(dict({ interval: 1800, peers: encodeCompactPeers([{ host: '127.0.0.5', port: 5000 }, { host: '127.0.0.5', port: 5000 }], 4) })) }))
  const udp = await udpTracker(t, { peers: encodeCompactPeers([{ host: '127.0.0.6', port: 6000 }], 4) })
  const got: Array<{ peers: PeerAddress[]; tracker: string }> = []
  const messages: string[] = []
  const a = new Announcer({ onPeers: (peers, from) => got.push({ peers, tracker: from.tracker }), onMessage: (m) => messages.push(`${m.kind}:${m.remoteMessage ?? ''}`) })
  const v1 = Buffer.alloc(20, 1)
  const v2 = Buffer.alloc(20, 2)
  let left = 100
  a.start({ infohashes20: [v1, v2], port: 6881, left: () => left, uploaded: () => 0, downloaded: () => 100 - left }, [[await closedHttpUrl(), failing.url], [good.url], [udp.url]])
  await until(() => got.length === 2)
  t.alike(got.map((g) => g.tracker), [good.url, good.url], 'both infohashes found the second tier')
  t.alike(got[0]!.peers, [{ host: '127.0.0.5', port: 5000 }], 'duplicate peers removed')
  t.is(udp.seen.length, 0, 'the third tier was not needed')
  t.ok(messages.includes('failure:go away'), 'the failure reason reached the caller as data')
  t.alike(good.seen.map((s) => s.params.get('event')?.toString()).sort(), ['started', 'started'])
  t.alike(new Set(good.seen.map((s) => s.params.get('info_hash')!.toString('hex'))), new Set([v1.toString('hex'), v2.toString('hex')]), 'a hybrid announces both 20-byte hashes')

  left = 0
  a.completed()
  a.completed()
  await until(() => good.seen.length === 4)
  t.alike(good.seen.slice(2).map((s) => [s.params.get('event')?.toString(), s.params.get('left')?.toString()]), [['completed', '0'], ['completed', '0']], 'completed once per hash')
  await a.stop()
  t.alike(good.seen.slice(4).map((s) => s.params.get('event')?.toString()), ['stopped', 'stopped'], 'stopped to the tracker that heard started')
  t.is(good.seen[4]!.params.get('numwant')?.toString(), '0')
  t.is(failing.seen.filter((s) => s.params.get('event')?.toString() === 'stopped').length, 0, 'not to the one that refused')
})

test('announcer: the working tracker moves to the front of its tier; re-announce at the interval', async (t) => {
  const dead = await udpTracker(t, { drop: new Set(Array.from({ length: 100 }, (_, i) => i)) })
  const good = await httpTracker(t, () => ({ body: encode(dict({ interval: 0, peers: encodeCompactPeers([{ host: '127.0.0.7', port: 7000 }], 4) })) }))
  const udp = new UdpTrackerClient({ baseTimeoutMs: 20, maxRetries: 0 })
  t.teardown(() => udp.close())
  let peersSeen = 0
  // random() = 0.99 keeps the order [dead, good] (Fisher–Yates swaps i with floor(0.99·(i+1)) = i).
  const a = new Announcer({ udp, random: () => 0.99, limits: { minIntervalMs: 30 }, onPeers: () => peersSeen++ })
  t.teardown(() => a.stop())
  a.start({ infohashes20: [Buffer.alloc(20, 3)], port: 1, left: () => 5, uploaded: () => 0, downloaded: () => 0 }, [[dead.url, good.url]])
  await until(() => good.seen.length >= 3)
  t.alike(a.trackers(), [[good.url, dead.url]], 'the tracker that answered is first in its tier')
  t.is(dead.seen.length, 1, 'the dead tracker was tried once, then the working one was used first')
  t.alike(good.seen.slice(0, 3).map((s) => s.params.get('event')?.toString()), ['started', undefined, undefined], 'then regular announces')
  t.ok(peersSeen >= 2, 'peers reported on each answer')
})

test('announcer: trackers are bounded and filtered', (t) => {
  const many = Array.from({ length: 50 }, (_, i) => `http://127.0.0.1:${1000 + i}/announce`)
  const tiers = normalizeTiers([['file:///x', 'wss://t', many[0]!, many[0]!], [], many], 32)
  t.is(tiers.flat().length, 32, 'at most 32 trackers')
  t.alike(tiers[0], [many[0]], 'unsupported schemes and duplicates dropped, empty tiers too')
})

test('announcer: when every tracker fails it retries at its pace, completed() included', async (t) => {
  const calls: Array<string | undefined> = []
  const scheduled: number[] = []
  const a = new Announcer({
    onPeers: () => {},
    limits: { retryMs: 60_000 },
    http: (_url, r) => {
      calls.push(r.event)
      return Promise.reject(new Error('down'))
    },
    // Timers by hand: "now" (completed()) runs at once; a retry is seen being scheduled, never waited for.
    timers: {
      setTimeout: (fn, ms) => (ms === 0 ? setImmediate(fn) : null, scheduled.push(ms)),
      clearTimeout: () => {}
    }
  })
  t.teardown(() => a.stop())
  a.start({ infohashes20: [Buffer.alloc(20, 4)], port: 1, left: () => 0, uploaded: () => 0, downloaded: () => 0 }, [['http://127.0.0.1:1/announce']])
  await until(() => calls.length === 1)
  a.completed()
  await until(() => calls.length === 2)
  await until(() => scheduled.length >= 4)
  t.is(calls.length, 2, 'one announce at start, one for completed(), then the retry waits')
  t.alike(scheduled, [0, 60_000, 0, 120_000], 'start at once, a retry at the retry pace, completed() at once, then the next retry backed off')
})
