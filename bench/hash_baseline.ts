// Baseline: raw node:crypto SHA-256 over a whole file, the ceiling for any piece-hashing code.
// Also the test-file maker the other baselines share.
import crypto from 'node:crypto'
import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Row } from './feeds.js'

const MiB = 1024 * 1024
const CHUNK = 4 * MiB

/**
 * Writes `mib` MiB of deterministic pseudo-random bytes to `file` (AES-128-CTR keystream under a
 * fixed key: the same file every time, no two chunks alike, written at disk/page-cache speed).
 */
export async function makeTestFile(file: string, mib: number): Promise<void> {
  const cipher = crypto.createCipheriv('aes-128-ctr', Buffer.alloc(16, 0x5e), Buffer.alloc(16, 0))
  const zeros = Buffer.alloc(CHUNK)
  const fh = await fs.open(file, 'w')
  try {
    let left = Math.round(mib * MiB)
    while (left > 0) {
      const n = Math.min(left, CHUNK)
      const chunk = cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n))
      await fh.write(chunk, 0, chunk.length)
      left -= n
    }
  } finally {
    await fh.close()
  }
}

/**
 * SHA-256 of the whole file, read in 4 MiB chunks into one reused buffer. `async` reads with
 * FileHandle.read (the read runs on libuv's thread pool, so the bytes land in another core's cache
 * before the hash touches them); `sync` reads with fs.readSync on the hashing thread.
 */
export async function sha256File(file: string, mode: 'sync' | 'async' = 'async'): Promise<{ digest: string; bytes: number }> {
  const buf = Buffer.allocUnsafe(CHUNK)
  const hash = crypto.createHash('sha256')
  let bytes = 0
  if (mode === 'sync') {
    const fd = fsSync.openSync(file, 'r')
    try {
      for (;;) {
        const n = fsSync.readSync(fd, buf, 0, CHUNK, null)
        if (n === 0) break
        hash.update(buf.subarray(0, n))
        bytes += n
      }
    } finally {
      fsSync.closeSync(fd)
    }
  } else {
    const fh = await fs.open(file, 'r')
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null)
        if (bytesRead === 0) break
        hash.update(buf.subarray(0, bytesRead))
        bytes += bytesRead
      }
    } finally {
      await fh.close()
    }
  }
  return { digest: hash.digest('hex'), bytes }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/**
 * Median of 3 whole-file passes for each way of reading (after one warm-up pass that puts the file
 * in the page cache), plus the same hash over one in-memory 4 MiB buffer (no reads at all).
 */
export async function sha256Baseline(file: string): Promise<Row[]> {
  const { bytes } = await sha256File(file)
  const mib = bytes / MiB
  const rows: Row[] = []
  const fmt = (rates: number[]): string =>
    `${median(rates).toFixed(0)} MiB/s (median of 3: ${rates.map((r) => r.toFixed(0)).join(', ')})`
  for (const mode of ['async', 'sync'] as const) {
    const rates: number[] = []
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      await sha256File(file, mode)
      rates.push(mib / ((performance.now() - t0) / 1000))
    }
    rows.push({
      what: `SHA-256 (node:crypto), ${mib.toFixed(0)} MiB cached file, 4 MiB chunks, ${mode === 'async' ? 'FileHandle.read' : 'fs.readSync'}`,
      value: fmt(rates)
    })
  }
  const block = crypto.randomBytes(CHUNK)
  const rates: number[] = []
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    const h = crypto.createHash('sha256')
    for (let done = 0; done < bytes; done += CHUNK) h.update(done + CHUNK <= bytes ? block : block.subarray(0, bytes - done))
    h.digest()
    rates.push(mib / ((performance.now() - t0) / 1000))
  }
  rows.push({ what: `SHA-256 (node:crypto), same ${mib.toFixed(0)} MiB from one in-memory 4 MiB buffer`, value: fmt(rates) })
  return rows
}

async function main(): Promise<void> {
  const arg = process.argv[2]
  let file = arg
  let dir: string | null = null
  if (arg === undefined || /^\d+$/.test(arg)) {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-hash-'))
    file = path.join(dir, 'data.bin')
    const t0 = performance.now()
    await makeTestFile(file, arg === undefined ? 512 : Number(arg))
    console.log(`makeTestFile: ${((performance.now() - t0) / 1000).toFixed(2)} s`)
  }
  try {
    for (const r of await sha256Baseline(file!)) console.log(`${r.what}  ${r.value}`)
  } finally {
    if (dir !== null) await fs.rm(dir, { recursive: true, force: true })
  }
}

// Standalone: node --import tsx bench/hash_baseline.ts [FILE | MIB]
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
