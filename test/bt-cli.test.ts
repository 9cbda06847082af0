// The CLI's BitTorrent side as a user meets it, whole processes on a loopback bootstrap: the
// flags, the environment and HOME/config.json (and when the mainline DHT is off), hybrid
// torrents by default, magnets, every kind of fetch argument, fetch --json and its progress.
import test from 'brittle'
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { inspectTorrent } from '../src/transfer/metainfo.js'
import { readMagnet } from '../src/transfer/magnet.js'
import { dataFile, shaFile, tmpDir } from './helpers.js'
import { daemon, freeUdpPort, json, oneLineError, run } from './helpers-cli.js'
import { ORACLE } from './helpers-oracle.js'

const exec = promisify(execFile)

interface Status {
  online: boolean
  bt: { port: number | null; encryptedOnly: boolean; dht: { enabled: boolean; nodes: number } }
  configured?: { btPort: number | null; dhtBootstrap: 'public' | string[] | null; trackers: string[] }
}
interface Shared {
  infohash: string
  infohashV1: string | null
  magnet: string
}
interface Fetched {
  fetched: Array<{ path: string; infohash: string; bytes: number; seconds: number; sources: { peers: number; webSeeds: number } }>
}

async function network(t: Parameters<typeof tmpDir>[0]): Promise<string[]> {
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  return ['--bootstrap', (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()]
}

test('cli: --bt-port, --bt-bootstrap, --no-bt-dht, --encrypted-only, CHRYSALIS_BT_*, HOME/config.json; the DHT is off on a private --bootstrap', async (t) => {
  const dir = await tmpDir(t)
  const home = path.join(dir, 'a')
  const h = ['--home', home]
  await json(t, [...h, 'init', '--name', 'Ada'])
  // `status` never goes online: it shows what going online would use. No DHT is started here.
  const pub = await json<Status>(t, [...h, 'status'])
  t.is(pub.online, false)
  t.is(pub.configured?.dhtBootstrap, 'public', 'neither bootstrap given: the public routers (as the app would use them)')
  t.is(pub.configured?.btPort, 6881, 'the default port')
  const priv = await json<Status>(t, [...h, '--bootstrap', '127.0.0.1:9', 'status'])
  t.is(priv.bt.dht.enabled, false, '--bootstrap alone: the mainline DHT is off')
  t.is(priv.configured?.dhtBootstrap, null)
  const privEnv = await json<Status>(t, [...h, 'status'], { env: { CHRYSALIS_BOOTSTRAP: '127.0.0.1:9' } })
  t.is(privEnv.configured?.dhtBootstrap, null, 'CHRYSALIS_BOOTSTRAP alone: off too')
  const lan = await json<Status>(t, [...h, '--bootstrap', '127.0.0.1:9', 'status', '--bt-bootstrap', '127.0.0.1:7000,127.0.0.1:7001'])
  t.alike(lan.configured?.dhtBootstrap, ['127.0.0.1:7000', '127.0.0.1:7001'], '--bt-bootstrap (after the command too): those nodes')
  const lanEnv = await json<Status>(t, [...h, '--bootstrap', '127.0.0.1:9', 'status'], { env: { CHRYSALIS_BT_BOOTSTRAP: '127.0.0.1:7002' } })
  t.alike(lanEnv.configured?.dhtBootstrap, ['127.0.0.1:7002'], 'CHRYSALIS_BT_BOOTSTRAP')
  t.is((await json<Status>(t, [...h, '--no-bt-dht', 'status'])).configured?.dhtBootstrap, null, '--no-bt-dht')
  const enc = await json<Status>(t, [...h, '--encrypted-only', 'status'])
  t.ok(enc.bt.encryptedOnly && enc.configured?.dhtBootstrap === null && enc.configured.btPort === null, '--encrypted-only: no TCP port, no DHT')

  await fs.writeFile(path.join(home, 'config.json'), JSON.stringify({ btPort: 7002, btBootstrap: ['127.0.0.1:7010'], trackers: ['udp://127.0.0.1:6969/announce'] }))
  const cfg = await json<Status>(t, [...h, '--bootstrap', '127.0.0.1:9', 'status'])
  t.is(cfg.configured?.btPort, 7002, 'config btPort')
  t.alike(cfg.configured?.dhtBootstrap, ['127.0.0.1:7010'], 'config btBootstrap')
  t.alike(cfg.configured?.trackers, ['udp://127.0.0.1:6969/announce'], 'config trackers')
  t.is((await json<Status>(t, [...h, 'status'], { env: { CHRYSALIS_BT_PORT: '7003' } })).configured?.btPort, 7003, 'the environment wins over the config')
  t.is((await json<Status>(t, [...h, '--bt-port', '7004', 'status'], { env: { CHRYSALIS_BT_PORT: '7003' } })).configured?.btPort, 7004, 'the flag wins over both')
  const human = await run([...h, 'status'])
  t.ok(/BitTorrent when online: TCP port 7002 · mainline DHT on \(127\.0\.0\.1:7010\) · TCP traffic is not encrypted/.test(human.stdout), human.stdout.trim())

  await fs.writeFile(path.join(home, 'config.json'), '{"btPort": "fast"}')
  oneLineError(t, await run([...h, 'status']), 1, /config\.json: "btPort" must be a port number/)
  oneLineError(t, await run([...h, 'share', path.join(dir, 'x')]), 1, /config\.json: "btPort"/)
  await fs.writeFile(path.join(home, 'config.json'), '{"trackers": ["ftp://example/"]}')
  oneLineError(t, await run([...h, 'status']), 1, /config\.json: "trackers"/)
  await fs.writeFile(path.join(home, 'config.json'), '{"btPort": 1')
  oneLineError(t, await run([...h, 'status']), 1, /config\.json is not valid JSON/)
  await fs.rm(path.join(home, 'config.json'))

  oneLineError(t, await run([...h, '--bt-port', '65536', 'whoami']), 2, /--bt-port takes a TCP port number/)
  oneLineError(t, await run([...h, 'status'], { env: { CHRYSALIS_BT_PORT: 'x' } }), 2, /CHRYSALIS_BT_PORT takes a TCP port number/)
  oneLineError(t, await run([...h, '--bt-bootstrap', 'nowhere', 'whoami']), 2, /--bt-bootstrap: "nowhere" is not a DHT node address/)
  oneLineError(t, await run([...h, '--no-bt-dht', '--bt-bootstrap', '127.0.0.1:1', 'whoami']), 2, /drop --bt-bootstrap or --no-bt-dht/)
  const help = await run(['--help'])
  for (const flag of ['--bt-port', '--encrypted-only', '--bt-bootstrap', '--no-bt-dht', 'plaintext']) t.ok(help.stdout.includes(flag), `help: ${flag}`)
})

test('cli: share and post --attach make hybrid torrents (libtorrent agrees), --v2-only v2 ones; magnets with btih, btmh, dn and tr', async (t) => {
  const dir = await tmpDir(t)
  const home = path.join(dir, 'a')
  const h = ['--home', home]
  await json(t, [...h, 'init', '--name', 'Ada'])
  await fs.writeFile(path.join(home, 'config.json'), JSON.stringify({ trackers: ['udp://127.0.0.1:6969/announce', 'http://127.0.0.1:8000/announce'] }))
  const scans = path.join(dir, 'scans')
  await fs.mkdir(scans)
  const { file } = await dataFile(scans, 'kaypro-ii.pdf', 1_000_000)
  await dataFile(scans, 'kaypro-ii-errata.txt', 5_000)

  const shared = await json<Shared & { path: string }>(t, [...h, 'share', file])
  t.ok(shared.infohashV1 && /^[0-9a-f]{40}$/.test(shared.infohashV1), 'hybrid by default: a v1 infohash too')
  const m = readMagnet(shared.magnet)
  t.is(m.infohashV1?.toString('hex'), shared.infohashV1, 'magnet: xt=urn:btih')
  t.is(m.infohashV2?.toString('hex'), shared.infohash, 'magnet: xt=urn:btmh')
  t.is(m.name, 'kaypro-ii.pdf', 'magnet: dn')
  t.alike(m.trackers, ['udp://127.0.0.1:6969/announce', 'http://127.0.0.1:8000/announce'], 'magnet: tr for the configured trackers')
  const torrent = path.join(dir, 'kaypro.torrent')
  await json(t, [...h, 'torrent', 'export', shared.infohash, '--out', torrent])
  t.is(inspectTorrent(await fs.readFile(torrent)).meta.version, 'hybrid')
  // libtorrent reads it as a hybrid with the same two hashes, and accepts the data on disk.
  const check = await exec('/usr/bin/python3', [ORACLE, 'check', torrent, scans])
  t.ok(check.stdout.includes(`v2=${shared.infohash} v1=${shared.infohashV1}`) && check.stdout.includes('OK   data'), check.stdout.trim())
  // Pause and resume take the v1 hash as well.
  t.is((await json<{ status: string }>(t, [...h, 'pause', shared.infohashV1!])).status, 'paused')
  t.not((await json<{ status: string }>(t, [...h, 'resume', shared.infohashV1!])).status, 'paused', 'resumed by its v1 hash')

  const folder = await json<Shared>(t, [...h, 'share', scans])
  t.ok(folder.infohashV1, 'a folder: hybrid too')
  const folderTorrent = path.join(dir, 'scans.torrent')
  await json(t, [...h, 'torrent', 'export', folder.infohashV1!, '--out', folderTorrent])
  const folderCheck = await exec('/usr/bin/python3', [ORACLE, 'check', folderTorrent, dir])
  t.ok(folderCheck.stdout.includes(`v1=${folder.infohashV1}`) && folderCheck.stdout.includes('OK   data'), folderCheck.stdout.trim())

  const v2 = await json<Shared>(t, [...h, 'share', file, '--v2-only'])
  t.is(v2.infohashV1, null, '--v2-only: no v1 infohash')
  t.absent(v2.magnet.includes('btih'), '--v2-only: no btih in the magnet')
  t.not(v2.infohash, shared.infohash)
  oneLineError(t, await run([...h, 'share', file, '--v2-only', '--hybrid']), 2, /contradict/)

  const post = await json<{ ref: string; attachments: Array<{ name: string; infohash: string; magnet: string }> }>(t, [...h, 'post', 'Kaypro II scans #vintage-manuals', '--attach', file, '--attach', scans])
  t.is(post.attachments.length, 2)
  t.is(post.attachments[0]!.infohash, shared.infohash, 'the same hybrid as share')
  for (const a of post.attachments) {
    const pm = readMagnet(a.magnet)
    t.ok(pm.infohashV1 && pm.infohashV2?.toString('hex') === a.infohash && pm.name === a.name && pm.trackers.length === 2, `--json: ${a.name}'s magnet`)
  }
  const text = await run([...h, 'post', 'v2 only this time', '--attach', path.join(scans, 'kaypro-ii-errata.txt'), '--v2-only'])
  t.is(text.code, 0, text.stderr)
  const line = /kaypro-ii-errata\.txt: (magnet:\?\S+)/.exec(text.stdout)
  t.ok(line, `the text output prints the magnet: ${text.stdout.trim()}`)
  t.absent(line && readMagnet(line[1]!).infohashV1, '--v2-only: a v2 magnet')
  oneLineError(t, await run([...h, 'post', 'no files', '--v2-only']), 2, /--v2-only goes with --attach/)
})

test('cli: fetch by .torrent file, hybrid magnet with --peer, 64-hex and 40-hex; --json path, bytes, seconds, sources; progress lines without a terminal; status through serve', async (t) => {
  const dir = await tmpDir(t)
  const net = await network(t)
  const home = (n: string): string[] => ['--home', path.join(dir, n)]
  const { file, hash } = await dataFile(dir, 'railroad-layout.mp4', 3 * 1024 * 1024 + 777)
  await json(t, [...home('a'), 'init', '--name', 'Ada'])
  const shared = await json<Shared>(t, [...home('a'), 'share', file])
  const torrent = path.join(dir, 'layout.torrent')
  await json(t, [...home('a'), 'torrent', 'export', shared.infohash, '--out', torrent])
  const serveA = daemon(t, [...home('a'), ...net, 'serve'])
  await serveA.waitFor(/serving Ada/)
  const status = await json<Status>(t, [...home('a'), 'status'])
  t.is(status.online, true, 'status through serve: the running node')
  t.is(status.bt.dht.enabled, false, 'serve on a private --bootstrap: the mainline DHT is off')
  t.is(status.bt.encryptedOnly, false)

  const check = async (got: Fetched, out: string, what: string): Promise<void> => {
    const f = got.fetched[0]!
    t.is(f.infohash, shared.infohash, `${what}: the torrent`)
    t.is(f.path, path.join(out, 'railroad-layout.mp4'), `${what}: path`)
    t.is(f.bytes, 3 * 1024 * 1024 + 777, `${what}: bytes`)
    t.ok(typeof f.seconds === 'number' && f.seconds >= 0 && f.seconds < 60, `${what}: seconds ${f.seconds}`)
    t.ok(f.sources.peers > 0 && f.sources.webSeeds === 0, `${what}: sources ${JSON.stringify(f.sources)}`)
    t.is(await shaFile(f.path), hash, `${what}: the exact bytes`)
  }
  await json(t, [...home('b'), 'init', '--name', 'Bob'])
  const outB = path.join(dir, 'b-files')
  await check(await json<Fetched>(t, [...home('b'), ...net, 'fetch', torrent, '--out', outB, '--timeout', '60']), outB, '.torrent')

  await json(t, [...home('c'), 'init', '--name', 'Cy'])
  const outC = path.join(dir, 'c-files')
  // --peer: an address to try beside the swarm (nothing listens there; the swarm has the seeder).
  await check(await json<Fetched>(t, [...home('c'), ...net, 'fetch', shared.magnet, '--peer', '127.0.0.1:9', '--out', outC, '--timeout', '60', '--encrypted-only']), outC, 'hybrid magnet')

  await json(t, [...home('d'), 'init', '--name', 'Di'])
  const outD = path.join(dir, 'd-files')
  await check(await json<Fetched>(t, [...home('d'), ...net, 'fetch', shared.infohash, '--out', outD, '--timeout', '60']), outD, '64-hex')
  // D has it now: its v1 hash names the same torrent (nothing fetched again).
  const again = await json<Fetched>(t, [...home('d'), ...net, 'fetch', shared.infohashV1!, '--out', outD, '--timeout', '60'])
  t.is(again.fetched[0]?.infohash, shared.infohash, '40-hex of a hybrid D has: that torrent')

  // Nobody has this one: without a terminal, a progress line every 3 s says what it waits for.
  await json(t, [...home('e'), 'init', '--name', 'Ed'])
  const lost = await run([...home('e'), ...net, 'fetch', 'cd'.repeat(32), '--out', path.join(dir, 'e-files'), '--timeout', '4'])
  t.is(lost.code, 1)
  const lines = lost.stderr.trimEnd().split('\n')
  t.ok(/^cdcdcdcdcdcdcdcd… · waiting for peers \(0 known\)$/.test(lines[0]!), `a progress line: ${lines[0]}`)
  t.ok(/^chrysalis: the download did not finish in 4 s/.test(lines.at(-1)!), `then the error: ${lines.at(-1)}`)

  // serve says what its BitTorrent side is; status through it shows the same.
  const serveE = daemon(t, [...home('e'), ...net, '--encrypted-only', 'serve'])
  t.ok(await serveE.waitFor(/BitTorrent: encrypted-only, files travel only over hyperswarm/), 'serve: encrypted-only')
  const statusE = await json<Status>(t, [...home('e'), 'status'])
  t.ok(statusE.online && statusE.bt.encryptedOnly && statusE.bt.port === null && !statusE.bt.dht.enabled, `status through serve: ${JSON.stringify(statusE.bt)}`)
})
