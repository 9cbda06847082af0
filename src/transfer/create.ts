import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { buildMetainfo, checkComponent, choosePieceLength, type HashedFile, type Metainfo } from './metainfo.js'
import { sameTime } from './storage.js'
import { blockHashes, blocksPerPiece, nextPow2, rootFromLayer, subtreeRoot } from './merkle.js'

/**
 * Hash a file or a directory into a BEP 52 torrent in one streamed pass: large piece-aligned
 * reads, the next read in flight while the current chunk is hashed.
 *
 *   const { meta, sources } = await createTorrent('/scans/kaypro.pdf', { onProgress })
 */
export interface SourceFile {
  /** Absolute path on disk. */
  file: string
  length: number
  mtimeMs: number
}

export interface CreateOptions {
  hybrid?: boolean
  pieceLength?: number
  onProgress?: (done: number, total: number) => void
}

const CHUNK = 4 * 1024 * 1024

export async function createTorrent(input: string, opts: CreateOptions = {}): Promise<{ meta: Metainfo; sources: SourceFile[] }> {
  const root = path.resolve(input)
  const st = await fs.stat(root).catch((err: NodeJS.ErrnoException) => {
    throw new ChrysalisError('NOT_FOUND', `cannot read ${input}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.code}; check the path`)
  })
  const name = checkComponent(path.basename(root), `the path ${input}`)
  const multi = st.isDirectory()
  const entries = multi ? await listFiles(root) : [{ parts: [name], file: root, length: st.size, mtimeMs: st.mtimeMs }]
  const total = entries.reduce((n, e) => n + e.length, 0)
  if (total === 0) throw new ChrysalisError('NOTHING_TO_SHARE', `${input} holds no data (empty files only); there is nothing to share`)
  const pieceLength = opts.pieceLength ?? choosePieceLength(total)
  // Pads (and so zero-filled v1 pieces) appear only in a hybrid with a file list.
  const padV1 = multi
  const files: HashedFile[] = []
  let done = 0
  const buffers = [Buffer.allocUnsafe(Math.max(CHUNK, pieceLength)), Buffer.allocUnsafe(Math.max(CHUNK, pieceLength))]
  for (const e of entries) {
    const hashed = await hashFile(e.file, e.length, pieceLength, { hybrid: opts.hybrid === true, padV1, buffers }, (n) => {
      done += n
      opts.onProgress?.(done, total)
    })
    const after = await fs.stat(e.file)
    if (after.size !== e.length || !sameTime(after.mtimeMs, e.mtimeMs)) {
      throw new ChrysalisError('FILE_CHANGED', `${e.file} changed while it was being hashed; share it again once it stops changing`)
    }
    files.push({ path: e.parts, ...hashed })
  }
  const meta = buildMetainfo({ name, multi, pieceLength, files, hybrid: opts.hybrid === true })
  return { meta, sources: entries.map((e) => ({ file: e.file, length: e.length, mtimeMs: e.mtimeMs })) }
}

interface Entry {
  parts: string[]
  file: string
  length: number
  mtimeMs: number
}

/** Regular files under a directory, in torrent order (path components compared as bytes). */
async function listFiles(dir: string, parts: string[] = []): Promise<Entry[]> {
  const names = (await fs.readdir(dir, { encoding: 'buffer' })).sort((a, b) => Buffer.compare(a, b))
  const out: Entry[] = []
  for (const raw of names) {
    const part = checkComponent(raw, `the directory ${dir}`)
    const file = path.join(dir, part)
    const st = await fs.stat(file)
    if (st.isDirectory()) out.push(...(await listFiles(file, [...parts, part])))
    else if (st.isFile()) out.push({ parts: [...parts, part], file, length: st.size, mtimeMs: st.mtimeMs })
  }
  return out
}

async function hashFile(
  file: string,
  length: number,
  pieceLength: number,
  opts: { hybrid: boolean; padV1: boolean; buffers: Buffer[] },
  progress: (bytes: number) => void
): Promise<Omit<HashedFile, 'path'>> {
  if (length === 0) return { length, piecesRoot: null, layer: [], v1Pieces: opts.hybrid ? [] : undefined }
  const layer: Buffer[] = []
  const v1: Buffer[] = []
  const chunk = Math.floor(opts.buffers[0]!.length / pieceLength) * pieceLength
  const single = length <= pieceLength
  let singleRoot: Buffer | null = null
  const fh = await fs.open(file, 'r')
  try {
    const read = (i: number, at: number): Promise<number> =>
      at >= length ? Promise.resolve(0) : readFully(fh, opts.buffers[i % 2]!, Math.min(chunk, length - at), at)
    let at = 0
    let i = 0
    let pending = read(0, 0)
    while (at < length) {
      const n = await pending
      if (n === 0) throw new ChrysalisError('FILE_CHANGED', `${file} got shorter while it was being hashed; share it again once it stops changing`)
      const buf = opts.buffers[i % 2]!
      pending = read(i + 1, at + n)
      for (let p = 0; p < n; p += pieceLength) {
        const piece = buf.subarray(p, Math.min(p + pieceLength, n))
        const leaves = blockHashes(piece)
        if (single) singleRoot = subtreeRoot(leaves, nextPow2(leaves.length))
        else layer.push(subtreeRoot(leaves, blocksPerPiece(pieceLength)))
        if (opts.hybrid) {
          const padded = opts.padV1 && piece.length < pieceLength ? Buffer.concat([piece, Buffer.alloc(pieceLength - piece.length)]) : piece
          v1.push(crypto.hash('sha1', padded, 'buffer'))
        }
      }
      at += n
      i++
      progress(n)
    }
    await pending
  } finally {
    await fh.close()
  }
  const piecesRoot = single ? singleRoot! : rootFromLayer(layer, pieceLength)
  return { length, piecesRoot, layer: single ? [] : layer, v1Pieces: opts.hybrid ? v1 : undefined }
}

async function readFully(fh: fs.FileHandle, buf: Buffer, want: number, position: number): Promise<number> {
  let got = 0
  while (got < want) {
    const { bytesRead } = await fh.read(buf, got, want - got, position + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return got
}
