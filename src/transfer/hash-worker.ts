import { parentPort } from 'node:worker_threads'
import { pieceDigests, type PieceHashJob } from './piece-hash.js'

/** A hash-pool.ts worker: digests of pieces lying in shared memory, answered by job id. */
export interface WorkerJob extends PieceHashJob {
  id: number
  buffer: SharedArrayBuffer
  offset: number
  length: number
}

parentPort?.on('message', (job: WorkerJob) => {
  const { sha1, root } = pieceDigests(new Uint8Array(job.buffer, job.offset, job.length), job)
  parentPort!.postMessage({ id: job.id, sha1, root })
})
