import test from 'brittle'
import crypto from 'node:crypto'
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import createTestnet from 'hyperdht/testnet.js'
import { inspectTorrent } from '../src/transfer/metainfo.js'
import { readMagnet } from '../src/transfer/magnet.js'
import { PieceMap } from '../src/transfer/pieces.js'
import { targetFromMagnet } from '../src/transfer/target.js'
import { onlineNode, shaFile, tmpDir, internals } from './helpers.js'

// v1-only torrents (BEP 3): pieces span files. libtorrent makes and seeds a folder whose files
// end mid-piece; Chrysalis fetches it by magnet and address, all of it or one file of it.

const LT = path.join(import.meta.dirname, 'oracle', 'lt-peer.py')
const run = promisify(execFile)

// Sizes chosen so pieces (16 KiB for a torrent this small) cross file boundaries, one file is
// smaller than a piece and sits inside one, and one is empty.
const FILES: Array<[string, number]> = [
  ['a-manual.pdf', 40_000],
  ['b-tiny.txt', 900],
  ['c-empty.txt', 0],
  ['scans/d-page.png', 70_123]
]

async function ltSeeder(t: { teardown(fn: () => unknown): void }, dir: string): Promise<{ magnet: string; port: number; torrent: Buffer; hashes: Map<string, string> }> {
  const root = path.join(dir, 'seed', 'kaypro-docs')
  const hashes = new Map<string, string>()
  for (const [name, size] of FILES) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true })
    const data = crypto.randomBytes(size)
    await fs.writeFile(path.join(root, name), data)
    hashes.set(name, crypto.createHash('sha256').update(data).digest('hex'))
  }
  const tfile = path.join(dir, 'docs.torrent')
  const { stdout } = await run('/usr/bin/python3', [LT, 'make', root, tfile, 'v1'])
  const made = JSON.parse(stdout) as { magnet: string }
  const port = 20_000 + crypto.randomInt(20_000)
  const child = spawn('/usr/bin/python3', [LT, 'seed', tfile, path.join(dir, 'seed'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => child.kill())
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (String(d).includes('READY')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the libtorrent seeder exited (${code})`)))
  })
  return { magnet: made.magnet, port, torrent: await fs.readFile(tfile), hashes }
}

test('v1 layout: pieces that cross files map to the right bytes of each', async (t) => {
  const dir = await tmpDir(t)
  const s = await ltSeeder(t, dir)
  const { meta } = inspectTorrent(s.torrent)
  t.is(meta.version, 'v1')
  const map = new PieceMap(meta)
  t.alike(meta.files.map((f) => f.length).sort((x, y) => x - y), [0, 900, 40_000, 70_123], 'every file, the empty one included')
  // Walk every piece's spans: each file must be covered from 0 to its end, in order, once; each
  // piece's spans must be back to back from its start.
  const next = meta.files.map(() => 0)
  let crossing = 0
  for (let i = 0; i < meta.pieceCount; i++) {
    const spans = map.spans(i)
    if (spans.length > 1) crossing++
    let at = 0
    for (const sp of spans) {
      if (sp.at !== at || sp.offset !== next[sp.file]) t.fail(`piece ${i}: a gap or overlap at ${sp.at}`)
      at += sp.length
      next[sp.file]! += sp.length
    }
    if (at !== map.size(i)) t.fail(`piece ${i}: spans cover ${at} bytes, not ${map.size(i)}`)
  }
  t.alike(next, meta.files.map((f) => f.length), 'the pieces cover every byte of every file once, in order')
  t.ok(crossing >= 2, `${crossing} pieces cross a file boundary`)
})

test('Chrysalis fetches a v1 folder torrent from libtorrent by magnet and address, then one file of it', async (t) => {
  const dir = await tmpDir(t)
  const s = await ltSeeder(t, dir)
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const node = await onlineNode(t, testnet, 'F')
  const target = { ...targetFromMagnet(readMagnet(s.magnet)), peers: [{ host: '127.0.0.1', port: s.port }] }
  const out = path.join(dir, 'out')
  const view = await internals(node).transfers.fetch(target, { out })
  t.is(view.status, 'seeding')
  for (const [name] of FILES) t.is(await shaFile(path.join(out, 'kaypro-docs', name)), s.hashes.get(name), `${name} complete and correct`)
  t.alike((await fs.readdir(out)).sort(), ['kaypro-docs'], 'no partial data left')
  // Seeding what it fetched: the pieces are served back by the same spans.
  t.ok(internals(node).transfers.peerStats(Buffer.from(view.infohash, 'hex')).some((p) => p.kind === 'bittorrent'), 'the libtorrent seeder is listed as a classic client')

  const other = await onlineNode(t, testnet, 'G')
  const out2 = path.join(dir, 'out2')
  await internals(other).transfers.fetch(target, { out: out2, files: ['scans/d-page.png'] })
  t.is(await shaFile(path.join(out2, 'kaypro-docs', 'scans', 'd-page.png')), s.hashes.get('scans/d-page.png'), 'the one file selected is complete')
  t.absent(await fs.stat(path.join(out2, 'kaypro-docs', 'a-manual.pdf')).catch(() => null), 'a file left out is not written, though a piece it shares was fetched')
})
