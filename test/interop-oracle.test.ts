// The libtorrent harness the interop tests and the bench rely on (test/oracle/lt-interop.py), checked
// against itself: a loopback DHT node through which a magnet is found, v1, v2 and hybrid by address,
// and a --corrupt seeder that really serves altered bytes (libtorrent's own downloader sees its
// pieces fail).
import test from 'brittle'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { FOLDER, ltHashes, makeFiles } from './helpers-interop.js'
import { haveLibtorrent, ltDht, ltFetch, ltMake, ltSeed } from './helpers-oracle.js'

const skip = !haveLibtorrent // python3-libtorrent missing: apt-get install -y python3-libtorrent

test('lt harness: v1, v2 and hybrid by address; a magnet through the loopback DHT', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const root = path.join(dir, 'src', 'Kaypro II')
  const hashes = await makeFiles(root, FOLDER)
  const dht = await ltDht(t)
  t.ok(/^127\.0\.0\.1:\d+$/.test(dht), `a DHT node on ${dht}`)
  // Every seeder announced before any downloader runs: a downloader that has exited stays in the
  // DHT node's table, and a later announce waits ~15 s for it (libtorrent's lookup timeout).
  const kinds = ['v1', 'v2', 'hybrid'] as const
  const seeded = []
  for (const kind of kinds) {
    const torrent = path.join(dir, `${kind}.torrent`)
    const made = await ltMake(root, torrent, kind, { webSeeds: ['http://127.0.0.1:9/ws/'] })
    t.is(made.v1 !== null, kind !== 'v2', `${kind}: v1 infohash`)
    t.is(made.v2 !== null, kind !== 'v1', `${kind}: v2 infohash`)
    t.ok(made.magnet.includes('ws='), `${kind}: the magnet names the web seed`)
    const seeder = await ltSeed(t, torrent, path.dirname(root), { dht })
    t.is(seeder.p.lines<{ announced: boolean }>('DHT')[0]?.announced, true, `${kind}: the seeder is on the DHT`)
    seeded.push({ kind, torrent, made, seeder })
  }
  for (const { kind, torrent, made, seeder } of seeded) {
    const byAddress = await ltFetch(t, torrent, path.join(dir, `${kind}-a`), { peers: [seeder.address], timeout: 30 })
    t.ok(byAddress.ok, `${kind} by address`)
    t.alike(ltHashes('Kaypro II', byAddress.sha256), hashes, `${kind} by address: the bytes`)
    const viaDht = await ltFetch(t, made.magnet, path.join(dir, `${kind}-b`), { dht, timeout: 30 })
    t.ok(viaDht.ok, `${kind}: a magnet through the DHT`)
    t.alike(ltHashes('Kaypro II', viaDht.sha256), hashes, `${kind} through the DHT: the bytes`)
  }
})

// (libtorrent's own downloader is not asked to finish beside the corrupt seeder: it ends up
// dropping the honest seeder on the same 127.0.0.1 too. That is the Chrysalis tests' job.)
test('lt harness: --corrupt serves altered bytes; the honest seeder of the same torrent serves it whole', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const root = path.join(dir, 'src', 'cpm22.img')
  const hashes = await makeFiles(root, { '': 1024 * 1024 })
  const torrent = path.join(dir, 'v2.torrent')
  await ltMake(root, torrent, 'v2', { pieceLength: 16384 })
  const corrupt = await ltSeed(t, torrent, path.dirname(root), { corrupt: true })
  const alone = await ltFetch(t, torrent, path.join(dir, 'a'), { peers: [corrupt.address], timeout: 5 })
  t.absent(alone.ok, 'from the corrupt seeder alone: never complete')
  t.ok(alone.p.lines('HASHFAIL').length > 0, `its pieces fail their check (${alone.p.lines('HASHFAIL').length} seen)`)
  const honest = await ltSeed(t, torrent, path.dirname(root))
  const right = await ltFetch(t, torrent, path.join(dir, 'b'), { peers: [honest.address], timeout: 30 })
  t.ok(right.ok, 'from the honest seeder: complete')
  t.alike(ltHashes('cpm22.img', right.sha256), hashes, 'the honest bytes')
})
