// Chrysalis downloads from libtorrent 2.0.8 seeders (test/oracle/lt-interop.py): v1-only, v2-only and
// hybrid torrents libtorrent made, by magnet through a loopback mainline DHT node, by magnet and by
// .torrent with `--peer HOST:PORT`; and with a corrupt seeder (altered bytes) beside an honest one,
// the file completes correct and the corrupt seeder is banned: seen from libtorrent's side (dropped
// before the honest seeder, never taken back), and in `fetch --json` once it reports bans.
// Whole processes on 127.0.0.1.
import test from 'brittle'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { fetch, FOLDER, hashTree, hyperswarm, makeFiles, newHome } from './helpers-interop.js'
import { haveLibtorrent, ltDht, ltMake, ltSeed } from './helpers-oracle.js'

const skip = !haveLibtorrent // python3-libtorrent missing: apt-get install -y python3-libtorrent

for (const kind of ['v1', 'v2', 'hybrid'] as const) {
  test(`interop: Chrysalis fetches a ${kind} torrent from libtorrent (magnet through the DHT; magnet and .torrent by address)`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const dht = await ltDht(t)
    const net = await hyperswarm(t)
    const root = path.join(dir, 'src', 'Osborne 1 schematics')
    const hashes = await makeFiles(root, FOLDER)
    const torrent = path.join(dir, `lt.${kind}.torrent`)
    const made = await ltMake(root, torrent, kind)
    const seeder = await ltSeed(t, torrent, path.dirname(root), { dht })

    // Through the DHT: the magnet alone, nothing else.
    const viaDht = await newHome(dir, 'viaDht', [...net, '--bt-bootstrap', dht])
    const a = await fetch(viaDht, made.magnet, path.join(dir, 'a'))
    t.is(a.code, 0, `magnet through the DHT: exit 0 ${a.stderr}`)
    t.alike(await hashTree(path.join(dir, 'a', 'Osborne 1 schematics')), hashes, 'magnet through the DHT: the exact bytes')
    t.is(a.fetched[0]?.infohash, made.v2 ?? made.v1, 'kept under the v2 infohash when there is one, else v1')

    // By address: no DHT (a hyperswarm bootstrap given and no BT one: the mainline DHT is off).
    const byAddress = await newHome(dir, 'byAddress', net)
    const b = await fetch(byAddress, made.magnet, path.join(dir, 'b'), { peers: [seeder.address] })
    t.is(b.code, 0, `magnet --peer: exit 0 ${b.stderr}`)
    t.alike(await hashTree(path.join(dir, 'b', 'Osborne 1 schematics')), hashes, 'magnet --peer: the exact bytes')

    const byFile = await newHome(dir, 'byFile', net)
    const c = await fetch(byFile, torrent, path.join(dir, 'c'), { peers: [seeder.address] })
    t.is(c.code, 0, `.torrent --peer: exit 0 ${c.stderr}`)
    t.alike(await hashTree(path.join(dir, 'c', 'Osborne 1 schematics')), hashes, '.torrent --peer: the exact bytes')
  })
}

for (const kind of ['v1', 'v2'] as const) {
  test(`interop: a corrupt libtorrent seeder beside an honest one (${kind}): the file is right, the corrupt seeder is dropped for good`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const net = await hyperswarm(t)
    const root = path.join(dir, 'src', 'cpm22.img')
    const hashes = await makeFiles(root, { '': 3 * 1024 * 1024 })
    const torrent = path.join(dir, `lt.${kind}.torrent`)
    // 16 KiB pieces: many pieces, so both seeders are asked for some.
    const made = await ltMake(root, torrent, kind, { pieceLength: 16384 })
    const corrupt = await ltSeed(t, torrent, path.dirname(root), { corrupt: true })
    // The honest seeder is held to 1 MiB/s, or on a quick machine it serves all 3 MiB before the
    // fetcher has asked the corrupt one for anything, and the test sees no corruption at all.
    const honest = await ltSeed(t, torrent, path.dirname(root), { uploadLimit: 1024 * 1024 })

    const home = await newHome(dir, 'fetcher', net)
    const r = await fetch(home, made.magnet, path.join(dir, 'out'), { peers: [corrupt.address, honest.address] })
    t.is(r.code, 0, `exit 0 ${r.stderr}`)
    t.alike(await hashTree(path.join(dir, 'out', 'cpm22.img')), hashes, 'the file is exactly the honest bytes')

    // The corrupt seeder did serve altered bytes, and the fetcher cut it off while it still
    // fetched: before the honest seeder, whose connection ends only when the fetch process exits.
    const sent = corrupt.p.lines<{ bytes: number }>('UPLOADED').at(-1)?.bytes ?? 0
    t.ok(sent > 0, `the corrupt seeder served ${sent} bytes`)
    await honest.p.line('DISCONNECTED', 10_000)
    const dropped = corrupt.p.lines<{ at: number }>('DISCONNECTED')[0]?.at ?? Infinity
    const exited = honest.p.lines<{ at: number }>('DISCONNECTED')[0]!.at
    t.ok(dropped < exited, `the fetcher dropped the corrupt seeder ${(exited - dropped).toFixed(2)} s before it was done with the honest one`)
    t.is(corrupt.p.lines('CONNECTED').length, 1, 'and never came back')

    // The ban, as the node reports it.
    const banned = bannedPeers(r.json) ?? []
    t.ok(banned.includes(corrupt.address), `the corrupt seeder ${corrupt.address} is banned, as fetch --json says (${JSON.stringify(banned)})`)
    t.absent(banned.includes(honest.address), 'the honest seeder is not')
  })
}

/** Addresses of banned peers in a fetch --json report, or null when it has no such field. */
function bannedPeers(json: unknown): string[] | null {
  const f = (json as { fetched?: Array<Record<string, unknown>> } | null)?.fetched?.[0]
  if (!f) return null
  const b = f.banned ?? f.bannedPeers
  if (Array.isArray(b)) return b.map((x) => (typeof x === 'string' ? x : String((x as { address?: unknown }).address)))
  const peers = f.peers
  if (Array.isArray(peers)) return peers.filter((p: { banned?: unknown }) => p.banned === true).map((p: { address?: unknown }) => String(p.address))
  return null
}
