// libtorrent 2.0.8 (test/oracle/lt-interop.py) downloads what a Chrysalis seeder shares, as any
// BitTorrent client would: v2 and hybrid, a single file and a folder, from the .torrent (`chrysalis
// torrent export`) and from the magnet alone (metadata and v2 hashes over the wire), by address and
// through a loopback mainline DHT node. Whole processes on 127.0.0.1.
import test from 'brittle'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { exportTorrent, FOLDER, freeTcpPort, hyperswarm, ltHashes, makeFiles, newHome, serve, share, SINGLE, type Shared } from './helpers-interop.js'
import { haveLibtorrent, ltDht, ltFetch } from './helpers-oracle.js'

const skip = !haveLibtorrent // python3-libtorrent missing: apt-get install -y python3-libtorrent

for (const kind of ['v2', 'hybrid'] as const) {
  test(`interop: libtorrent fetches a ${kind} file and folder from a Chrysalis seeder (.torrent and magnet; by address and through the DHT)`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const dht = await ltDht(t)
    const net = await hyperswarm(t)
    const btPort = await freeTcpPort()
    const seeder = await newHome(dir, 'seeder', [...net, '--bt-bootstrap', dht])

    const made: Array<{ what: string; shared: Shared; hashes: Record<string, string>; torrent: string }> = []
    for (const [what, files] of [['single file', SINGLE(2)], ['folder', FOLDER]] as const) {
      const root = path.join(dir, 'data', what === 'folder' ? 'Kaypro II manuals' : 'Kaypro II user guide.pdf')
      const hashes = await makeFiles(root, files)
      const shared = await share(seeder, root, { v2Only: kind === 'v2' })
      t.is(shared.infohashV1 !== null, kind === 'hybrid', `${what}: a v1 infohash exactly when hybrid`)
      const torrent = path.join(dir, `${what}.torrent`)
      await exportTorrent(seeder, shared.infohash, torrent)
      made.push({ what, shared, hashes, torrent })
    }
    await serve(t, seeder, { btPort })
    const address = `127.0.0.1:${btPort}`

    let n = 0
    for (const m of made) {
      const routes: Array<[string, string, { peers?: string[]; dht?: string }]> = [
        ['.torrent by address', m.torrent, { peers: [address] }],
        ['magnet alone by address', m.shared.magnet, { peers: [address] }],
        ['magnet through the DHT', m.shared.magnet, { dht }],
        ['.torrent through the DHT', m.torrent, { dht }]
      ]
      for (const [how, src, opts] of routes) {
        const r = await ltFetch(t, src, path.join(dir, `lt-${n++}`), { ...opts, timeout: 45 })
        t.ok(r.ok, `${m.what}, ${how}: libtorrent completes (${r.ok ? `${r.secs} s` : `progress ${r.progress}`})`)
        t.alike(ltHashes(m.shared.name, r.sha256), m.hashes, `${m.what}, ${how}: libtorrent has the exact bytes`)
      }
    }
  })
}
