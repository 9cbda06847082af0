import fs from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { WorkerJob } from './hash-worker.js'
import { pieceDigests, type PieceDigests, type PieceHashJob } from './piece-hash.js'

/**
 * Piece checks off the main thread: SHA-1 and merkle roots computed by worker threads on the
 * piece buffers themselves (shared memory; nothing is copied). A download's main thread only
 * moves bytes, so it keeps pace with the network. Workers start on first use
 * and do not keep the process alive while idle. A buffer not in shared memory, or a pool whose
 * worker died, is hashed here, synchronously: slower, never wrong.
 *
 *   const data = sharedBuffer(262144)             // assembled by the downloader
 *   const { sha1, root } = await hashPool().digests(data, map.hashJob(piece, data.length))
 */
export const HASH_POOL_LIMITS = {
  /** Worker threads: one core is left to the main thread (and to the seeder beside it). */
  workers: Math.max(1, Math.min(4, os.availableParallelism() - 1))
} as const

/** A zeroed buffer in shared memory, which the pool hashes in a worker. */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size))
}

/**
 * The worker's file: hash-worker.js beside this one (tsc's dist/), or hash-worker.mjs at the top
 * of the bundle (this code sits in dist/bundle/chunks/, or in the entry itself).
 */
function workerFile(): URL | null {
  for (const rel of ['./hash-worker.js', '../hash-worker.mjs', './hash-worker.mjs']) {
    const url = new URL(rel, import.meta.url)
    if (fs.existsSync(fileURLToPath(url))) return url
  }
  return null
}

/** A worker running hash-worker's code; throws when there is none. */
function startWorker(): Worker {
  // No node flags: a worker refuses the per-process ones (--perf-basic-prof, --input-type…), and
  // needs none.
  const execArgv: string[] = []
  if (import.meta.url.endsWith('.ts')) {
    // From source, under tsx (the tests): a worker does not get tsx's loader on Node 20; it
    // registers it before loading hash-worker.ts.
    const tsx = import.meta.resolve('tsx/esm/api')
    const entry = new URL('./hash-worker.ts', import.meta.url).href
    return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}) })`, { eval: true, execArgv })
  }
  const file = workerFile()
  if (!file) throw new Error(`no hash-worker beside ${fileURLToPath(import.meta.url)}`)
  return new Worker(file, { execArgv })
}

interface Pending {
  job: WorkerJob
  resolve(d: PieceDigests): void
}

interface Slot {
  worker: Worker
  pending: Map<number, Pending>
}

/** Checks pieces' hashes on worker threads, on the piece buffers themselves. */
export class HashPool {
  private readonly slots: Slot[] = []
  private readonly size: number
  private nextId = 0
  private broken = false
  /** Jobs a worker answered (the rest were hashed here). */
  offloaded = 0

  private readonly start: () => Worker

  /** `start` makes a worker (tests give one that fails). */
  constructor(size: number = HASH_POOL_LIMITS.workers, start: () => Worker = startWorker) {
    this.size = size
    this.start = start
  }

  /** The digests a piece check needs: in a worker when `data` lies in shared memory, else here. */
  digests(data: Buffer, job: PieceHashJob): Promise<PieceDigests> {
    const buffer = data.buffer
    const slot = buffer instanceof SharedArrayBuffer ? this.pick() : null
    if (!slot || !(buffer instanceof SharedArrayBuffer)) return Promise.resolve(pieceDigests(data, job))
    const id = this.nextId++
    const work: WorkerJob = { v1Pad: job.v1Pad, v2: job.v2, id, buffer, offset: data.byteOffset, length: data.length }
    return new Promise((resolve) => {
      // Kept alive only while it has work: an idle pool never holds the process open.
      if (slot.pending.size === 0) slot.worker.ref()
      slot.pending.set(id, { job: work, resolve })
      slot.worker.postMessage(work)
    })
  }

  /** Start the workers now (a download is about to need them): a worker takes tens of ms to boot. */
  warm(): void {
    this.pick()
  }

  /** Stop the workers; what they still had is hashed here. */
  async close(): Promise<void> {
    this.broken = true
    const slots = this.slots.splice(0)
    for (const s of slots) this.settle(s)
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }

  /** The least busy worker, starting them on first use; null once workers failed. */
  private pick(): Slot | null {
    if (this.broken) return null
    while (this.slots.length < this.size) {
      const slot = this.spawn()
      if (!slot) return null
      this.slots.push(slot)
    }
    let best = this.slots[0]!
    for (const s of this.slots) if (s.pending.size < best.pending.size) best = s
    return best
  }

  private spawn(): Slot | null {
    let worker: Worker
    try {
      worker = this.start()
    } catch (err) {
      this.fallBack((err as Error).message)
      return null
    }
    const slot: Slot = { worker, pending: new Map() }
    worker.on('message', (m: { id: number; sha1: Uint8Array | null; root: Uint8Array | null }) => {
      const p = slot.pending.get(m.id)
      if (!p) return
      slot.pending.delete(m.id)
      if (slot.pending.size === 0) worker.unref()
      this.offloaded++
      p.resolve({ sha1: m.sha1 && asBuffer(m.sha1), root: m.root && asBuffer(m.root) })
    })
    const lost = (err?: Error | number): void => {
      // A worker that failed or exited: no more workers; its jobs are hashed here.
      if (!this.broken) this.fallBack(err instanceof Error ? err.message : `a hash worker exited (${err})`)
      const i = this.slots.indexOf(slot)
      if (i !== -1) this.slots.splice(i, 1)
      this.settle(slot)
    }
    worker.on('error', lost)
    worker.on('exit', lost)
    worker.unref()
    return slot
  }

  /** No more workers: say so once (a broken install), hash here from now on. */
  private fallBack(reason: string): void {
    this.broken = true
    process.emitWarning(`piece checks run on the main thread, slower: ${reason}`, { code: 'CHRYSALIS_HASH_WORKER' })
  }

  private settle(slot: Slot): void {
    for (const p of slot.pending.values()) p.resolve(pieceDigests(new Uint8Array(p.job.buffer, p.job.offset, p.job.length), p.job))
    slot.pending.clear()
  }
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

let shared: HashPool | null = null

/** The process's pool, shared by every torrent. */
export function hashPool(): HashPool {
  return (shared ??= new HashPool())
}
