// One node following 1,000 feeds (issue 13): time to go online, RSS, a 50-post timeline query and
// how fast a followed author's new post reaches it, with every author offline and with 100 of
// them online. This process makes the homes; each scenario runs in a process of its own
// (following_node.ts), which starts the authors and the loopback DHT (following_world.ts).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream'
import Corestore from 'corestore'
import { Identity } from '../src/identity/keys.js'
import { saveIdentity } from '../src/identity/home.js'
import { encodeId } from '../src/identity/encoding.js'
import { OwnFeed } from '../src/feeds/feed.js'
import { feedKeyOf } from '../src/feeds/layout.js'
import { ChrysalisNode } from '../src/node/node.js'
import type { Row } from './feeds.js'

const POSTS_PER_AUTHOR = 5


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

export async function followingBench(n = 1000, online = 100): Promise<Row[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-following-'))
  try {
    const { home, seedDir, seedsFile, followMs } = await setup(dir, n, online)
    const rows: Row[] = [{ what: `following ${n}: follow them all (offline, each indexed)`, value: `${(followMs / 1000).toFixed(1)} s` }]
    // Each scenario in a fresh process: its RSS is the follower's alone (not this setup's).
    for (const up of [0, online]) {
      const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(import.meta.dirname, 'following_node.ts'), home, seedDir, seedsFile, String(up)], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      const [code] = (await once(child, 'exit')) as [number | null]
      if (code !== 0) throw new Error(`the follower bench exited with ${code}`)
      rows.push(...(JSON.parse(out) as Row[]))
    }
    return rows
  } finally {
    if (process.env.BENCH_KEEP) console.error(`kept ${dir}`)
    else await fs.rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await followingBench(Number(process.env.BENCH_FOLLOWS ?? 1000), Number(process.env.BENCH_ONLINE ?? 100))
  const width = Math.max(...rows.map((r) => r.what.length))
  for (const r of rows) console.log(`${r.what.padEnd(width)}  ${r.value}`)
}
