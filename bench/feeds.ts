// Feed benchmarks: append rate, and a remote reader's newest-50 query vs a full download.
// Replication runs over an in-memory stream pair between two corestores in this process.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream'
import Corestore from 'corestore'
import { Identity } from '../src/identity/keys.js'
import { saveIdentity } from '../src/identity/home.js'
import { ChrysalisNode } from '../src/node/node.js'
import { Feed, OwnFeed } from '../src/feeds/feed.js'
import { feedKeyOf, postKey } from '../src/feeds/layout.js'
import { encodeRecord } from '../src/feeds/records.js'

export interface Row {
  what: string
  value: string
}

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-'))
}

export async function appendRate(n: number): Promise<Row[]> {
  const rows: Row[] = []
  {
    const dir = await tmp()
    const id = Identity.generate()
    const store = new Corestore(path.join(dir, 'store'))
    const feed = new OwnFeed(store.get({ keyPair: id.keyPair() }), id.publicKey)
    await feed.ready()
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await feed.post({ text: `post ${i} #vintage-manuals`, topics: ['vintage-manuals'] })
    const ms = performance.now() - t0
    rows.push({ what: `own feed: ${n} posts appended one by one`, value: `${Math.round((n / ms) * 1000)} posts/s (${ms.toFixed(0)} ms)` })
    await store.close()
    await fs.rm(dir, { recursive: true, force: true })
  }
  {
    const dir = await tmp()
    const home = path.join(dir, 'home')
    await saveIdentity(home, Identity.generate())
    const node = await ChrysalisNode.open({ home })
    await node.setProfile({ name: 'Bench', bio: '' })
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await node.post({ text: `post ${i} #vintage-manuals` })
    const ms = performance.now() - t0
    rows.push({ what: `node.post (feed + local index): ${n} posts`, value: `${Math.round((n / ms) * 1000)} posts/s (${ms.toFixed(0)} ms)` })
    await node.close()
    await fs.rm(dir, { recursive: true, force: true })
  }
  return rows
}

export async function remoteNewest(total: number, newest: number): Promise<Row[]> {
  const dir = await tmp()
  const author = Identity.generate()
  const writer = new Corestore(path.join(dir, 'writer'))
  const bee = new Feed(writer.get({ keyPair: author.keyPair() }), author.publicKey).bee
  await bee.ready()
  const base = 1_790_000_000_000
  for (let i = 0; i < total; i += 1000) {
    const batch = bee.batch()
    for (let j = i; j < Math.min(total, i + 1000); j++) {
      await batch.put(postKey(base + j), encodeRecord({ type: 'post', createdAt: base + j, text: `Post ${j}: a scan of a 1982 manual, 240 pages`, topics: ['vintage-manuals'], mentions: [], attachments: [] }))
    }
    await batch.flush()
  }

  async function reader(name: string): Promise<{ store: Corestore; feed: Feed; downloaded: () => number; close: () => Promise<void> }> {
    const store = new Corestore(path.join(dir, name))
    const s1 = writer.replicate(true)
    const s2 = store.replicate(false)
    pipeline(s1, s2, s1, () => {})
    const feed = new Feed(store.get({ key: feedKeyOf(author.publicKey) }), author.publicKey)
    await feed.ready()
    let blocks = 0
    feed.core.on('download', () => blocks++)
    if (feed.core.peers.length === 0) await new Promise((r) => feed.core.once('peer-add', r))
    await feed.core.update({ wait: true })
    return {
      store,
      feed,
      downloaded: () => blocks,
      close: async () => {
        s1.destroy()
        s2.destroy()
        await store.close()
      }
    }
  }

  const rows: Row[] = []
  {
    const r = await reader('sparse')
    const t0 = performance.now()
    const posts = await r.feed.posts({ limit: newest })
    const ms = performance.now() - t0
    if (posts.length !== newest) throw new Error('sparse read returned too few posts')
    rows.push({ what: `newest ${newest} of a ${total}-post remote feed (sparse)`, value: `${ms.toFixed(0)} ms, ${r.downloaded()} of ${r.feed.core.length} blocks` })
    await r.close()
  }
  {
    const r = await reader('full')
    const t0 = performance.now()
    await r.feed.core.download({ start: 0, end: r.feed.core.length }).done()
    const posts = await r.feed.posts({ limit: newest })
    const ms = performance.now() - t0
    if (posts.length !== newest) throw new Error('full read returned too few posts')
    rows.push({ what: `same after a full download of the feed`, value: `${ms.toFixed(0)} ms, ${r.downloaded()} of ${r.feed.core.length} blocks` })
    await r.close()
  }
  await writer.close()
  await fs.rm(dir, { recursive: true, force: true })
  return rows
}
