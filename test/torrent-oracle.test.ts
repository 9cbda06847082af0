// BEP 52 agreement with libtorrent 2.0.8 (../shared/tools/bt-oracle.py, python3-libtorrent).
import test from 'brittle'
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { createTorrent } from '../src/transfer/create.js'
import { parseTorrent, torrentBytes } from '../src/transfer/metainfo.js'
import { tmpDir } from './helpers.js'
import { ORACLE, oracleMake } from './helpers-oracle.js'

const exec = promisify(execFile)

async function write(file: string, size: number, seed: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const data = Buffer.alloc(size)
  for (let at = 0; at < size; at += 32) crypto.createHash('sha256').update(`${seed}:${at}`).digest().copy(data, at)
  await fs.writeFile(file, data)
}

const KiB = 1024
const cases: Array<{ name: string; pieceLengths: number[]; make: (root: string) => Promise<string> }> = [
  { name: 'one byte', pieceLengths: [16 * KiB], make: async (d) => (await write(path.join(d, 'one.bin'), 1, 1), path.join(d, 'one.bin')) },
  { name: 'exactly 16 KiB', pieceLengths: [16 * KiB, 64 * KiB], make: async (d) => (await write(path.join(d, 'block.bin'), 16 * KiB, 2), path.join(d, 'block.bin')) },
  { name: '16 KiB + 1', pieceLengths: [16 * KiB, 64 * KiB], make: async (d) => (await write(path.join(d, 'block1.bin'), 16 * KiB + 1, 3), path.join(d, 'block1.bin')) },
  { name: 'exactly one piece', pieceLengths: [64 * KiB], make: async (d) => (await write(path.join(d, 'piece.bin'), 64 * KiB, 4), path.join(d, 'piece.bin')) },
  { name: 'many pieces, short tail', pieceLengths: [16 * KiB, 32 * KiB, 256 * KiB], make: async (d) => (await write(path.join(d, 'manual.pdf'), 1000 * KiB + 123, 5), path.join(d, 'manual.pdf')) },
  {
    name: 'nested directories with empty files',
    pieceLengths: [16 * KiB, 64 * KiB],
    make: async (d) => {
      const root = path.join(d, 'kaypro')
      await write(path.join(root, 'manual', 'part1.pdf'), 70 * KiB + 5, 6)
      await write(path.join(root, 'manual', 'empty.txt'), 0, 0)
      await write(path.join(root, 'drivers', 'deep', 'er', 'cpm.img'), 33 * KiB, 7)
      await write(path.join(root, 'README'), 100, 8)
      await write(path.join(root, 'zero'), 0, 0)
      return root
    }
  },
  {
    name: 'non-ASCII names ordered by bytes',
    pieceLengths: [16 * KiB],
    make: async (d) => {
      const root = path.join(d, 'unicode')
      await write(path.join(root, '😀.txt'), 20 * KiB, 9)
      await write(path.join(root, 'Ａ.txt'), 10, 10)
      await write(path.join(root, 'é', 'b.txt'), 17 * KiB, 11)
      await write(path.join(root, 'Z.txt'), 1, 12)
      return root
    }
  }
]

for (const c of cases) {
  test(`libtorrent agrees: ${c.name}`, async (t) => {
    const dir = await tmpDir(t)
    const target = await c.make(path.join(dir, 'data'))
    const out = path.join(dir, 'out')
    await fs.mkdir(out)
    for (const pl of c.pieceLengths) {
      const oracle = await oracleMake(target, pl, out)
      const v2 = await createTorrent(target, { pieceLength: pl })
      const hy = await createTorrent(target, { pieceLength: pl, hybrid: true })
      t.is(v2.meta.infohash.toString('hex'), oracle.v2.infohash, `v2 infohash, piece length ${pl}`)
      t.is(hy.meta.infohash.toString('hex'), oracle.hybrid.infohash, `hybrid v2 infohash, piece length ${pl}`)
      t.is(hy.meta.infohashV1?.toString('hex'), oracle.hybrid.v1, `hybrid v1 infohash, piece length ${pl}`)
      // Byte for byte: the info dictionary and the piece layers of libtorrent's .torrent.
      const theirs = parseTorrent(oracle.v2.bytes)
      t.ok(theirs.info.equals(v2.meta.info), 'v2 info bytes are identical')
      t.alike(layersOf(parseTorrent(torrentBytes(v2.meta))), layersOf(theirs), 'piece layers are identical')
      t.ok(parseTorrent(oracle.hybrid.bytes).info.equals(hy.meta.info), 'hybrid info bytes are identical')
      // And libtorrent reads ours.
      for (const [kind, meta] of [['v2', v2.meta], ['hybrid', hy.meta]] as const) {
        const file = path.join(out, `ours.${kind}.torrent`)
        await fs.writeFile(file, torrentBytes(meta))
        const { stdout } = await exec('/usr/bin/python3', [ORACLE, 'check', file, path.dirname(target)])
        t.ok(stdout.includes('OK   data'), `libtorrent accepts our ${kind} torrent with the data (${pl})`)
      }
    }
  })
}

function layersOf(meta: { layers: Map<string, Buffer[]> }): Record<string, string> {
  return Object.fromEntries([...meta.layers].map(([k, v]) => [k, Buffer.concat(v).toString('hex')]))
}
