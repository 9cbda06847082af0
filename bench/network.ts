// Network benchmarks on an in-process loopback testnet (hyperdht bound to 127.0.0.1).
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { Identity } from '../src/identity/keys.js'
import { saveIdentity } from '../src/identity/home.js'
import { ChrysalisNode } from '../src/node/node.js'
import { postKey } from '../src/feeds/layout.js'
import { encodeRecord } from '../src/feeds/records.js'
import type { Row } from './feeds.js'

async function node(name: string, dirs: string[]): Promise<ChrysalisNode> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-'))
  dirs.push(dir)
  const home = path.join(dir, 'home')
  await saveIdentity(home, Identity.generate())
  const n = await ChrysalisNode.open({ home })
  await n.setProfile({ name, bio: '' })
  return n
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

export async function networkBench(): Promise<Row[]> {
  const rows: Row[] = []
  const dirs: string[] = []
  const testnet: Testnet = await createTestnet(3)
  try {
    // 1. A posts, B (following, online) sees it in its index.
    const a = await node('A', dirs)
    const b = await node('B', dirs)
    await a.online({ dht: testnet.createNode() })
    await b.online({ dht: testnet.createNode() })
    await b.follow(a.identity.publicKey)
    await b.sync({ timeoutMs: 10_000 })
    const latencies: number[] = []
    for (let i = 0; i < 20; i++) {
      const seen = new Promise<void>((resolve) => b.once('feed-update', () => resolve()))
      const t0 = performance.now()
      await a.post({ text: `latency probe ${i}` })
      await seen
      latencies.push(performance.now() - t0)
    }
    rows.push({ what: 'post by A → in B\'s timeline, both online (median of 20)', value: `${median(latencies).toFixed(1)} ms (min ${Math.min(...latencies).toFixed(1)}, max ${Math.max(...latencies).toFixed(1)})` })

    // 2. A new follower shows the newest 50 posts of a 10,000-post feed.
    const big = await node('Big', dirs)
    const base = 1_790_000_000_000
    for (let i = 0; i < 10_000; i += 1000) {
      const batch = big['own'].bee.batch() // a 10,000-post feed written in bulk, past the API
      for (let j = i; j < i + 1000; j++) {
        await batch.put(postKey(base + j), encodeRecord({ type: 'post', createdAt: base + j, text: `Post ${j}: a 1982 manual scan`, topics: [], mentions: [], attachments: [] }))
      }
      await batch.flush()
    }
    await big.online({ dht: testnet.createNode() })
    const c = await node('C', dirs)
    await c.online({ dht: testnet.createNode() })
    const t0 = performance.now()
    await c.follow(big.identity.publicKey)
    await c.sync({ timeoutMs: 30_000 })
    const feed = await c.feed(big.identity.publicKey, { limit: 50 })
    const ms = performance.now() - t0
    if (feed.length !== 50) throw new Error(`expected 50 posts, got ${feed.length}`)
    rows.push({ what: 'new follower: follow + sync + newest 50 of a 10,000-post feed', value: `${ms.toFixed(0)} ms` })

    // 3. One node following 500 feeds (their authors offline: this is the follower's own cost).
    const d = await node('D', dirs)
    const rss0 = process.memoryUsage().rss
    const t1 = performance.now()
    for (let i = 0; i < 500; i++) await d.follow(Identity.generate().publicKey)
    const followMs = performance.now() - t1
    const t2 = performance.now()
    await d.online({ dht: testnet.createNode() })
    const onlineMs = performance.now() - t2
    const t3 = performance.now()
    await d.sync({ timeoutMs: 1 })
    const syncMs = performance.now() - t3
    const rss = (process.memoryUsage().rss - rss0) / 1024 / 1024
    rows.push({ what: 'follow 500 feeds (records + cores)', value: `${followMs.toFixed(0)} ms` })
    rows.push({ what: 'go online with 500 followed feeds (500 topics)', value: `${(onlineMs / 1000).toFixed(1)} s` })
    rows.push({ what: 'sync pass over 500 feeds (none reachable)', value: `${syncMs.toFixed(0)} ms` })
    rows.push({ what: 'memory for the 500-feed node', value: `+${rss.toFixed(0)} MiB RSS` })
    for (const n of [a, b, big, c, d]) await n.close()
  } finally {
    await testnet.destroy()
    for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true })
  }
  return rows
}
