import crypto from 'node:crypto'
import { pieceRoot } from './merkle.js'

/**
 * What checking one piece takes, and the digests it yields: the piece's SHA-1 over its bytes and
 * `v1Pad` zeros after them (v1 and hybrid torrents), and its merkle root (v2 and hybrid). Plain
 * numbers, so a job crosses to a worker thread as it is (hash-pool.ts).
 */
export interface PieceHashJob {
  /** Zeros hashed after the data for SHA-1 (a pad ending the piece), or null: no SHA-1. */
  v1Pad: number | null
  /** The piece's file, for the merkle root, or null: no merkle root. */
  v2: { pieceLength: number; fileLength: number } | null
}

export interface PieceDigests {
  sha1: Buffer | null
  root: Buffer | null
}

const ZEROS = Buffer.alloc(64 * 1024)

export function pieceDigests(data: Uint8Array, job: PieceHashJob): PieceDigests {
  let sha1: Buffer | null = null
  if (job.v1Pad !== null) {
    const h = crypto.createHash('sha1').update(data)
    for (let pad = job.v1Pad; pad > 0; pad -= ZEROS.length) h.update(pad >= ZEROS.length ? ZEROS : ZEROS.subarray(0, pad))
    sha1 = h.digest()
  }
  const root = job.v2 ? pieceRoot(data, job.v2.pieceLength, job.v2.fileLength) : null
  return { sha1, root }
}
