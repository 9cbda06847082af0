// Pure parts of the mainline DHT: the flags (dht-config.ts) and the announcer's schedule, with an
// injected clock. No sockets.
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isChrysalisError } from '../src/errors.js'
import { DhtAnnouncer as Announcer, ANNOUNCE, type Timers } from '../src/transfer/discovery/dht-announcer.js'
import { btDhtConfig, parseBtBootstrap } from '../src/transfer/discovery/dht-config.js'
import { LIMITS, PUBLIC_ROUTERS } from '../src/transfer/discovery/dht.js'

function usageError(t: { ok(v: unknown, m?: string): void; fail(m?: string): void }, fn: () => unknown, what: string): void {
  try {
    fn()
    t.fail(`accepted ${what}`)
  } catch (err) {
    t.ok(isChrysalisError(err, 'USAGE') && !(err as Error).message.includes('\n'), `${what}: ${(err as Error).message}`)
  }
}

test('--bt-bootstrap, CHRYSALIS_BT_BOOTSTRAP, --no-bt-dht', (t) => {
  t.alike(btDhtConfig({ flags: ['127.0.0.1:6881,10.0.0.2:6882', 'lan-router.local:7000'] }), {
    enabled: true,
    bootstrap: [
      { host: '127.0.0.1', port: 6881 },
      { host: '10.0.0.2', port: 6882 },
      { host: 'lan-router.local', port: 7000 }
    ],
    publicRouters: false
  })
  t.alike(btDhtConfig({ env: ' lan-router:6881 , 127.0.0.1:1 ' }), {
    enabled: true,
    bootstrap: [
      { host: 'lan-router', port: 6881 },
      { host: '127.0.0.1', port: 1 }
    ],
    publicRouters: false
  })
  t.alike(btDhtConfig({ flags: ['127.0.0.1:9'], env: '127.0.0.1:8' }), { enabled: true, bootstrap: [{ host: '127.0.0.1', port: 9 }], publicRouters: false }, 'the flag wins')
  t.alike(btDhtConfig({ noDht: true, env: '127.0.0.1:8' }), { enabled: false }, '--no-bt-dht wins over the variable')
  t.alike(btDhtConfig({ noDht: true }), { enabled: false })

  // Nothing given: the public routers, and only here.
  const def = btDhtConfig({})
  t.ok(def.enabled && def.publicRouters)
  t.alike(def.enabled ? def.bootstrap : null, PUBLIC_ROUTERS.map((r) => ({ ...r })))
  t.alike(btDhtConfig({ env: '  ' }), def, 'an empty variable counts as unset')

  usageError(t, () => btDhtConfig({ noDht: true, flags: ['127.0.0.1:1'] }), '--no-bt-dht with --bt-bootstrap')
  for (const bad of ['', 'localhost', '127.0.0.1:0', '127.0.0.1:65536', 'a:b', '1.2.3.4:5,', ':6881', '::1:6881', '[::1]:6881']) {
    usageError(t, () => parseBtBootstrap([bad]), `"${bad}"`)
  }
  usageError(t, () => parseBtBootstrap([Array.from({ length: LIMITS.maxBootstrapNodes + 1 }, (_, i) => `10.0.0.1:${i + 1}`).join(',')]), 'too many nodes')
})

test('the public routers are named in one place and handed out by one function', async (t) => {
  const src = path.resolve(import.meta.dirname, '..', 'src')
  const files = (await fs.readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts') || f.endsWith('.tsx'))
  const users: string[] = []
  const named: string[] = []
  for (const f of files) {
    const text = await fs.readFile(path.join(src, f), 'utf8')
    if (text.includes('PUBLIC_ROUTERS')) users.push(f)
    if (/router\.bittorrent\.com|dht\.transmissionbt\.com|router\.utorrent\.com/.test(text)) named.push(f)
  }
  t.alike(named, [path.join('transfer', 'discovery', 'dht.ts')], 'router names only in dht.ts')
  t.alike(users.sort(), [path.join('transfer', 'discovery', 'dht-config.ts'), path.join('transfer', 'discovery', 'dht.ts')], 'PUBLIC_ROUTERS used only by btDhtConfig()')
})

/** Timers run by hand: `fire()` runs the earliest pending timer as if its time had come. */
function manualTimers(): Timers & { pending: Array<{ fn: () => void; ms: number }>; fire(): number } {
  const pending: Array<{ fn: () => void; ms: number }> = []
  return {
    pending,
    setTimeout(fn, ms) {
      const entry = { fn, ms }
      pending.push(entry)
      return entry
    },
    clearTimeout(h) {
      const i = pending.indexOf(h as { fn: () => void; ms: number })
      if (i >= 0) pending.splice(i, 1)
    },
    fire() {
      const next = pending.shift()
      if (!next) throw new Error('no timer pending')
      next.fn()
      return next.ms
    }
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('the announcer announces each hash, re-announces on schedule, retries sooner after a failure, stops', async (t) => {
  const calls: string[] = []
  let failing = false
  const dht = {
    announce(hash: Buffer, port: number): Promise<void> {
      calls.push(`${hash.toString('hex').slice(0, 4)}:${port}`)
      return failing ? Promise.reject(new Error('no node answered')) : Promise.resolve()
    }
  }
  const timers = manualTimers()
  const errors: string[] = []
  const a = new Announcer(dht, { timers, onError: (key, err) => errors.push(`${key}: ${err.message}`) })
  const v1 = Buffer.from('aaaa'.repeat(10), 'hex')
  const v2 = Buffer.from('bbbb'.repeat(10), 'hex')

  a.keep('kaypro', [v1, v2], 6881)
  await settle()
  t.alike(calls.splice(0), ['aaaa:6881', 'bbbb:6881'], 'at once, both hashes')
  t.alike(timers.pending.map((p) => p.ms), [ANNOUNCE.intervalMs])

  failing = true
  timers.fire()
  await settle()
  t.alike(calls.splice(0), ['aaaa:6881', 'bbbb:6881'], 're-announced when the interval came')
  t.is(errors.length, 2)
  t.alike(timers.pending.map((p) => p.ms), [ANNOUNCE.retryMs], 'a failure retries sooner')

  failing = false
  a.keep('kaypro', [v1], 7000) // the port changed: replaces the schedule
  await settle()
  t.alike(calls.splice(0), ['aaaa:7000'])
  t.alike(timers.pending.map((p) => p.ms), [ANNOUNCE.intervalMs], 'one schedule per torrent')

  a.stop('kaypro')
  t.is(timers.pending.length, 0)
  t.is(a.size, 0)

  // stop() while an announce is in flight: nothing is scheduled after it.
  let release: () => void = () => {}
  const slow = { announce: (): Promise<void> => new Promise<void>((resolve) => (release = resolve)) }
  const b = new Announcer(slow, { timers })
  b.keep('x', [v1], 1)
  b.stop('x')
  release()
  await settle()
  t.is(timers.pending.length, 0, 'a stopped torrent is not re-announced')
  b.keep('y', [v1], 1)
  b.close()
  release()
  await settle()
  t.is(timers.pending.length, 0, 'close stops everything')
})
