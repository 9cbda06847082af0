// The terminal UI never waits for the network, and shows what arrives from it without a key:
// comments that arrive while their thread is open appear in it (the selection stays on its
// post); the cached timeline is drawn as soon as the node is open, while it goes online in the
// background.
import test from 'brittle'
import dgram from 'node:dgram'
import fs from 'node:fs/promises'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { openHostedNode, type HostedNode } from '../src/cli/host.js'
import { ChrysalisNode } from '../src/node/node.js'
import { untilDeadline } from '../src/node/deadline.js'
import { threadRows, type UiState } from '../src/tui/store.js'
import { SAVED_FILE } from '../src/tui/saved.js'
import { K, mountTui } from './helpers-tui.js'
import { makeNode, onlineNode, tmpDir, waitFor } from './helpers.js'

test('live thread: comments from another node appear in the open thread, no key pressed; the selection stays on its post', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const me = await onlineNode(t, testnet, 'Ada')
  me.live()
  const lin = await onlineNode(t, testnet, 'Lin Commodore')
  const mine = await me.post({ text: 'Looking for a VIC-20 programmer reference' })
  await lin.follow(me.identity.publicKey)
  await waitFor(async () => (await lin.getPost(mine.ref)) !== null, 20_000, 'Lin sees our post')
  const first = await lin.comment(mine.ref, 'First: I have the reference')
  const second = await lin.comment(mine.ref, 'Second: and the VIC-20 service manual')
  const ui = await mountTui(t, { home: me.home, openNode: () => Promise.resolve(me) })
  await ui.until('VIC-20 programmer reference')
  ui.press(K.enter)
  // Lin is not followed: the comments arrive as notifications, and the open thread shows them.
  await ui.until('Second: and the VIC-20 service manual', 20_000)
  await ui.until('Thread · 2 comments')
  ui.press('G') // the last comment
  await waitFor(() => selectedRef(ui.c.state) === second.ref, 5000, 'the second comment selected')
  // Followed now, Lin answers the first comment: a reply that goes above the selected comment.
  await me.follow(lin.identity.publicKey)
  await lin.comment(first.ref, 'Reply: scanning it tonight')
  await ui.until('Reply: scanning it tonight', 20_000)
  await ui.until('Thread · 3 comments')
  t.is(selectedRef(ui.c.state), second.ref, 'the selection stays on the comment it was on')
  t.absent(ui.frames().some((f) => f.includes('Reply to')), 'no key but G was pressed')
})

function selectedRef(s: UiState): string | null {
  const top = s.stack.at(-1)
  if (top?.kind !== 'thread') return null
  return threadRows(top.thread)[top.selected]?.post?.ref ?? null
}

/** A promise settled by the test: going online, under the test's control. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve: () => void = () => {}
  let reject: (err: Error) => void = () => {}
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

/** The status bar: the line above the footer. */
const statusBar = (frame: string): string => frame.split('\n').at(-2) ?? ''

test('never wait for the network: the saved timeline is drawn while going online; then the status says the DHT and the peers', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const node = await makeNode(t, 'Ada')
  await node.post({ text: 'Kaypro II manual, first scan' })
  const online = deferred()
  let dhtNodes = 0
  const ui = await mountTui(t, { home: node.home, open: () => Promise.resolve({ node, online: online.promise, dhtNodes: () => dhtNodes }) })
  const frame = await ui.until('Kaypro II manual, first scan')
  t.ok(statusBar(frame).includes('◌ going online…'), `the status bar says it is going online: ${statusBar(frame)}`)
  t.is(ui.c.state.status.net, 'going', 'going online has not ended')
  // Going online ends: the DHT answered (nodes known); no peer yet.
  await node.online({ dht: testnet.createNode() })
  dhtNodes = 3
  online.resolve()
  await waitFor(() => statusBar(ui.frame()).includes('◌ online, DHT reachable · 0 peers'), 5000, `online, DHT reachable, 0 peers: ${statusBar(ui.frame())}`)
  // The DHT stops answering (its nodes are gone): said as it is.
  dhtNodes = 0
  await waitFor(() => statusBar(ui.frame()).includes('○ DHT not reachable · 0 peers'), 5000, `DHT not reachable: ${statusBar(ui.frame())}`)
  t.pass('the status bar follows the DHT and the peers')
})

test('never wait for the network: when going online fails, the timeline stays and one line says why', async (t) => {
  const node = await makeNode(t, 'Ada')
  await node.post({ text: 'Osborne 1 schematics' })
  const online = deferred()
  const ui = await mountTui(t, { home: node.home, open: () => Promise.resolve({ node, online: online.promise }) })
  await ui.until('Osborne 1 schematics')
  ui.press('4', 'a') // fetching needs the network: refused plainly while going online
  await ui.until('Fetch (magnet')
  ui.press('a'.repeat(40), K.enter)
  await ui.until('not online yet (going online…)')
  ui.press('1')
  online.reject(new Error('the DHT could not be reached'))
  const frame = await ui.until('✗ could not go online: unexpected error: the DHT could not be reached')
  t.ok(statusBar(frame).startsWith('○ offline'), `the status bar: ${statusBar(frame)}`)
  t.ok(frame.includes('Osborne 1 schematics'), 'the saved timeline stays')
})

test('never wait for the network: the hosted node with an unreachable bootstrap shows the saved timeline before going online ends', async (t) => {
  const home = path.join(await tmpDir(t), 'home')
  const first = await makeNode(t, 'Ada')
  await first.post({ text: 'Kaypro II manual, first scan' })
  await first.close()
  const port = await closedPort()
  let hosted: HostedNode | null = null
  let settled = false
  let served = false
  const ui = await mountTui(t, {
    home: first.home,
    async open() {
      hosted = await openHostedNode(first.home, [`127.0.0.1:${port}`], path.join(home, 'downloads'), { btPort: '0' }, () => {
        served = true
        return Promise.resolve(() => Promise.resolve())
      })
      hosted.online.then(() => (settled = true), () => (settled = true))
      return hosted
    }
  })
  t.teardown(() => hosted?.close(), { order: -1 }) // after the UI's own close
  const frame = await ui.until('Kaypro II manual, first scan', 5000)
  t.absent(settled, 'going online has not ended (nothing answers on that port)')
  t.ok(statusBar(frame).includes('◌ going online…'), `the status bar: ${statusBar(frame)}`)
  t.ok(ui.c.node instanceof ChrysalisNode, 'the node is open')
  await waitFor(() => settled, 60_000, 'going online to end')
  t.ok(served, 'other commands are answered once going online has ended')
  await waitFor(() => statusBar(ui.frame()).includes('○ DHT not reachable · 0 peers'), 5000, `DHT not reachable: ${statusBar(ui.frame())}`)
  t.pass('then the status bar says the DHT is not reachable')
})

test('never wait for the network: quitting while going online ends it at once; nothing starts after the close', async (t) => {
  const node = await makeNode(t, 'Ada')
  await node.close()
  const port = await closedPort()
  let served = false
  const hosted = await openHostedNode(node.home, [`127.0.0.1:${port}`], path.join(node.home, 'downloads'), { btPort: '0' }, () => {
    served = true
    return Promise.resolve(() => Promise.resolve())
  })
  t.is(hosted.dhtNodes(), 0, 'nothing answers on that port')
  const closed = hosted.close().then(() => 'closed')
  t.is(await untilDeadline(closed, Date.now() + 5000), 'closed', 'closed within 5 s (going online alone takes longer)')
  await t.exception(hosted.online, /destroyed/i, 'going online ended, unfinished')
  t.absent(served, 'other commands are not answered by a closed node')
  // The home is free again: the node closed whole.
  const again = await ChrysalisNode.open({ home: node.home })
  await again.close()
})

/** A UDP port on loopback where nothing answers. */
async function closedPort(): Promise<number> {
  const sock = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve))
  const port = sock.address().port
  await new Promise<void>((resolve) => sock.close(() => resolve()))
  return port
}

test('look before you follow: Enter on a discovered person shows what discover said at once, then their posts from the network, not followed', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  await ada.setProfile({ bio: 'Kaypro manuals, scanned at 600 dpi' })
  await ada.post({ text: 'Kaypro II manual, 1982 #vintage-manuals' })
  const bob = await onlineNode(t, testnet, 'Bob')
  const ui = await mountTui(t, { home: bob.home, openNode: () => Promise.resolve(bob) })
  await ui.until('Bob')
  const me = await ada.whoami()
  ui.c.update((s) => ({
    ...s,
    tab: 'people',
    people: { ...s.people, section: 'discover', topic: 'vintage-manuals', found: [{ id: me.id, fingerprint: me.fingerprint, name: 'Ada', bio: me.bio, via: 'topic vintage-manuals', following: false }], foundSelected: 0 }
  }))
  await ui.until('(1 found)')
  ui.press(K.enter)
  const first = await ui.until('Kaypro manuals, scanned at 600 dpi')
  t.absent(first.includes('(no name)'), 'the name discover showed, at once')
  await ui.until('Kaypro II manual, 1982', 20_000)
  t.alike(await bob.followingList(), [], 'looking followed nobody')
})

test('cold start: the timeline the UI showed last is drawn before the node is even open, then the node\'s replaces it', async (t) => {
  const me = await makeNode(t, 'Ada')
  await me.post({ text: 'Kaypro II manual, saved for the next start' })
  const first = await mountTui(t, { home: me.home, openNode: () => Promise.resolve(me) })
  await first.until('saved for the next start')
  await first.c.close() // quitting saves what is shown too
  const st = await fs.stat(path.join(me.home, SAVED_FILE))
  t.is(st.mode & 0o777, 0o600, 'saved owner-only')

  await me.post({ text: 'Osborne 1 schematics, written since' })
  let open: (node: ChrysalisNode) => void = () => {}
  const opening = new Promise<ChrysalisNode>((resolve) => (open = resolve))
  const ui = await mountTui(t, { home: me.home, openNode: () => opening, background: true })
  await ui.until('saved for the next start')
  t.absent(ui.frame().includes('Opening your node'), 'no "opening" screen: the saved timeline is the first thing drawn')
  t.absent(ui.frame().includes('Osborne 1 schematics'), 'what was saved, before the node is open')
  t.ok(statusBar(ui.frame()).includes('going online'), 'and the status bar says the node is on its way')
  open(me)
  await ui.until('Osborne 1 schematics, written since')
  t.pass('the node\'s timeline replaced it once open')
})
