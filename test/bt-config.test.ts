// The CLI's BitTorrent options (flags > environment > HOME/config.json, and when the mainline DHT
// may use the public routers) and the one parser of fetch arguments: pure, or a node that never
// goes online. No sockets.
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { isChrysalisError } from '../src/errors.js'
import { btOptionsOf, parseConfig, readConfig } from '../src/cli/bt-config.js'
import { btFlagsOf } from '../src/cli/bt-flags.js'
import { parseFetchTarget } from '../src/node/files.js'
import { parseInfohash } from '../src/node/infohash.js'
import { inspectTorrent, torrentBytes } from '../src/transfer/metainfo.js'
import { PUBLIC_ROUTERS } from '../src/transfer/discovery/dht.js'
import { dataFile, makeNode, tmpDir } from './helpers.js'

const V1 = '0123456789abcdef0123456789abcdef01234567'
const V2 = 'ab'.repeat(32)

function fails(t: { ok(v: unknown, m?: string): void; fail(m?: string): void }, fn: () => unknown, code: 'USAGE' | 'BAD_INPUT', what: string, pattern?: RegExp): void {
  try {
    fn()
    t.fail(`accepted ${what}`)
  } catch (err) {
    const e = err as Error
    t.ok(isChrysalisError(err, code) && !e.message.includes('\n') && (!pattern || pattern.test(e.message)), `${what}: ${code}: ${e.message}`)
  }
}

const none = { flags: {}, env: {}, config: {} }

test('the mainline DHT uses the public routers only when neither a hyperswarm nor a BT bootstrap is given', (t) => {
  const pub = btOptionsOf({ ...none, hyperswarmBootstrap: false }).dht
  t.alike(pub, { enabled: true, bootstrap: PUBLIC_ROUTERS.map((r) => ({ ...r })), publicRouters: true }, 'neither: the public routers')
  t.alike(btOptionsOf({ ...none, hyperswarmBootstrap: true }).dht, { enabled: false }, '--bootstrap alone (a private network, a test): off')
  const lan = { enabled: true, bootstrap: [{ host: '127.0.0.1', port: 7000 }], publicRouters: false }
  t.alike(btOptionsOf({ ...none, flags: { btBootstrap: ['127.0.0.1:7000'] }, hyperswarmBootstrap: true }).dht, lan, '--bt-bootstrap: its nodes')
  t.alike(btOptionsOf({ ...none, env: { CHRYSALIS_BT_BOOTSTRAP: '127.0.0.1:7000' }, hyperswarmBootstrap: true }).dht, lan, 'CHRYSALIS_BT_BOOTSTRAP: its nodes')
  t.alike(btOptionsOf({ ...none, config: { btBootstrap: ['127.0.0.1:7000'] }, hyperswarmBootstrap: false }).dht, lan, 'config btBootstrap: its nodes')
  t.alike(btOptionsOf({ ...none, flags: { noBtDht: true }, hyperswarmBootstrap: false }).dht, { enabled: false }, '--no-bt-dht: off')
  t.alike(btOptionsOf({ ...none, flags: { encryptedOnly: true }, hyperswarmBootstrap: false }).dht, { enabled: false }, '--encrypted-only: off')
  t.alike(btOptionsOf({ ...none, config: { encryptedOnly: true, btBootstrap: ['127.0.0.1:7000'] }, hyperswarmBootstrap: false }).dht, { enabled: false }, 'encrypted-only in the config: off')
  // Every combination but "neither": never the public routers.
  for (const hyperswarmBootstrap of [true, false]) {
    for (const flags of [{}, { btBootstrap: ['127.0.0.1:1'] }, { noBtDht: true }, { encryptedOnly: true }]) {
      for (const env of [{}, { CHRYSALIS_BT_BOOTSTRAP: '127.0.0.1:2' }]) {
        for (const config of [{}, { btBootstrap: ['127.0.0.1:3'] }]) {
          const dht = btOptionsOf({ flags, env, config, hyperswarmBootstrap }).dht
          const neither = !hyperswarmBootstrap && Object.keys(flags).length === 0 && Object.keys(env).length === 0 && Object.keys(config).length === 0
          if (dht?.enabled && dht.publicRouters !== neither) t.fail(`public routers ${dht.publicRouters} with ${JSON.stringify({ flags, env, config, hyperswarmBootstrap })}`)
        }
      }
    }
  }
  t.pass('no other combination uses the public routers')
})

test('flags win over the environment, the environment over HOME/config.json', (t) => {
  const config = { btPort: 7001, btBootstrap: ['127.0.0.1:7003'], trackers: ['udp://127.0.0.1:6969/announce'] }
  const env = { CHRYSALIS_BT_PORT: '7002', CHRYSALIS_BT_BOOTSTRAP: '127.0.0.1:7004' }
  const flags = btFlagsOf({ 'bt-port': '7005', 'bt-bootstrap': ['127.0.0.1:7006'], 'encrypted-only': false })
  const all = btOptionsOf({ flags, env, config, hyperswarmBootstrap: true })
  t.is(all.port, 7005)
  t.alike(all.dht, { enabled: true, bootstrap: [{ host: '127.0.0.1', port: 7006 }], publicRouters: false })
  t.alike(all.trackers, config.trackers, 'trackers come from the config')
  const envOnly = btOptionsOf({ flags: {}, env, config, hyperswarmBootstrap: true })
  t.is(envOnly.port, 7002)
  t.alike(envOnly.dht, { enabled: true, bootstrap: [{ host: '127.0.0.1', port: 7004 }], publicRouters: false })
  const configOnly = btOptionsOf({ flags: {}, env: {}, config, hyperswarmBootstrap: true })
  t.is(configOnly.port, 7001)
  t.alike(configOnly.dht, { enabled: true, bootstrap: [{ host: '127.0.0.1', port: 7003 }], publicRouters: false })
  t.is(btOptionsOf({ ...none, hyperswarmBootstrap: true }).port, undefined, 'no port given: the engine default (6881, else a free one)')
  t.is(btOptionsOf({ ...none, flags: { btPort: '0' }, hyperswarmBootstrap: true }).port, 0, '0: any free port')
  t.is(btOptionsOf({ ...none, config: { encryptedOnly: true }, hyperswarmBootstrap: true }).encryptedOnly, true)

  fails(t, () => btOptionsOf({ ...none, flags: { btPort: '65536' }, hyperswarmBootstrap: true }), 'USAGE', '--bt-port 65536', /--bt-port/)
  fails(t, () => btOptionsOf({ ...none, flags: { btPort: 'http' }, hyperswarmBootstrap: true }), 'USAGE', '--bt-port http', /--bt-port/)
  fails(t, () => btOptionsOf({ ...none, env: { CHRYSALIS_BT_PORT: '-1' }, hyperswarmBootstrap: true }), 'USAGE', 'CHRYSALIS_BT_PORT=-1', /CHRYSALIS_BT_PORT/)
  fails(t, () => btOptionsOf({ ...none, flags: { btBootstrap: ['nowhere'] }, hyperswarmBootstrap: true }), 'USAGE', '--bt-bootstrap nowhere', /--bt-bootstrap/)
  fails(t, () => btOptionsOf({ ...none, flags: { noBtDht: true, btBootstrap: ['127.0.0.1:1'] }, hyperswarmBootstrap: true }), 'USAGE', '--no-bt-dht with --bt-bootstrap')
})

test('HOME/config.json: checked key by key, one line naming the file and the key', async (t) => {
  const f = '/h/config.json'
  t.alike(parseConfig('{}', f), {})
  t.alike(parseConfig('{"btPort": 6882, "encryptedOnly": true, "btBootstrap": "10.0.0.1:6881,10.0.0.2:6881", "trackers": ["udp://t.example:6969/announce", "https://t.example/announce"], "future": 1}', f), {
    btPort: 6882,
    encryptedOnly: true,
    btBootstrap: ['10.0.0.1:6881,10.0.0.2:6881'],
    trackers: ['udp://t.example:6969/announce', 'https://t.example/announce']
  }, 'every key, and unknown keys ignored')
  fails(t, () => parseConfig('{"btPort": 6882', f), 'BAD_INPUT', 'not JSON', /\/h\/config\.json is not valid JSON/)
  fails(t, () => parseConfig('[1]', f), 'BAD_INPUT', 'not an object', /\/h\/config\.json must hold a JSON object/)
  fails(t, () => parseConfig('{"btPort": "6881"}', f), 'BAD_INPUT', 'btPort a string', /\/h\/config\.json: "btPort"/)
  fails(t, () => parseConfig('{"btPort": 70000}', f), 'BAD_INPUT', 'btPort too large', /"btPort"/)
  fails(t, () => parseConfig('{"encryptedOnly": "yes"}', f), 'BAD_INPUT', 'encryptedOnly a string', /"encryptedOnly"/)
  fails(t, () => parseConfig('{"btBootstrap": 6881}', f), 'BAD_INPUT', 'btBootstrap a number', /"btBootstrap"/)
  fails(t, () => parseConfig('{"btBootstrap": ["nowhere"]}', f), 'BAD_INPUT', 'btBootstrap without a port', /\/h\/config\.json: btBootstrap/)
  fails(t, () => parseConfig('{"trackers": "udp://t.example:6969"}', f), 'BAD_INPUT', 'trackers a string', /"trackers"/)
  fails(t, () => parseConfig('{"trackers": ["ftp://t.example/"]}', f), 'BAD_INPUT', 'an ftp tracker', /"trackers"/)

  const dir = await tmpDir(t)
  t.alike(await readConfig(dir), {}, 'no config file: an empty config')
  await fs.writeFile(path.join(dir, 'config.json'), ' '.repeat(70 * 1024) + '{}')
  await t.exception(() => readConfig(dir), /too large for a config/, 'a config is read with a bound')
})

test('fetch arguments: each kind to its target; anything else one line, exit 2 (USAGE)', async (t) => {
  const dir = await tmpDir(t)
  const magnet = parseFetchTarget(`magnet:?xt=urn:btih:${V1}&xt=urn:btmh:1220${V2}&dn=Kaypro&tr=udp%3A%2F%2F127.0.0.1%3A6969&ws=http%3A%2F%2F127.0.0.1%3A8080%2Fk.pdf&x.pe=127.0.0.1:6881`)
  t.alike(magnet, {
    kind: 'torrent',
    target: {
      v1: Buffer.from(V1, 'hex'),
      v2: Buffer.from(V2, 'hex'),
      name: 'Kaypro',
      meta: null,
      trackers: ['udp://127.0.0.1:6969'],
      webSeeds: ['http://127.0.0.1:8080/k.pdf'],
      peers: [{ host: '127.0.0.1', port: 6881 }]
    }
  }, 'a hybrid magnet with tr, ws and x.pe')
  const v1 = parseFetchTarget(`magnet:?xt=urn:btih:${V1}`)
  t.ok(v1.kind === 'torrent' && v1.target.v1?.toString('hex') === V1 && v1.target.v2 === null, 'a v1 magnet')
  const v2 = parseFetchTarget(`magnet:?xt=urn:btmh:1220${V2}`)
  t.ok(v2.kind === 'torrent' && v2.target.v2?.toString('hex') === V2 && v2.target.v1 === null, 'a v2 magnet')
  const h1 = parseFetchTarget(V1.toUpperCase())
  t.ok(h1.kind === 'torrent' && h1.target.v1?.toString('hex') === V1 && h1.target.v2 === null, 'a 40-hex v1 infohash')
  const h2 = parseFetchTarget(V2)
  t.ok(h2.kind === 'torrent' && h2.target.v2?.toString('hex') === V2 && h2.target.v1 === null, 'a 64-hex v2 infohash')
  const ref = parseFetchTarget('bukjknjnm43i1big8b8r78qbbzpki8zi4brkbfi8a8iz3d18gopy/01a1fb2b60c9')
  t.is(ref.kind, 'ref', 'a post ref')
  t.alike(parseFetchTarget('kaypro.torrent', (p) => path.join(dir, p)), { kind: 'file', file: path.join(dir, 'kaypro.torrent') }, 'a .torrent path, against the caller\'s directory')
  await fs.writeFile(path.join(dir, 'named-otherwise'), 'd')
  t.alike(parseFetchTarget('named-otherwise', (p) => path.join(dir, p)), { kind: 'file', file: path.join(dir, 'named-otherwise') }, 'an existing file')

  fails(t, () => parseFetchTarget('not-a-thing', (p) => path.join(dir, p)), 'USAGE', 'a word', /not a post ref, a magnet link, a \.torrent file or an infohash/)
  fails(t, () => parseFetchTarget('ab'.repeat(25)), 'USAGE', '50 hex digits', /40 \(v1\) or 64 \(v2\)/)
  fails(t, () => parseFetchTarget('magnet:?dn=nothing'), 'USAGE', 'a magnet without xt', /names no BitTorrent infohash/)
  fails(t, () => parseFetchTarget('magnet:?xt=urn:btmh:1220abcd'), 'USAGE', 'a short btmh', /SHA-256 multihash/)
  t.alike(parseInfohash(V1), Buffer.from(V1, 'hex'))
  t.alike(parseInfohash(V2), Buffer.from(V2, 'hex'))
  t.alike(parseInfohash(`urn:btmh:1220${V2}`), Buffer.from(V2, 'hex'), 'the magnet xt forms too: one parser for every command')
  const byUrn = parseFetchTarget(`urn:btih:${V1}`)
  t.alike(byUrn.kind === 'torrent' ? byUrn.target.v1 : null, Buffer.from(V1, 'hex'), 'fetch takes them as well')
  fails(t, () => parseInfohash('abc'), 'USAGE', 'abc as an infohash', /infohash/)
})

test('node.files.resolve: a .torrent, a magnet with --peer, a v1 hash of a hybrid this node has, a post ref', async (t) => {
  const dir = await tmpDir(t)
  const node = await makeNode(t, 'Ada')
  const { file } = await dataFile(dir, 'kaypro.pdf', 300_000)
  const shared = await node.files.share(file, { trackers: ['udp://127.0.0.1:6969/announce'] })
  t.ok(shared.infohashV1, 'share makes a hybrid by default')
  t.ok(shared.magnet.includes(`xt=urn:btih:${shared.infohashV1}`) && shared.magnet.includes(`xt=urn:btmh:1220${shared.infohash}`), 'its magnet has both xt')
  t.ok(shared.magnet.includes('dn=kaypro.pdf') && shared.magnet.includes(`tr=${encodeURIComponent('udp://127.0.0.1:6969/announce')}`), 'dn, and tr for the trackers')
  const meta = inspectTorrent(await node.files.torrentFile(Buffer.from(shared.infohash, 'hex'))).meta
  t.is(meta.version, 'hybrid')
  const v2only = await node.files.share(file, { hybrid: false })
  t.is(v2only.infohashV1, null, 'hybrid: false makes v2 only')
  t.absent(v2only.magnet.includes('btih'))

  const torrent = path.join(dir, 'k.torrent')
  await fs.writeFile(torrent, torrentBytes(meta))
  const [fromFile] = await node.files.resolve('k.torrent', { resolvePath: (p) => path.join(dir, p), peers: [{ host: '127.0.0.1', port: 6881 }] })
  t.is(fromFile!.infohash.toString('hex'), shared.infohash, 'a .torrent: keyed by its v2 hash')
  t.alike(fromFile!.target!.v1, meta.infohashV1)
  t.ok(fromFile!.target!.meta?.info.equals(meta.info), 'with its metadata')
  t.alike(fromFile!.target!.peers, [{ host: '127.0.0.1', port: 6881 }], 'and --peer')

  const [byV1] = await node.files.resolve(shared.infohashV1!)
  t.is(byV1!.infohash.toString('hex'), shared.infohash, 'the v1 hash of a hybrid this node has: that torrent')
  t.ok(byV1!.target!.meta, 'with its metadata')
  const [magnet] = await node.files.resolve(`magnet:?xt=urn:btih:${V1}&x.pe=10.0.0.1:6881`, { peers: [{ host: '10.0.0.1', port: 6881 }, { host: '10.0.0.2', port: 51413 }] })
  t.is(magnet!.infohash.toString('hex'), V1, 'an unknown v1 torrent is keyed by its v1 hash')
  t.alike(magnet!.target!.peers, [{ host: '10.0.0.1', port: 6881 }, { host: '10.0.0.2', port: 51413 }], 'x.pe and --peer, deduplicated')

  const post = await node.post({ text: 'the manual', attach: [file] })
  const [fromPost] = await node.files.resolve(post.ref)
  t.is(fromPost!.infohash.toString('hex'), shared.infohash)
  t.alike(fromPost!.author, node.identity.publicKey, 'a post ref: its author is asked too')

  // pause / resume / cancel take either hash.
  t.is((await node.files.pause(shared.infohashV1!)).status, 'paused')
  t.is((await node.files.resume(shared.infohashV1!)).status, 'seeding')

  await fs.writeFile(path.join(dir, 'junk.torrent'), 'd4:infoi1ee')
  await t.exception(() => node.files.resolve(path.join(dir, 'junk.torrent')), /junk\.torrent: /, 'a bad .torrent: one line naming it')
  await t.exception(() => node.files.resolve(path.join(dir, 'missing.torrent')), /missing\.torrent: no such file/)
})
