// Transfer benchmarks: Chrysalis hashing and fetching beside raw SHA-256, hypercore replication
// and libtorrent, all on the same 512 MiB file on this machine (loopback only).
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import { Identity } from '../src/identity/keys.js'
import { saveIdentity } from '../src/identity/home.js'
import { ChrysalisNode } from '../src/node/node.js'
import { createTorrent } from '../src/transfer/create.js'
import type { Row } from './feeds.js'
import { makeTestFile, sha256Baseline } from './hash_baseline.js'
import { hypercoreBaseline } from './hypercore_transfer.js'
import { libtorrentBaseline } from './libtorrent.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function newHome(dir: string, name: string): Promise<string> {
  const home = path.join(dir, name)
  await saveIdentity(home, Identity.generate())
  return home
}

function child(args: string[]): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []), '--import', 'tsx', path.join(here, 'fetch_child.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.stderr.on('data', (d: Buffer) => (err += d.toString()))
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; bytes: number }) : reject(new Error(`fetch child failed: ${err.trim().slice(-300)}`))))
  })
}

export async function transferBench(mib = 512, runs = 3, opts: { only?: 'fetch' } = {}): Promise<Row[]> {
  const rows: Row[] = []
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-tx-'))
  const file = path.join(dir, 'data.bin')
  try {
    await makeTestFile(file, mib)
    // 1. Hashing: `share` against raw node:crypto SHA-256 of the same file.
    if (opts.only !== 'fetch') rows.push(...(await sha256Baseline(file)))
    const hashTimes: number[] = []
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      await createTorrent(file)
      hashTimes.push((performance.now() - t0) / 1000)
    }
    rows.push({ what: `chrysalis share (BEP 52 hashing) of ${mib} MiB, median of ${runs}`, value: `${(mib / median(hashTimes)).toFixed(0)} MiB/s` })

    // 2. Fetch between two processes: this process seeds, a child fetches.
    const testnet = await createTestnet(3, { host: '127.0.0.1' })
    const seeder = await ChrysalisNode.open({ home: await newHome(dir, 'seeder') })
    try {
      const shared = await seeder.files.share(file)
      // Across processes the listening side must not be firewalled (holepunch.md §7.6).
      await seeder.online({ bootstrap: testnet.bootstrap })
      const bootstrap = `${testnet.bootstrap[0]!.host}:${testnet.bootstrap[0]!.port}`
      const rates: number[] = []
      for (let i = 0; i < runs; i++) {
        const out = path.join(dir, `out-${i}`)
        const r = await child([await newHome(dir, `fetcher-${i}`), bootstrap, shared.magnet, out])
        if (r.bytes !== mib * MiB) throw new Error('fetched the wrong size')
        rates.push(mib / r.seconds)
        await fs.rm(out, { recursive: true, force: true })
      }
      rows.push({ what: `chrysalis fetch ${mib} MiB, two processes on loopback, median of ${runs}`, value: `${median(rates).toFixed(0)} MiB/s (${rates.map((r) => r.toFixed(0)).join(', ')})` })
    } finally {
      await seeder.close()
      await testnet.destroy()
    }

    // 3. Baselines on the same bytes.
    if (opts.only === 'fetch') return rows
    rows.push(...(await hypercoreBaseline(mib, { file, runs })))
    rows.push(...(await libtorrentBaseline(file, { runs })))
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
  return rows
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const rows = await transferBench(Number(process.argv[2] ?? 512), Number(process.argv[3] ?? 3), process.argv[4] === 'fetch' ? { only: 'fetch' } : {})
  for (const r of rows) console.log(`${r.what}  ${r.value}`)
}
