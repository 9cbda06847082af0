// Home size: what routine CLI use leaves on disk, and what a serving node's store takes, next to
// the same with RocksDB's defaults (a bare Corestore) for comparison.
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Corestore from 'corestore'
import createTestnet from 'hyperdht/testnet.js'
import { Identity } from '../src/identity/keys.js'
import { saveIdentity } from '../src/identity/home.js'
import { ChrysalisNode } from '../src/node/node.js'
import type { Row } from './feeds.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'main.js')
const run = promisify(execFile)

/** Bytes on disk as du counts them (allocated blocks, preallocation included), and entries. */
export async function diskUsage(p: string): Promise<{ bytes: number; files: number }> {
  const st = await fs.lstat(p)
  let bytes = st.blocks * 512
  let files = 1
  if (st.isDirectory()) {
    for (const name of await fs.readdir(p)) {
      const sub = await diskUsage(path.join(p, name)).catch(() => ({ bytes: 0, files: 0 }))
      bytes += sub.bytes
      files += sub.files
    }
  }
  return { bytes, files }
}

async function oldLogs(db: string): Promise<number> {
  return (await fs.readdir(db)).filter((n) => n.startsWith('LOG.old')).length
}

const fmt = (u: { bytes: number; files: number }): string => `${(u.bytes / 1024).toFixed(0)} KiB in ${u.files} files`

export async function homeSizeBench(commands = 50): Promise<Row[]> {
  const rows: Row[] = []
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-'))
  try {
    // 1. Routine CLI use: init, then post / timeline / whoami in turn, each its own process.
    const home = path.join(dir, 'cli')
    await run(process.execPath, [BIN, '--home', home, 'init', '--name', 'bench'])
    const mix = [['post', 'hello'], ['timeline'], ['whoami']]
    for (let i = 1; i < commands; i++) await run(process.execPath, [BIN, '--home', home, ...mix[i % 3]!])
    const cli = await diskUsage(home)
    rows.push({ what: `home after ${commands} CLI commands`, value: `${fmt(cli)}, ${await oldLogs(path.join(home, 'store', 'db'))} LOG.old` })

    // The same number of opens of a bare Corestore (RocksDB's defaults): one LOG.old each.
    const bare = path.join(dir, 'bare')
    for (let i = 0; i < commands; i++) {
      const store = new Corestore(bare)
      await store.ready()
      await store.close()
    }
    rows.push({ what: `  RocksDB defaults: ${commands} opens`, value: `${fmt(await diskUsage(bare))}, ${await oldLogs(path.join(bare, 'db'))} LOG.old` })

    // 2. A serving node (online on a loopback testnet) after one post, measured while it runs.
    const testnet = await createTestnet(3)
    try {
      const serving = path.join(dir, 'serving')
      await saveIdentity(serving, Identity.generate())
      const node = await ChrysalisNode.open({ home: serving })
      await node.online({ dht: testnet.createNode() })
      await node.setProfile({ name: 'bench', bio: '' })
      await node.post({ text: 'one post' })
      rows.push({ what: 'serving node after one post (while open)', value: fmt(await diskUsage(serving)) })
      await node.close()
      rows.push({ what: '  the same home after close', value: fmt(await diskUsage(serving)) })
    } finally {
      await testnet.destroy()
    }
    const defaults = path.join(dir, 'defaults')
    const store = new Corestore(defaults)
    const id = Identity.generate()
    const core = store.get({ keyPair: id.keyPair() })
    await core.append(Buffer.from('one post'))
    rows.push({ what: '  RocksDB defaults: a store after one block (while open)', value: fmt(await diskUsage(defaults)) })
    await store.close()
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
  return rows
}
