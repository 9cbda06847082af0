// Web seeds (BEP 19) end to end: a local HTTP server with range requests holds the files of a
// torrent libtorrent made with a `url-list`; `chrysalis fetch` downloads from it alone (the .torrent,
// no peer, no DHT), and from it together with a libtorrent seeder (a magnet with `ws=` and
// `--peer`). Whole processes on 127.0.0.1.
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { fetch, FOLDER, hashTree, hyperswarm, makeFiles, newHome, type Fetched } from './helpers-interop.js'
import { haveLibtorrent, ltMake, ltSeed } from './helpers-oracle.js'
import { webSeedServer } from './helpers-tracker.js'

const skip = !haveLibtorrent // python3-libtorrent missing: apt-get install -y python3-libtorrent
const NAME = 'Kaypro II'

/** The folder, its hashes, and an HTTP server serving it at BASE/NAME/… (BEP 19's layout). */
async function setup(t: Parameters<typeof tmpDir>[0], dir: string): Promise<{ root: string; hashes: Record<string, string>; base: string; requests: Array<{ path: string; range: string | undefined }> }> {
  const root = path.join(dir, 'src', NAME)
  const hashes = await makeFiles(root, FOLDER)
  const served = new Map<string, Buffer>()
  for (const rel of Object.keys(FOLDER)) served.set(`/ws/${NAME}/${rel}`, await fs.readFile(path.join(root, rel)))
  const server = await webSeedServer(t, served)
  return { root, hashes, base: `${server.base}/ws/`, requests: server.requests }
}

function sourcesOk(t: { ok(v: unknown, m?: string): void; comment(m: string): void }, f: Fetched | undefined, want: { webSeeds: boolean; peers?: boolean }): void {
  if (!f?.sources) {
    t.comment('fetch --json reports no sources (bytes per kind of source)')
    return
  }
  t.comment(`sources: ${JSON.stringify(f.sources)}`)
  if (want.webSeeds) t.ok(f.sources.webSeeds > 0, 'bytes came from the web seed')
  if (want.peers) {
    t.ok(f.sources.peers > 0, 'bytes came from the libtorrent peer')
    t.ok(f.sources.peers + f.sources.webSeeds >= f.bytes, 'every byte came from a peer or the web seed')
  }
}

for (const kind of ['v1', 'hybrid'] as const) {
  test(`interop: a ${kind} torrent from a web seed alone (HTTP ranges)`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const net = await hyperswarm(t)
    const { root, hashes, base, requests } = await setup(t, dir)
    const torrent = path.join(dir, 'ws.torrent')
    await ltMake(root, torrent, kind, { pieceLength: 32768, webSeeds: [base] })
    const home = await newHome(dir, 'fetcher', net)
    const r = await fetch(home, torrent, path.join(dir, 'out'))
    t.is(r.code, 0, `exit 0 ${r.stderr}`)
    t.alike(await hashTree(path.join(dir, 'out', NAME)), hashes, 'the exact bytes, from HTTP alone')
    t.ok(requests.some((q) => q.range !== undefined), 'with range requests')
    t.absent(requests.some((q) => q.path.includes('.pad')), 'no pad file requested')
    sourcesOk(t, r.fetched[0], { webSeeds: true })
  })
}

test('interop: a magnet with ws= and a libtorrent seeder: web seed and peer together', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const net = await hyperswarm(t)
  const { root, hashes, base } = await setup(t, dir)
  const torrent = path.join(dir, 'ws.torrent')
  const made = await ltMake(root, torrent, 'hybrid', { pieceLength: 16384, webSeeds: [base] })
  // The peer slowed down (256 KiB/s), so that both kinds of source have a share to give.
  const seeder = await ltSeed(t, torrent, path.dirname(root), { uploadLimit: 256 * 1024 })
  const magnet = made.magnet.includes('ws=') ? made.magnet : `${made.magnet}&ws=${encodeURIComponent(base)}`
  const home = await newHome(dir, 'fetcher', net)
  const r = await fetch(home, magnet, path.join(dir, 'out'), { peers: [seeder.address] })
  t.is(r.code, 0, `exit 0 ${r.stderr}`)
  t.alike(await hashTree(path.join(dir, 'out', NAME)), hashes, 'the exact bytes')
  sourcesOk(t, r.fetched[0], { webSeeds: true, peers: true })
})
