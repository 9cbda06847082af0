// libtorrent 2.0.8 (test/oracle/lt-interop.py) downloads what a Chrysalis seeder shares, as any
// BitTorrent client would: v2 and hybrid, a single file and a folder, from the .torrent (`chrysalis
// torrent export`) and from the magnet alone (metadata and v2 hashes over the wire), by address and
// through a loopback mainline DHT node. Whole processes on 127.0.0.1.
import test from 'brittle'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { exportTorrent, FOLDER, freeTcpPort, hyperswarm, ltHashes, makeFiles, newHome, serve, share, SINGLE } from './helpers-interop.js'
import { haveLibtorrent, ltDht, ltFetch } from './helpers-oracle.js'

const skip = !haveLibtorrent // python3-libtorrent missing: apt-get install -y python3-libtorrent

for (const kind of ['v2', 'hybrid'] as const) {
  for (const [what, files] of [['single file', SINGLE(2)], ['folder', FOLDER]] as const) {
    test(`interop: libtorrent fetches a ${kind} ${what} from a Chrysalis seeder (.torrent and magnet; by address and through the DHT)`, { skip }, async (t) => {
      const dir = await tmpDir(t)
      const dht = await ltDht(t)
      const net = await hyperswarm(t)
      const btPort = await freeTcpPort()
      const seeder = await newHome(dir, 'seeder', [...net, '--bt-bootstrap', dht])
      const root = path.join(dir, 'data', what === 'folder' ? 'Kaypro II manuals' : 'Kaypro II user guide.pdf')
      const hashes = await makeFiles(root, files)
      const shared = await share(seeder, root, { v2Only: kind === 'v2' })
      t.is(shared.infohashV1 !== null, kind === 'hybrid', 'a v1 infohash exactly when hybrid')
      const torrent = path.join(dir, 'exported.torrent')
      await exportTorrent(seeder, shared.infohash, torrent)
      await serve(t, seeder, { btPort })
      const address = `127.0.0.1:${btPort}`

      const routes: Array<[string, string, { peers?: string[]; dht?: string }]> = [
        ['.torrent by address', torrent, { peers: [address] }],
        ['magnet alone by address', shared.magnet, { peers: [address] }],
        ['magnet through the DHT', shared.magnet, { dht }],
        ['.torrent through the DHT', torrent, { dht }]
      ]
      let n = 0
      for (const [how, src, opts] of routes) {
        const r = await ltFetch(t, src, path.join(dir, `lt-${n++}`), { ...opts, timeout: 20 })
        t.ok(r.ok, `${how}: libtorrent completes (${r.ok ? `${r.secs} s` : `progress ${r.progress}`})`)
        t.alike(ltHashes(shared.name, r.sha256), hashes, `${how}: libtorrent has the exact bytes`)
      }
    })
  }
}
