// One node following 1,000 feeds (issue 13): time to go online, RSS, a 50-post timeline query and
// how fast a followed author's new post reaches it, with every author offline and with 100 of
// them online. The authors and the loopback DHT run in a child process (following_world.ts).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { pipeline } from 'node:stream'
import Corestore from 'corestore'
import type { DhtNodeAddress } from 'hyperdht'
import { Identity } from '../src/identity/keys.js'
import { saveIdentity } from '../src/identity/home.js'
import { encodeId } from '../src/identity/encoding.js'
import { OwnFeed } from '../src/feeds/feed.js'
import { feedKeyOf } from '../src/feeds/layout.js'
import { ChrysalisNode } from '../src/node/node.js'
import type { Row } from './feeds.js'

const POSTS_PER_AUTHOR = 5

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

/**
 * Seed `n` authors' feeds (a profile and a few posts each), copy them into a follower's home,
 * follow them all. The first `online` authors get a store each (dir/authors/I), as their own
 * nodes would have: an author serves its own feed, not everyone's.
 */
async function setup(dir: string, n: number, online: number): Promise<{ home: string; seeds: Identity[]; seedDir: string; seedsFile: string; followMs: number }> {
  const seedDir = path.join(dir, 'authors')
  const stores = Array.from({ length: online + 1 }, (_, i) => new Corestore(path.join(seedDir, String(i))))
  const storeOf = (i: number): Corestore => stores[Math.min(i, online)]!
  const seeds = Array.from({ length: n }, () => Identity.generate())
  let clock = 1_790_000_000_000
  for (const [i, id] of seeds.entries()) {
    const feed = new OwnFeed(storeOf(i).get({ keyPair: id.keyPair() }), id.publicKey, { now: () => (clock += 1000) })
    await feed.ready()
    await feed.setProfile({ name: `Author ${i}`, bio: 'collects manuals' })
    for (let p = 0; p < POSTS_PER_AUTHOR; p++) await feed.post({ text: `Author ${i}, post ${p}: a 1982 manual scan`, topics: [], mentions: [], attachments: [] })
  }
  const seedsFile = path.join(dir, 'seeds.json')
  await fs.writeFile(seedsFile, JSON.stringify(seeds.map((s) => s.exportSeed().toString('hex'))))

  // The follower had synced them all before: copy every feed into its store.
  const home = path.join(dir, 'home')
  await saveIdentity(home, Identity.generate())
  const followerStore = new Corestore(path.join(home, 'store'))
  for (const store of stores) {
    const s1 = store.replicate(true)
    const s2 = followerStore.replicate(false)
    pipeline(s1, s2, s1, () => {})
  }
  await Promise.all(
    seeds.map(async (id) => {
      const core = followerStore.get({ key: feedKeyOf(id.publicKey) })
      await core.ready()
      await core.update({ wait: true })
      await core.download({ start: 0, end: core.length }).done()
    })
  )
  await followerStore.close()
  for (const store of stores) await store.close()

  const node = await ChrysalisNode.open({ home })
  await node.setProfile({ name: 'Follower', bio: '' })
  const t0 = performance.now()
  for (const id of seeds) await node.follow(encodeId(id.publicKey))
  const followMs = performance.now() - t0
  await node.close()
  return { home, seeds, seedDir, seedsFile, followMs }
}

async function scenario(label: string, home: string, w: World, online: number, seeds: Identity[]): Promise<Row[]> {
  const rows: Row[] = []
  const node = await ChrysalisNode.open({ home })
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
  global.gc?.()
  rows.push({ what: `${label}: RSS`, value: mb(process.memoryUsage().rss) })

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
  await node.close()
  return rows
}

export async function followingBench(n = 1000, online = 100): Promise<Row[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-following-'))
  try {
    const { home, seeds, seedDir, seedsFile, followMs } = await setup(dir, n, online)
    const rows: Row[] = [{ what: `following ${n}: follow them all (offline, each indexed)`, value: `${(followMs / 1000).toFixed(1)} s` }]
    for (const up of [0, online]) {
      const w = await world(seedDir, seedsFile, up)
      try {
        rows.push(...(await scenario(`following ${n}, ${up === 0 ? 'authors offline' : `${up} authors online`}`, home, w, up, seeds)))
      } finally {
        await w.close()
      }
    }
    return rows
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await followingBench(Number(process.env.BENCH_FOLLOWS ?? 1000), Number(process.env.BENCH_ONLINE ?? 100))
  const width = Math.max(...rows.map((r) => r.what.length))
  for (const r of rows) console.log(`${r.what.padEnd(width)}  ${r.value}`)
}
