// A metadata bomb (issue 11, item 5): a valid .torrent whose info is intact, plus about 12 MiB of
// empty dictionaries under a key after `info`. Run alone, it parses one in a fresh process and
// prints the outcome and the process's peak RSS (a clean measure of what the parse allocated).
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { buildMetainfo, parseTorrent, torrentBytes, type Metainfo } from '../src/transfer/metainfo.js'
import { sha256 } from '../src/transfer/merkle.js'

/** `good` with `junk` bytes of `[de de … de]` lists added under the key "zz" (after info). */
export function metadataBomb(good: Buffer, junk = 12 * 1024 * 1024 - 64 * 1024 - good.length): Buffer {
  // Lists of 150,000 empty dictionaries: under any per-list item limit, so only a budget on the
  // total number of values stops them.
  const list = Buffer.concat([Buffer.from('l'), Buffer.alloc(2 * 150_000, 'de'), Buffer.from('e')])
  const parts = [Buffer.from('2:zzl')]
  for (let size = 0; size + list.length <= junk; size += list.length) parts.push(list)
  parts.push(Buffer.from('e'))
  return Buffer.concat([good.subarray(0, -1), ...parts, Buffer.from('e')])
}

export function smallTorrent(): Metainfo {
  const data = crypto.randomBytes(100)
  return buildMetainfo({ name: 'a.bin', multi: false, pieceLength: 16384, files: [{ path: ['a.bin'], length: 100, piecesRoot: sha256(data), layer: [] }] })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const meta = smallTorrent()
  const bomb = metadataBomb(torrentBytes(meta))
  let outcome: { accepted: boolean; code?: string; message?: string }
  try {
    parseTorrent(bomb, { infohash: meta.infohash })
    outcome = { accepted: true }
  } catch (err) {
    outcome = { accepted: false, code: (err as { code?: string }).code, message: (err as Error).message }
  }
  process.stdout.write(JSON.stringify({ ...outcome, bytes: bomb.length, maxRssBytes: process.resourceUsage().maxRSS * 1024 }) + '\n')
}
