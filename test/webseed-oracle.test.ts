// Web seeds against libtorrent 2.0.8 (test/oracle/lt-webseed.py): libtorrent makes the torrent
// (its file order, pad files and SHA-1 piece hashes), our WebSeed reads every piece from a local
// server and each must hash to libtorrent's; then libtorrent downloads from the same server, whose
// files sit at the URLs our fileUrl() computes, so both agree on BEP 19's URL mapping.
import test from 'brittle'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { WebSeed, fileUrl, pieceSpan, type WebSeedLayout } from '../src/transfer/discovery/webseed.js'
import { webSeedServer } from './helpers-tracker.js'

const exec = promisify(execFile)
const SCRIPT = path.resolve(import.meta.dirname, 'oracle', 'lt-webseed.py')

interface LtTorrent {
  name: string
  pieceLength: number
  files: Array<{ path: string; size: number; offset: number; pad: boolean }>
  pieces: string[]
}

const haveLibtorrent = await exec('/usr/bin/python3', ['-c', 'import libtorrent']).then(() => true, () => false)

function layoutOf(lt: LtTorrent): WebSeedLayout {
  const multi = lt.files.length > 1 || lt.files[0]!.path.includes('/')
  return {
    name: lt.name,
    multi,
    pieceLength: lt.pieceLength,
    files: lt.files.map((f) => ({ path: multi ? f.path.split('/').slice(1) : [], length: f.size, offset: f.offset, pad: f.pad }))
  }
}

const cases: Array<{ label: string; kind: 'v1' | 'hybrid'; files: Record<string, number>; single?: boolean }> = [
  { label: 'hybrid folder (pad files)', kind: 'hybrid', files: { 'docs/a b#1.txt': 20000, 'docs/é (2).bin': 7, 'z.img': 40000 } },
  { label: 'v1 folder (pieces spanning files)', kind: 'v1', files: { 'a.txt': 20000, 'b/c%20d.bin': 7, 'b/e.bin': 30000 } },
  { label: 'single file, URL ending in /', kind: 'hybrid', files: { '': 50000 }, single: true }
]

for (const c of cases) {
  test(`webseed oracle: ${c.label}`, { skip: !haveLibtorrent }, async (t) => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-ws-'))
    t.teardown(() => fs.rm(tmp, { recursive: true, force: true }))
    const name = c.single ? 'Kaypro manual.pdf' : 'Kaypro II'
    const root = path.join(tmp, 'src', name)
    for (const [rel, size] of Object.entries(c.files)) {
      const p = c.single ? root : path.join(root, rel)
      await fs.mkdir(path.dirname(p), { recursive: true })
      await fs.writeFile(p, Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + rel.length) & 0xff)))
    }
    const served = new Map<string, Buffer>()
    const server = await webSeedServer(t, served)
    const base = `${server.base}/ws/`
    const torrent = path.join(tmp, 't.torrent')
    const { stdout } = await exec('/usr/bin/python3', [SCRIPT, 'make', root, torrent, base, c.kind])
    const lt = JSON.parse(stdout) as LtTorrent
    const layout = layoutOf(lt)
    for (const f of layout.files) {
      if (f.pad) continue
      const onDisk = c.single ? root : path.join(root, ...f.path)
      served.set(fileUrl(base, layout, f).pathname.split('/').map(decodeURIComponent).join('/'), await fs.readFile(onDisk))
    }
    t.is(served.size, Object.keys(c.files).length, 'every file served at our BEP 19 URL')

    const seed = new WebSeed(base, layout)
    t.teardown(() => seed.close())
    let good = 0
    for (let i = 0; i < lt.pieces.length; i++) {
      const bytes = await seed.readPiece(i)
      t.is(bytes.length, pieceSpan(layout, i).length)
      if (createHash('sha1').update(bytes).digest('hex') === lt.pieces[i]) good++
    }
    t.is(good, lt.pieces.length, `all ${lt.pieces.length} pieces hash to libtorrent's SHA-1`)
    const before = server.requests.length
    t.absent(server.requests.some((r) => r.path.includes('.pad')), 'no pad file requested')

    const save = path.join(tmp, 'dl')
    await fs.mkdir(save)
    const out = await exec('/usr/bin/python3', [SCRIPT, 'fetch', torrent, save, '--timeout', '60']).then((r) => r.stdout, (err: { stdout?: string }) => err.stdout ?? '')
    t.ok(out.includes('RESULT {"ok": true}'), `libtorrent downloaded from the same URLs (${server.requests.length - before} requests)`)
    for (const rel of Object.keys(c.files)) {
      const a = await fs.readFile(c.single ? root : path.join(root, rel))
      const b = await fs.readFile(c.single ? path.join(save, name) : path.join(save, name, rel)).catch(() => Buffer.alloc(0))
      t.alike(b, a, `${rel || name}: libtorrent's copy is right`)
    }
  })
}
