// The Transfers screen of the terminal UI over a node whose file side is scripted: adding a fetch
// from a pasted magnet, infohash or .torrent path (with Tab completion), bad input refused in one
// line with nothing started, a transfer's details (the whole magnet, peers by kind), and the
// BitTorrent port in the status bar. The feeds side is a real offline node.
import test from 'brittle'
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import type { ChrysalisNode } from '../src/node/node.js'
import type { TransferView } from '../src/transfer/transfers.js'
import { ChrysalisError } from '../src/errors.js'
import type { TuiBtStatus, TuiNode, TuiPeerInfo } from '../src/tui/controller.js'
import { makeNode, tmpDir, waitFor, type Test } from './helpers.js'
import { fits, K, mountTui, type Tui } from './helpers-tui.js'

const V2 = 'a'.repeat(64)
const V1 = 'b'.repeat(40)
const MAGNET =
  `magnet:?xt=urn:btih:${V1}&xt=urn:btmh:1220${V2}&dn=Kaypro%204%20technical%20manual.pdf` +
  '&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&ws=http%3A%2F%2F127.0.0.1%3A8080%2Fscans%2Fkaypro-4-technical-manual.pdf'

function view(over: Partial<TransferView> & { infohash: string; name: string }): TransferView {
  // Partial: the fields the BitTorrent engine adds are left out, as an older node reports them.
  const v: Partial<TransferView> = {
    role: 'fetched',
    status: 'downloading',
    reason: null,
    size: 4 * 1024 * 1024,
    have: 1024 * 1024,
    peers: 0,
    downloadRate: 0,
    uploadRate: 0,
    uploaded: 0,
    downloaded: 0,
    path: null,
    ...over
  }
  return v as TransferView
}

interface Script {
  fetched: string[]
  items: TransferView[]
  peers: Record<string, TuiPeerInfo[]>
  bt: TuiBtStatus | undefined
  /** What fetchAll does with a target (default: a transfer appears, then completes). */
  fetch?: (target: string) => Promise<TransferView[]>
  magnets: Record<string, string>
}

/** A real offline node, with its file side and status as the test scripts them. */
function scripted(node: ChrysalisNode, script: Script): TuiNode {
  const files: TuiNode['files'] = {
    share: (...a) => node.files.share(...a),
    availability: () => Promise.resolve(0),
    exportTorrent: (...a) => node.files.exportTorrent(...a),
    pause: (...a) => node.files.pause(...a),
    resume: (...a) => node.files.resume(...a),
    remove: (...a) => node.files.remove(...a),
    list: () => script.items,
    peers: (infohash) => script.peers[infohash] ?? [],
    magnet: (infohash) => {
      const m = script.magnets[infohash]
      return m ? Promise.resolve(m) : Promise.reject(new ChrysalisError('NOT_FOUND', 'no metadata yet'))
    },
    fetchAll: async (target, opts) => {
      script.fetched.push(target)
      if (script.fetch) return script.fetch(target)
      const infohash = target === MAGNET ? V2 : crypto.createHash('sha256').update(target).digest('hex')
      const item = view({ infohash, name: target === MAGNET ? 'Kaypro 4 technical manual.pdf' : path.basename(target) })
      script.items = [item, ...script.items]
      opts.onStart?.(infohash)
      return [item]
    }
  }
  return new Proxy(node, {
    get(target, prop, receiver) {
      if (prop === 'files') return files
      if (prop === 'status') return () => ({ ...target.status(), ...(script.bt ? { bt: script.bt } : {}) })
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? (v.bind(target) as unknown) : v
    }
  })
}

async function setup(t: Test, over: Partial<Script> = {}): Promise<{ ui: Tui; script: Script; dir: string }> {
  const node = await makeNode(t, 'Ada')
  const dir = await tmpDir(t)
  const script: Script = { fetched: [], items: [], peers: {}, bt: undefined, magnets: {}, ...over }
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(scripted(node, script)), downloads: dir, cwd: dir })
  await ui.until('1 Timeline')
  ui.press('4')
  await ui.until('a add magnet')
  return { ui, script, dir }
}

/** The lines of the frame between the "Magnet" title and the peers, joined: the magnet as shown. */
function shownMagnet(frame: string): string {
  const lines = frame.split('\n')
  const from = lines.findIndex((l) => l.trim() === 'Magnet')
  const to = lines.findIndex((l, i) => i > from && l.startsWith('Peers'))
  return lines.slice(from + 1, to).map((l) => l.trim()).join('')
}

/** The part of a brittle test used here (brittle's types do not export it). */
interface Asserts {
  pass(msg?: string): void
  alike(a: unknown, b: unknown, msg?: string): void
  ok(v: unknown, msg?: string): void
  absent(v: unknown, msg?: string): void
  is(a: unknown, b: unknown, msg?: string): void
}

function oneLineError(t: Asserts, ui: Tui, text: RegExp): void {
  const m = ui.c.state.message
  t.is(m?.kind, 'error', 'an error is shown')
  t.absent(m?.text.includes('\n'), 'in one line')
  t.ok(text.test(m?.text ?? ''), m?.text)
  t.absent(/at .+\(.+:\d+:\d+\)/.test(ui.frame()), 'no stack trace')
}

test('transfers: a pasted magnet starts a fetch that appears like any other; its details show the whole magnet', async (t) => {
  const { ui, script } = await setup(t)
  t.ok(ui.frame().includes('a fetches a magnet'), 'the empty screen says how to add one')
  // a, the magnet pasted and Enter: one burst, as a terminal delivers a paste.
  ui.press('a')
  await ui.until('Fetch (magnet, infohash or .torrent)')
  ui.press(MAGNET, K.enter)
  await waitFor(() => script.fetched.length === 1, 5000, 'fetchAll called')
  t.is(script.fetched[0], MAGNET, 'the magnet goes to the node as pasted')
  await ui.until('Kaypro 4 technical manual.pdf')
  await ui.until('Fetched Kaypro 4 technical manual.pdf')
  t.ok(fits(ui.frame(), 80, 24), 'fits 80×24')
  ui.press(K.enter)
  await ui.until('Magnet')
  await ui.until('no peers connected')
  t.is(shownMagnet(ui.frame()), MAGNET, 'the pasted magnet, whole, wrapped (no metadata yet)')
  t.ok(ui.frame().includes('› Transfer'), 'the header says where we are')
  t.ok(fits(ui.frame(), 80, 24), 'the details fit 80×24')
  ui.press(K.esc)
  await waitFor(() => ui.c.state.stack.length === 0, 5000, 'back to the list')
})

test('transfers: 40- and 64-hex infohashes, and a .torrent path completed with Tab', async (t) => {
  const { ui, script, dir } = await setup(t)
  await fs.writeFile(path.join(dir, 'kaypro-4-manual.torrent'), 'd4:infod4:name1:xee')
  await fs.writeFile(path.join(dir, 'kaypro-ii.torrent'), 'd4:infod4:name1:yee')
  ui.press('a', V1.toUpperCase(), K.enter)
  await waitFor(() => script.fetched.length === 1, 5000, 'fetchAll called for the v1 infohash')
  t.is(script.fetched[0], V1)
  ui.press('a', V2, K.enter)
  await waitFor(() => script.fetched.length === 2, 5000, 'fetchAll called for the v2 infohash')
  t.is(script.fetched[1], V2)
  ui.press('a')
  await ui.until('Fetch (magnet')
  ui.press('kay', K.tab)
  await ui.until(/kaypro-4-manual\.torrent {2}kaypro-ii\.torrent/) // two match: both shown
  t.is(ui.c.state.prompt?.field.value, 'kaypro-', 'Tab completes the common part')
  t.ok(fits(ui.frame(), 80, 24), 'the prompt with its candidates fits 80×24')
  ui.press('4', K.tab)
  await waitFor(() => ui.c.state.prompt?.field.value === 'kaypro-4-manual.torrent', 5000, 'Tab completes the path')
  ui.press(K.enter)
  await waitFor(() => script.fetched.length === 3, 5000, 'fetchAll called for the .torrent')
  t.is(script.fetched[2], path.join(dir, 'kaypro-4-manual.torrent'), 'the path, absolute')
})

test('transfers: garbage or a missing .torrent is refused in one line and starts nothing; a node error is one line', async (t) => {
  const { ui, script } = await setup(t)
  ui.press('a', 'hello there', K.enter)
  await ui.until('✗')
  oneLineError(t, ui, /not a magnet link, a 40- or 64-hex infohash or a \.torrent file/)
  ui.press('a', 'no-such-file.torrent', K.enter)
  await ui.until('as a .torrent file')
  oneLineError(t, ui, /cannot read no-such-file\.torrent/)
  ui.press('a', 'abcd', K.enter) // hex, but not 40 or 64 digits
  await ui.until('"abcd" is not a magnet')
  ui.press('a', K.enter)
  await ui.until('paste a magnet link')
  t.is(script.fetched.length, 0, 'nothing was started')
  t.is(script.items.length, 0, 'no transfer appeared')

  script.fetch = () => Promise.reject(new ChrysalisError('BAD_INPUT', 'that magnet names no infohash (xt=urn:btih or urn:btmh); copy it again'))
  ui.press('a', 'magnet:?dn=nothing', K.enter)
  await ui.until('names no infohash')
  oneLineError(t, ui, /^that magnet names no infohash/)
  t.ok(fits(ui.frame(), 80, 24))
})

test('transfers: the details list each peer with its kind, transport, client and bytes', async (t) => {
  const item = view({ infohash: V2, name: 'osborne-1-manual.pdf', peers: 4 })
  const peers: TuiPeerInfo[] = [
    { id: 'p1', address: '127.0.0.1:51413', client: 'qBittorrent/4.6.2', kind: 'bittorrent', transport: 'tcp', pieces: 10, downloaded: 3 * 1024 * 1024, uploaded: 0 },
    { id: 'p2', address: null, client: 'Chrysalis 0.1.0', kind: 'chrysalis', transport: 'hyperswarm', pieces: 4, downloaded: 512 * 1024, uploaded: 2048 },
    { id: 'p3', address: 'http://127.0.0.1:8080/osborne-1-manual.pdf', client: null, kind: 'webseed', transport: 'http', pieces: 0, downloaded: 1024, uploaded: 0 },
    // As the engine reports peers before it knows kinds: shown, without guessing.
    { id: 'c0ffee00c0ffee00c0ffee', pieces: 1, downloaded: 0, uploaded: 0 }
  ]
  const { ui } = await setup(t, { items: [item], peers: { [V2]: peers }, magnets: { [V2]: MAGNET } })
  await ui.until('osborne-1-manual.pdf')
  ui.press(K.enter)
  await ui.until('Peers: 1 BitTorrent · 1 Chrysalis · 1 web seed · 1 peer')
  const frame = ui.frame()
  t.ok(/BitTorrent\s+tcp\s+qBittorrent\/4\.6\.2\s+↓ 3\.0 MiB\s+↑ 0 B\s+127\.0\.0\.1:51413/.test(frame), 'a classic client over TCP, with its name and address')
  t.ok(/Chrysalis\s+hyperswarm\s+Chrysalis 0\.1\.0\s+↓ 512 KiB\s+↑ 2\.0 KiB/.test(frame), 'a Chrysalis peer over hyperswarm')
  t.ok(/web seed\s+http\s+—\s+↓ 1\.0 KiB/.test(frame), 'a web seed over HTTP')
  t.ok(/peer\s+—\s+—\s+↓ 0 B\s+↑ 0 B\s+c0ffee00c0ff/.test(frame), 'a peer of unknown kind')
  t.is(shownMagnet(frame), MAGNET, 'the magnet from the node, whole')
  t.ok(fits(frame, 80, 24), 'fits 80×24')
  // The list follows the engine: a peer leaves.
  peers.splice(0, 1)
  await ui.until('Peers: 1 Chrysalis · 1 web seed · 1 peer')
  t.absent(ui.frame().includes('qBittorrent'))
})

test('status bar: the BitTorrent port when the node reports one, and "encrypted only"', async (t) => {
  const { ui, script } = await setup(t)
  t.absent(ui.frame().includes('BT port'), 'nothing when the node reports no BitTorrent side')
  script.bt = { port: 6881, encryptedOnly: false }
  await ui.until('BT port 6881')
  t.absent(ui.frame().includes('encrypted only'))
  script.bt = { port: null, encryptedOnly: true }
  await ui.until('encrypted only')
  t.absent(ui.frame().includes('BT port'), 'no port when there is no TCP listener')
})

test('help and footer name the add key', async (t) => {
  const { ui } = await setup(t)
  t.ok(/a add magnet .*\? help/.test(ui.frame()), 'the footer shows the add key, and help, in 80 columns')
  ui.press('?')
  await ui.until('Everywhere')
  t.ok(/Transfers[\s\S]*a +add magnet/.test(ui.frame()), "help lists the Transfers screen's keys")
  t.ok(fits(ui.frame(), 80, 24), 'help fits 80×24')
})

test('transfers, real nodes: a pasted magnet fetches from a seeder on a loopback testnet; the details show its peer', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const seeder = await makeNode(t, 'Grace Osborne')
  await seeder.online({ dht: testnet.createNode() })
  const data = crypto.randomBytes(1024 * 1024 + 333)
  await fs.writeFile(path.join(dir, 'osborne-1-manual.pdf'), data)
  const shared = await seeder.files.share(path.join(dir, 'osborne-1-manual.pdf'))

  const node = await makeNode(t, 'Ada')
  const downloads = await tmpDir(t)
  const opener = async (): Promise<TuiNode> => {
    await node.online({ dht: testnet.createNode() })
    return node
  }
  const ui = await mountTui(t, { home: node.home, openNode: opener, downloads, cwd: downloads })
  await ui.until('1 Timeline')
  ui.press('4', 'a')
  await ui.until('Fetch (magnet')
  ui.press(shared.magnet, K.enter)
  await ui.until('Fetched osborne-1-manual.pdf', 30_000)
  t.alike(await fs.readFile(path.join(downloads, 'osborne-1-manual.pdf')), data, 'the bytes arrived, verified')
  await ui.until('100%')
  ui.press(K.enter)
  await ui.until('Peers:')
  await waitFor(() => shownMagnet(ui.frame()) === shared.magnet, 5000, 'the whole magnet in the details')
  t.pass('the magnet, whole')
  await waitFor(() => {
    const top = ui.c.state.stack.at(-1)
    return top?.kind === 'transfer' && top.peers.some((p) => p.downloaded > 0)
  }, 5000, 'the seeder in the peer list, with the bytes it sent')
  t.ok(/↓ \d/.test(ui.frame()), 'its bytes are shown')
  t.ok(fits(ui.frame(), 80, 24), 'fits 80×24')
})
