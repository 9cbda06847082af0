import test from 'brittle'
import { execFile, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { shaFile, tmpDir, waitFor } from './helpers.js'
import { BIN, BUNDLE, daemon, freeUdpPort, json, oneLineError, run } from './helpers-cli.js'
import { ORACLE } from './helpers-oracle.js'

// Files between whole CLI processes on a loopback bootstrap.

const exec = promisify(execFile)
type Fetched = { fetched: Array<{ path: string; infohash: string; bytes: number; downloaded: number }> }

async function randomFile(file: string, size: number): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const fh = await fs.open(file, 'w')
  const hash = crypto.createHash('sha256')
  for (let at = 0; at < size; at += 4 * 1024 * 1024) {
    const chunk = crypto.randomBytes(Math.min(4 * 1024 * 1024, size - at))
    hash.update(chunk)
    await fh.write(chunk)
  }
  await fh.close()
  return hash.digest('hex')
}


async function network(t: Parameters<typeof tmpDir>[0]): Promise<string[]> {
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  return ['--bootstrap', (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()]
}

test('cli: A posts a 20 MiB file; B fetches it through the post; A goes offline; C fetches it from B; libtorrent accepts the data', async (t) => {
  const dir = await tmpDir(t)
  const net = await network(t)
  const home = (n: string): string[] => ['--home', path.join(dir, n)]
  const file = path.join(dir, 'scans', 'Kaypro II User Guide (1982).pdf')
  const hash = await randomFile(file, 20 * 1024 * 1024)

  const a = await json<{ id: string }>(t, [...home('a'), 'init', '--name', 'Ada'])
  const post = await json<{ ref: string; attachments: Array<{ name: string; size: number; infohash: string }> }>(t, [...home('a'), 'post', 'The Kaypro II user guide, scanned #vintage-manuals', '--attach', file])
  t.is(post.attachments[0]?.name, 'Kaypro II User Guide (1982).pdf')
  t.is(post.attachments[0]?.size, 20 * 1024 * 1024)
  const infohash = post.attachments[0]!.infohash
  const serveA = daemon(t, [...home('a'), ...net, 'serve'])
  await serveA.waitFor(/serving Ada/)
  const seedingA = await json<{ seeding: Array<{ infohash: string; status: string; path: string }> }>(t, [...home('a'), 'seeding'])
  t.is(seedingA.seeding[0]?.infohash, infohash)
  t.is(seedingA.seeding[0]?.path, file, 'seeded from where it is, not copied')

  await json(t, [...home('b'), 'init', '--name', 'Bob'])
  await json(t, [...home('b'), 'follow', a.id])
  const got = await json<Fetched>(t, [...home('b'), ...net, 'fetch', post.ref, '--out', path.join(dir, 'b-files'), '--timeout', '60'])
  t.is(got.fetched[0]?.infohash, infohash)
  t.is(got.fetched[0]?.path, path.join(dir, 'b-files', 'Kaypro II User Guide (1982).pdf'))
  t.is(await shaFile(got.fetched[0]!.path), hash, 'B has the exact bytes')

  // B serves: its node resumes seeding what it fetched. A goes offline.
  const serveB = daemon(t, [...home('b'), ...net, 'serve'])
  await serveB.waitFor(/serving Bob/)
  t.is(await serveA.stop(), 0)

  // C runs the bundled executable (what `npm install -g` puts on the PATH): its pieces are checked
  // in the hash worker, which the bundle carries as a file of its own.
  await json(t, [...home('c'), 'init', '--name', 'Cy'])
  const c = await run(['--json', ...home('c'), ...net, 'fetch', post.ref, '--out', path.join(dir, 'c-files'), '--timeout', '60'], { bin: BUNDLE })
  t.is(c.code, 0, `the bundled fetch: exit 0 ${c.stderr}`)
  t.absent(c.stderr.includes('CHRYSALIS_HASH_WORKER'), 'with its hash worker')
  const fromB = JSON.parse(c.stdout) as Fetched
  t.is(await shaFile(fromB.fetched[0]!.path), hash, 'C has the exact bytes, from B alone')

  // The metadata C got is a standard torrent: libtorrent checks C's data against it.
  const torrent = path.join(dir, 'kaypro.torrent')
  await json(t, [...home('c'), 'torrent', 'export', infohash, '--out', torrent])
  const check = await exec('/usr/bin/python3', [ORACLE, 'check', torrent, path.join(dir, 'c-files')])
  t.ok(check.stdout.includes('OK   data'), check.stdout.trim())
  const downloads = await json<{ downloads: Array<{ status: string; have: number; size: number }> }>(t, [...home('c'), 'downloads'])
  t.is(downloads.downloads[0]?.status, 'seeding')
  t.is(downloads.downloads[0]?.have, 20 * 1024 * 1024)
})

test('cli: a fetch killed with SIGKILL resumes without re-fetching verified pieces, and no unverified byte reaches the final file', async (t) => {
  const dir = await tmpDir(t)
  const net = await network(t)
  const home = (n: string): string[] => ['--home', path.join(dir, n)]
  const size = 192 * 1024 * 1024
  const file = path.join(dir, 'railroad-layout.mp4')
  const hash = await randomFile(file, size)
  await json(t, [...home('a'), 'init', '--name', 'Ada'])
  const shared = await json<{ infohash: string; pieceLength: number; magnet: string }>(t, [...home('a'), 'share', file])
  const serveA = daemon(t, [...home('a'), ...net, 'serve'])
  await serveA.waitFor(/serving Ada/)

  await json(t, [...home('b'), 'init', '--name', 'Bob'])
  const out = path.join(dir, 'out')
  const final = path.join(out, 'railroad-layout.mp4')
  const log = path.join(dir, 'b', 'torrents', shared.infohash, 'pieces.log')
  const child = spawn(process.execPath, [BIN, ...home('b'), ...net, 'fetch', shared.magnet, '--out', out], { stdio: 'ignore' })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await waitFor(async () => ((await fs.stat(log).catch(() => null))?.size ?? 0) >= 4 * 8, 60_000, 'some verified pieces')
  child.kill('SIGKILL')
  await exited
  const logged = new Set<number>()
  const bytes = await fs.readFile(log)
  for (let at = 0; at + 4 <= bytes.length; at += 4) logged.add(bytes.readUInt32LE(at))
  t.ok(logged.size < size / shared.pieceLength, `killed mid-download (${logged.size} pieces verified)`)
  t.absent(await fs.stat(final).catch(() => null), 'the final file does not exist before every piece is verified')
  const part = path.join(out, '.chrysalis-parts', shared.infohash, '0')
  t.ok((await fs.lstat(part)).isFile(), 'the partial download is kept in the private parts folder')

  const resumed = await json<Fetched>(t, [...home('b'), ...net, 'fetch', shared.magnet, '--out', out, '--timeout', '120'])
  t.is(await shaFile(final), hash, 'the resumed file is exact')
  const notRefetched = size - logged.size * shared.pieceLength
  t.ok(resumed.fetched[0]!.downloaded <= notRefetched, `resume fetched ${resumed.fetched[0]!.downloaded} bytes, at most the ${notRefetched} not verified before`)
  t.absent(await fs.lstat(path.join(out, '.chrysalis-parts')).catch(() => null), 'no partial data is left')
})

test('cli: share and fetch refuse bad input with one clear line', async (t) => {
  const dir = await tmpDir(t)
  await json(t, ['--home', path.join(dir, 'a'), 'init', '--name', 'Ada'])
  const h = ['--home', path.join(dir, 'a')]
  oneLineError(t, await run([...h, 'share', path.join(dir, 'nope.pdf')]), 1, /no such file or directory/)
  await fs.writeFile(path.join(dir, 'empty.txt'), '')
  oneLineError(t, await run([...h, 'share', path.join(dir, 'empty.txt')]), 1, /nothing to share/)
  // Refused before going online (the bootstrap is a loopback port where nothing listens).
  const nowhere = ['--bootstrap', '127.0.0.1:9']
  oneLineError(t, await run([...h, ...nowhere, 'fetch', 'magnet:?dn=nothing']), 2, /names no BitTorrent infohash/)
  oneLineError(t, await run([...h, ...nowhere, 'fetch', 'magnet:?xt=urn:btmh:1220abcd']), 2, /not a SHA-256 multihash/)
  oneLineError(t, await run([...h, ...nowhere, 'fetch', 'ab'.repeat(25)]), 2, /an infohash has 40 \(v1\) or 64 \(v2\)/)
  oneLineError(t, await run([...h, ...nowhere, 'fetch', 'not-a-thing']), 2, /not a post ref, a magnet link, a \.torrent file or an infohash/)
  oneLineError(t, await run([...h, ...nowhere, 'fetch', path.join(dir, 'missing.torrent')]), 1, /missing\.torrent: no such file/)
  await fs.writeFile(path.join(dir, 'junk.torrent'), 'd4:infoi1ee')
  oneLineError(t, await run([...h, ...nowhere, 'fetch', path.join(dir, 'junk.torrent')]), 1, /junk\.torrent: /)
  oneLineError(t, await run([...h, ...nowhere, 'fetch', 'ab'.repeat(32), '--peer', 'nowhere']), 2, /--peer takes HOST:PORT/)
  oneLineError(t, await run([...h, ...nowhere, 'fetch', 'ab'.repeat(32), '--peer', '127.0.0.1:70000']), 2, /--peer takes HOST:PORT/)
  oneLineError(t, await run([...h, 'torrent', 'export', 'abc', '--out', path.join(dir, 'x.torrent')]), 2, /infohash/)
  oneLineError(t, await run([...h, 'torrent', 'export', 'ab'.repeat(32), '--out', path.join(dir, 'x.torrent')]), 1, /no metadata/)
  oneLineError(t, await run([...h, 'post', 'with a missing file', '--attach', path.join(dir, 'missing.pdf')]), 1, /no such file/)
  const feed = await json<{ posts: unknown[] }>(t, [...h, 'feed'])
  t.alike(feed.posts, [], 'nothing was posted')
})
