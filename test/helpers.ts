import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream'
import type Corestore from 'corestore'
import type { BtOptions } from '../src/transfer/bt-options.js'
import type { Testnet } from 'hyperdht/testnet.js'
import type Hypercore from 'hypercore'
import { Identity } from '../src/identity/keys.js'
import { saveIdentity } from '../src/identity/home.js'
import { ChrysalisNode } from '../src/node/node.js'

/** The part of a brittle test the helpers use. */
export interface Test {
  teardown(fn: () => unknown, opts?: { order?: number }): void
}

/** A fresh directory removed when the test ends. */
export async function tmpDir(t: Test): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-test-'))
  // After everything that may still write into it has closed (default order 0).
  t.teardown(() => fs.rm(dir, { recursive: true, force: true, maxRetries: 3 }), { order: 10 })
  return dir
}

/** A node with a new identity and a profile, closed when the test ends. */
export async function makeNode(t: Test, name: string, opts: { now?: () => number; identity?: Identity } = {}): Promise<ChrysalisNode> {
  const home = path.join(await tmpDir(t), 'home')
  await saveIdentity(home, opts.identity ?? Identity.generate())
  const node = await ChrysalisNode.open({ home, ...(opts.now ? { now: opts.now } : {}) })
  t.teardown(() => node.close(), { order: -1 })
  await node.setProfile({ name, bio: `${name}'s bio` })
  return node
}

/**
 * Replicate two corestores over an in-memory stream pair until the test ends, every open core
 * offered (a node's store offers none by itself: Presence attaches feeds per connection).
 */
export function replicate(t: Test, a: Corestore, b: Corestore): void {
  for (const store of [a, b]) (store as unknown as { active: boolean }).active = true
  const s1 = a.replicate(true)
  const s2 = b.replicate(false)
  pipeline(s1, s2, s1, () => {})
  t.teardown(
    () => {
      s1.destroy()
      s2.destroy()
    },
    { order: -2 }
  )
}

/** Resolve once a core has at least one replicating peer. */
export async function peered(core: Hypercore): Promise<void> {
  await core.ready()
  if (core.peers.length > 0) return
  await new Promise<void>((resolve) => core.once('peer-add', () => resolve()))
}

/** Poll `check` until it returns true, failing after `ms`: a deadline, never a fixed sleep. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A deterministic clock for tests: each call advances one second from a fixed start. */
export function fakeClock(start = 1_790_000_000_000, step = 1000): () => number {
  let t = start - step
  return () => (t += step)
}

/** A node with a new identity, online on a loopback testnet, closed when the test ends. */
export async function onlineNode(t: Test, testnet: Testnet, name: string, bt: BtOptions = {}): Promise<ChrysalisNode> {
  const node = await makeNode(t, name)
  // BitTorrent on loopback, any free port; no mainline DHT unless a test brings its own.
  await node.online({ dht: testnet.createNode(), bt: { host: '127.0.0.1', port: 0, ...bt } })
  return node
}

/** A file of `size` random bytes in `dir`, and its SHA-256 (hex). */
export async function dataFile(dir: string, name: string, size: number): Promise<{ file: string; hash: string }> {
  const file = path.join(dir, name)
  const data = crypto.randomBytes(size)
  await fs.writeFile(file, data)
  return { file, hash: crypto.createHash('sha256').update(data).digest('hex') }
}

/** SHA-256 (hex) of a file, streamed (large downloads too). */
export async function shaFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256')
  const fh = await fs.open(file)
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer)
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}

/**
 * A node's private parts, for tests that check what its API does not show (the index's
 * bookkeeping, the store, the raw transfers, the swarm). Product code never reaches in.
 */
export function internals(node: ChrysalisNode) {
  const presence = node['presence']
  return {
    store: node['store'],
    own: node['own'],
    index: node['index'],
    transfers: node['transfers'],
    feedOf: (author: Buffer) => node['feeds'].of(author),
    relations: node['relations'],
    conversations: node['conversations'],
    presence: node['presence'],
    get network() {
      return presence.network
    }
  }
}
