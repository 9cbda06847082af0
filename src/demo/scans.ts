import { createCipheriv, createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

const MiB = 1024 * 1024
const CHUNK = MiB
const HEADER = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n'
const TRAILER = '\n%%EOF\n'

/** Where the demo keeps the scans of the collectors: DIR/scans/FILE. */
export function scanPath(dir: string, file: string): string {
  return path.join(dir, 'scans', file)
}

/**
 * Write a stand-in for a scanned manual: a "%PDF-1.4" header, then bytes from a generator
 * seeded by the file name, then "%%EOF". The same name and size always give the same bytes, so
 * an infohash in the demo is stable from run to run and a test can check what it fetched.
 *
 *   await writeScan(scanPath(dir, 'kaypro-ii-users-guide-1982.pdf'), 6 * 1024 * 1024)
 */
export async function writeScan(file: string, size: number): Promise<void> {
  const head = Buffer.from(`${HEADER}% ${path.basename(file)}: a Chrysalis demo scan, not a real PDF\n`, 'latin1')
  const tail = Buffer.from(TRAILER, 'latin1')
  if (!Number.isSafeInteger(size) || size < head.length + tail.length) throw new RangeError(`a scan of ${size} bytes is too small`)
  const stream = seededBytes(path.basename(file))
  await fs.mkdir(path.dirname(file), { recursive: true })
  const out = await fs.open(file, 'w')
  try {
    await out.write(head)
    let left = size - head.length - tail.length
    while (left > 0) {
      const n = Math.min(CHUNK, left)
      await out.write(stream(n))
      left -= n
    }
    await out.write(tail)
  } finally {
    await out.close()
  }
}

/** A deterministic byte generator: the AES-256-CTR keystream under a key hashed from `seed`. */
function seededBytes(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(`chrysalis/demo-scan/v1\0${seed}`).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  return (n) => cipher.update(Buffer.alloc(n))
}

/** "6.0 MiB" */
export function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`
}

export { MiB }
