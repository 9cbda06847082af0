// Baseline: the same bytes as the BitTorrent baselines, as a hypercore in 64 KiB blocks, replicated
// corestore → corestore over hyperswarm to a second process. Everything on a loopback testnet
// (hyperdht bound to 127.0.0.1); the child gets the bootstrap and refuses anything but loopback.
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import createTestnet from 'hyperdht/testnet.js'
import { createDht } from '../src/net/dht.js'
import type { Row } from './feeds.js'
import { makeTestFile } from './hash_baseline.js'

const MiB = 1024 * 1024
const BLOCK = 64 * 1024
const CHUNK = 4 * MiB // one read = 64 blocks = one append batch
const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.dirname(here)

interface ChildResult {
  connectMs: number
  seconds: number
  blocks: number
  bytes: number
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function runChild(keyHex: string, length: number, bootstrap: string, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'hypercore_child.ts'), keyHex, String(length), bootstrap], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const last = out.trim().split('\n').pop() ?? ''
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`hypercore child failed (${signal ?? `exit ${code}`}): ${err.trim().split('\n').slice(-3).join(' | ')}`))
        return
      }
      resolve(JSON.parse(last) as ChildResult)
    })
  })
}

/**
 * Appends `fileMiB` MiB (from `opts.file`, else a fresh makeTestFile() file) to a hypercore in
 * 64 KiB blocks (batches of 64), then replicates it to a fresh corestore in a child process,
 * `opts.runs` times (default 3, a new child and store each time). Rows: the append rate and the
 * replication rate (median), timed in the child from "peer found, length known" to "all blocks
 * stored and verified".
 */
export async function hypercoreBaseline(fileMiB: number, opts: { file?: string; runs?: number } = {}): Promise<Row[]> {
  const runs = opts.runs ?? 3
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-hc-'))
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const store = new Corestore(path.join(dir, 'writer'))
  const swarm = new Hyperswarm({ dht: createDht(testnet.bootstrap) })
  try {
    const file = opts.file ?? path.join(dir, 'data.bin')
    if (opts.file === undefined) await makeTestFile(file, fileMiB)
    const core = store.get({ name: 'bench' })
    await core.ready()

    // 1. Append.
    const fh = await fs.open(file, 'r')
    let left = Math.round(fileMiB * MiB)
    const t0 = performance.now()
    try {
      while (left > 0) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, left))
        const { bytesRead } = await fh.read(buf, 0, buf.length, null)
        if (bytesRead === 0) break
        const blocks: Buffer[] = []
        for (let off = 0; off < bytesRead; off += BLOCK) blocks.push(buf.subarray(off, Math.min(off + BLOCK, bytesRead)))
        await core.append(blocks)
        left -= bytesRead
      }
    } finally {
      await fh.close()
    }
    const appendS = (performance.now() - t0) / 1000
    const mib = core.byteLength / MiB
    const rows: Row[] = [{
      what: `hypercore append, ${mib.toFixed(0)} MiB in 64 KiB blocks (batches of 64)`,
      value: `${(mib / appendS).toFixed(1)} MiB/s (${appendS.toFixed(2)} s, ${core.length} blocks)`
    }]

    // 2. Serve it; a child process downloads it.
    swarm.on('connection', (conn) => {
      conn.on('error', () => {})
      store.replicate(conn)
    })
    await swarm.join(core.discoveryKey, { server: true, client: false }).flushed()
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
    const results: ChildResult[] = []
    for (let i = 0; i < runs; i++) {
      const r = await runChild(core.key.toString('hex'), core.length, bootstrap, 60_000 + mib * 1000)
      if (r.bytes !== core.byteLength) throw new Error(`child got ${r.bytes} bytes, expected ${core.byteLength}`)
      results.push(r)
    }
    const rates = results.map((r) => mib / r.seconds)
    rows.push({
      what: `hypercore replication, ${mib.toFixed(0)} MiB, corestore → corestore over hyperswarm, 2 processes`,
      value: `${median(rates).toFixed(1)} MiB/s (median of ${runs}: ${rates.map((x) => x.toFixed(1)).join(', ')}; ` +
        `connect ${median(results.map((r) => r.connectMs)).toFixed(0)} ms; source file cached)`
    })
    return rows
  } finally {
    await swarm.destroy()
    await store.close()
    await testnet.destroy()
    await fs.rm(dir, { recursive: true, force: true })
  }
}

// Standalone: node --import tsx bench/hypercore_transfer.ts [MIB] [RUNS]
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mib = Number(process.argv[2] ?? 512)
  const runs = Number(process.argv[3] ?? 3)
  for (const r of await hypercoreBaseline(mib, { runs })) console.log(`${r.what}  ${r.value}`)
}
