// One scenario of bench/following.ts in a process of its own, so that RSS is the follower's:
// open the follower's home (1,000 follows), start the world (following_world.ts: the loopback DHT
// and ONLINE authors), go online and measure. Prints its rows as JSON.
//
//   node --expose-gc --import tsx bench/following_node.ts HOME AUTHORS_DIR SEEDS_JSON ONLINE
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import readline from 'node:readline'
import type { DhtNodeAddress } from 'hyperdht'
import { Identity } from '../src/identity/keys.js'
import { encodeId } from '../src/identity/encoding.js'
import { ChrysalisNode } from '../src/node/node.js'
import type { Row } from './feeds.js'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`

interface World {
  bootstrap: DhtNodeAddress[]
  post(i: number): void
  close(): Promise<void>
}

async function world(seedDir: string, seedsFile: string, online: number): Promise<World> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'following_world.ts'), seedDir, seedsFile, String(online)], { stdio: 'pipe' })
  child.stderr.pipe(process.stderr)
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const first = await lines.next()
  if (first.done) throw new Error('the bench world exited before it was ready')
  const { bootstrap } = JSON.parse(first.value) as { bootstrap: DhtNodeAddress[] }
  void (async () => {
    for (;;) if ((await lines.next()).done) return // drain the `posted` answers
  })()
  return {
    bootstrap,
    post: (i) => child.stdin.write(`post ${i}\n`),
    close: async () => {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }
}

async function scenario(label: string, home: string, w: World, online: number, seeds: Identity[]): Promise<Row[]> {
  const rows: Row[] = []
  const node = await ChrysalisNode.open({ home })
  let peak = 0
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100)
  const t0 = performance.now()
  await node.online({ bootstrap: w.bootstrap })
  const onlineMs = performance.now() - t0
  rows.push({ what: `${label}: time to go online`, value: `${onlineMs.toFixed(0)} ms` })

  // Every followed feed looked up (or, with authors online, every online author connected).
  const finder = node['presence']['finder']!
  const settled = performance.now()
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const s = finder.stats()
    const reachable = node.status().feedsReachable
    if (s.queued === 0 && s.running === 0 && reachable >= online) break
    await new Promise((r) => setTimeout(r, 50))
  }
  const status = node.status()
  rows.push({ what: `${label}: all followed feeds looked up`, value: `${(performance.now() - settled + onlineMs).toFixed(0)} ms after going online began; ${status.feedsReachable} of ${status.feeds} feeds with a peer, ${status.peers} connections` })

  const times: number[] = []
  for (let i = 0; i < 21; i++) {
    const t = performance.now()
    const page = await node.timeline({ limit: 50 })
    times.push(performance.now() - t)
    if (page.posts.length !== 50) throw new Error(`expected 50 posts, got ${page.posts.length}`)
  }
  rows.push({ what: `${label}: timeline query of 50 posts (median of 21)`, value: `${median(times).toFixed(1)} ms (max ${Math.max(...times).toFixed(1)})` })

  if (online > 0) {
    const latencies: number[] = []
    for (let k = 0; k < 30; k++) {
      const i = (k * 37) % online
      const id = encodeId(seeds[i]!.publicKey)
      const seen = new Promise<void>((resolve) => {
        const on = (e: { id: string }): void => {
          if (e.id !== id) return
          node.off('feed-update', on)
          resolve()
        }
        node.on('feed-update', on)
      })
      const t = performance.now()
      w.post(i)
      await seen
      latencies.push(performance.now() - t)
    }
    rows.push({ what: `${label}: a followed author's new post in the follower's index (30 posts)`, value: `p50 ${median(latencies).toFixed(0)} ms, p90 ${quantile(latencies, 0.9).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms` })
  }
  // Settled: what a node following them keeps while it runs (going online allocates for a while).
  await new Promise((r) => setTimeout(r, 10_000))
  global.gc?.()
  clearInterval(sampler)
  const m = process.memoryUsage()
  rows.push({ what: `${label}: RSS settled (10 s after the last measurement)`, value: `${mb(m.rss)} (JS heap ${mb(m.heapUsed)}, external ${mb(m.external)}); peak while going online and measuring ${mb(peak)}` })
  await node.close()
  return rows
}

const [home, authorsDir, seedsFile, onlineArg] = process.argv.slice(2)
const online = Number(onlineArg)
const seeds = (JSON.parse(await fs.readFile(seedsFile!, 'utf8')) as string[]).map((hex) => Identity.fromSeed(Buffer.from(hex, 'hex')))
const w = await world(authorsDir!, seedsFile!, online)
try {
  const label = `following ${seeds.length}, ${online === 0 ? 'authors offline' : `${online} authors online`}`
  process.stdout.write(JSON.stringify(await scenario(label, home!, w, online, seeds)))
} finally {
  await w.close()
}
