// Piece checks in worker threads (src/transfer/hash-pool.ts): the same digests as on the main
// thread for v1, v2 and hybrid pieces, computed by the workers on shared memory; an idle pool does
// not hold the process open; closing it answers what it still had.
import test from 'brittle'
import { spawn } from 'node:child_process'
import crypto from 'node:crypto'
import { once } from 'node:events'
import path from 'node:path'
import { HashPool, sharedBuffer } from '../src/transfer/hash-pool.js'
import { pieceDigests, type PieceHashJob } from '../src/transfer/piece-hash.js'

const PIECE = 256 * 1024
const jobs: PieceHashJob[] = [
  { v1Pad: 0, v2: null }, // v1
  { v1Pad: 4000, v2: null }, // v1, a pad ending the piece
  { v1Pad: null, v2: { pieceLength: PIECE, fileLength: 10 * PIECE } }, // v2
  { v1Pad: null, v2: { pieceLength: PIECE, fileLength: 40_000 } }, // v2, a file smaller than a piece
  { v1Pad: 0, v2: { pieceLength: PIECE, fileLength: 3 * PIECE } } // hybrid
]

function piece(size: number): Buffer {
  const data = sharedBuffer(size)
  crypto.randomFillSync(data)
  return data
}

test('hash pool: workers give the digests the main thread would, for every kind of piece', async (t) => {
  const pool = new HashPool(2)
  t.teardown(() => pool.close())
  const work = Array.from({ length: 40 }, (_, i) => {
    const job = jobs[i % jobs.length]!
    const data = piece(job.v2 && job.v2.fileLength < PIECE ? job.v2.fileLength : PIECE - (i % 3) * 16384)
    return { job, data, want: pieceDigests(data, job) }
  })
  const got = await Promise.all(work.map((w) => pool.digests(w.data, w.job)))
  for (const [i, w] of work.entries()) t.alike(got[i], w.want, `piece ${i}: ${JSON.stringify(w.job)}`)
  t.is(pool.offloaded, work.length, 'every piece was hashed by a worker')

  const plain = Buffer.from(work[0]!.data)
  t.alike(await pool.digests(plain, jobs[0]!), work[0]!.want, 'a buffer outside shared memory is hashed here')
  t.is(pool.offloaded, work.length)
})

test('hash pool: without a worker, pieces are hashed here, and a warning says so once', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error & { code?: string }): void => {
    if (w.code === 'CHRYSALIS_HASH_WORKER') warnings.push(w.message)
  }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const pool = new HashPool(2, () => {
    throw new Error('no hash-worker beside this file')
  })
  const data = piece(PIECE)
  for (const job of jobs.slice(0, 3)) t.alike(await pool.digests(data, job), pieceDigests(data, job))
  t.is(pool.offloaded, 0)
  await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
  t.alike(warnings, ['piece checks run on the main thread, slower: no hash-worker beside this file'])
})

test('hash pool: closing answers the pieces still queued, here', async (t) => {
  const pool = new HashPool(1)
  const work = Array.from({ length: 30 }, () => ({ data: piece(PIECE), job: jobs[4]! }))
  const pending = work.map((w) => pool.digests(w.data, w.job))
  await pool.close()
  const got = await Promise.all(pending)
  for (const [i, w] of work.entries()) t.alike(got[i], pieceDigests(w.data, w.job))
  t.ok(pool.offloaded < work.length, `${work.length - pool.offloaded} of ${work.length} answered after the close`)
})

test('hash pool: an idle pool does not keep the process alive (from source and built)', async (t) => {
  const root = path.join(import.meta.dirname, '..')
  const runs = [
    { how: 'from source', args: ['--import', 'tsx'], module: path.join(root, 'src', 'transfer', 'hash-pool.ts') },
    { how: 'built', args: [], module: path.join(root, 'dist', 'src', 'transfer', 'hash-pool.js') }
  ]
  for (const run of runs) {
    const code = `const { hashPool, sharedBuffer } = await import(${JSON.stringify(run.module)})
const d = await hashPool().digests(sharedBuffer(65536), { v1Pad: 0, v2: null })
console.log(hashPool().offloaded, d.sha1.toString('hex'))`
    const child = spawn(process.execPath, [...run.args, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => child.kill(), 30_000)
    const [exit] = (await once(child, 'exit')) as [number | null]
    clearTimeout(timer)
    t.is(exit, 0, `${run.how}: the process ended by itself once the work was done`)
    t.is(out.trim(), `1 ${crypto.hash('sha1', Buffer.alloc(65536))}`, `${run.how}: after a worker hashed its piece`)
  }
})
