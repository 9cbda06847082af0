// The terminal UI in ink-testing-library's fake terminal (80×24), driving real nodes: offline
// for the screens that need no network, on a loopback testnet for discovery, notifications
// and transfers. Keys are also sent in bursts, as a fast typist or tmux sends them.
import test from 'brittle'
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { ChrysalisNode } from '../src/node/node.js'
import { decryptBackup } from '../src/identity/backup.js'
import { loadIdentity, saveIdentity } from '../src/identity/home.js'
import { Identity } from '../src/identity/keys.js'
import { runTui } from '../src/tui/run.js'
import { makeNode, tmpDir, waitFor, type Test } from './helpers.js'
import { fits, K, mountTui, type Tui } from './helpers-tui.js'

function opener(t: Test, home: string, testnet?: Testnet): () => Promise<ChrysalisNode> {
  return async () => {
    const node = await ChrysalisNode.open({ home })
    t.teardown(() => node.close(), { order: -1 })
    if (testnet) {
      await node.online({ dht: testnet.createNode() })
      node.live()
    }
    return node
  }
}

/** A home with a new identity and no profile, as a newcomer has after the first run. */
async function newHome(t: Test): Promise<string> {
  const home = path.join(await tmpDir(t), 'home')
  await saveIdentity(home, Identity.generate())
  return home
}

/** A TUI over an existing node (its identity already made by makeNode). */
async function tuiFor(t: Test, node: ChrysalisNode, opts: { downloads?: string; cwd?: string } = {}): Promise<Tui> {
  return mountTui(t, { home: node.home, openNode: () => Promise.resolve(node), ...opts })
}

test('first run: create an identity, see the recovery phrase once, confirm, land on the timeline', async (t) => {
  const home = path.join(await tmpDir(t), 'home')
  const ui = await mountTui(t, { home, openNode: opener(t, home) })
  await ui.until('Create a new identity')
  t.ok(fits(ui.frame(), 80, 24), 'the first screen fits 80×24')
  // One burst: choose, name, Tab, bio, Enter — as tmux or a fast typist sends it.
  ui.press('n')
  await ui.until('Create your identity')
  ui.press('Kaypro Fan\tI collect CP/M manuals\r')
  const phrase = await ui.until('Press y once')
  const words = [...phrase.matchAll(/\d+\. ([a-z]+)/g)].map((m) => m[1])
  t.is(words.length, 24, 'the 24 words are shown')
  t.ok(fits(phrase, 80, 24), 'the phrase screen fits 80×24')
  t.ok(await fs.stat(path.join(home, 'init.json')).catch(() => null), 'until confirmed, the home says the phrase may be unseen')
  ui.press('y')
  await ui.until('Your timeline is empty')
  await ui.until('Welcome, Kaypro Fan')
  await waitFor(() => fs.stat(path.join(home, 'init.json')).then(() => false, () => true), 10_000, 'the init marker removed')
  const identity = await loadIdentity(home)
  t.is(ui.c.state.me?.id, identity.id, 'the identity shown is the one stored')
  await waitFor(() => ui.c.state.me?.name === 'Kaypro Fan')
  t.is(ui.c.state.me?.bio, 'I collect CP/M manuals')
  // As the phrase screen numbers them: a bare word could be part of other text ("fan", "empty").
  t.absent(ui.frame().includes(`1. ${words[0]!}`) || ui.frame().includes(`2. ${words[1]!}`), 'the phrase is not on screen any more')
})

test('first run: a bad name is refused in place; restoring from a bad phrase says why', async (t) => {
  const home = path.join(await tmpDir(t), 'home')
  const ui = await mountTui(t, { home, openNode: opener(t, home) })
  await ui.until('Create a new identity')
  ui.press('n')
  await ui.until('Create your identity')
  ui.press(K.tab, K.enter) // no name: Enter on the bio field
  await ui.until(/✗ .*name must not be empty/)
  t.absent(/at .+\(.+:\d+:\d+\)/.test(ui.frame()), 'no stack trace')
  ui.press(K.esc)
  await ui.until('Restore from the recovery phrase')
  ui.press('r')
  await ui.until('Type or paste the 24 words')
  ui.press('abandon ability able\r')
  await ui.until('✗')
  t.is(ui.c.state.mode, 'setup', 'still on the first-run screens')
  t.absent(await fs.stat(path.join(home, 'identity.json')).catch(() => null), 'nothing was written')
})

test('first run: restore from the recovery phrase', async (t) => {
  const source = await makeNode(t, 'Original')
  const seedPhrase = (await import('../src/identity/phrase.js')).seedToPhrase((await loadIdentity(source.home)).exportSeed())
  const home = path.join(await tmpDir(t), 'home')
  const ui = await mountTui(t, { home, openNode: opener(t, home) })
  await ui.until('Create a new identity')
  ui.press('r')
  await ui.until('Type or paste')
  ui.press(seedPhrase, K.enter)
  await ui.until('Restored')
  t.is(ui.c.state.me?.id, source.identity.id, 'the same identity')
  ui.press('5')
  await ui.until('restoring: posting off')
  await ui.until('Restored: posting is off')
  ui.press('n')
  await ui.until('You can post now')
  t.absent(ui.frame().includes('restoring: posting off'), 'posting is on again')
})

test('timeline: windowed, moves with j/k, PgDn, g/G; a burst of keys opens the right thread', async (t) => {
  const node = await makeNode(t, 'Ada')
  for (let i = 0; i < 40; i++) await node.post({ text: `manual number ${i} #vintage-manuals` })
  const ui = await tuiFor(t, node)
  await ui.until('manual number 39')
  t.ok(ui.frame().includes('1–9 of 40'), 'only a window of the 40 posts is drawn')
  t.ok(fits(ui.frame(), 80, 24), 'fits 80×24')
  // Down Down Down Enter in one write: each key sees the state the one before left.
  ui.press('jjj\r')
  await ui.until('Thread')
  t.is(ui.c.state.stack[0]?.kind === 'thread' && ui.c.state.stack[0].ref, ui.c.state.timeline.posts[3]!.ref, 'the fourth post opened')
  t.ok(ui.frame().includes('manual number 36'))
  ui.press(K.esc, K.down, K.down, K.up) // Esc and arrows together: Esc still goes back
  await waitFor(() => ui.c.state.stack.length === 0 && ui.c.state.timeline.selected === 4, 5000, 'back on the timeline, on the fifth post')
  ui.press('G')
  await ui.until('manual number 0')
  t.is(ui.c.state.timeline.selected, 39)
  ui.press('g')
  await waitFor(() => ui.c.state.timeline.selected === 0)
  ui.press(K.pageDown)
  await waitFor(() => ui.c.state.timeline.selected > 1)
  await ui.until(`manual number ${39 - ui.c.state.timeline.selected}`)
})

test('thread: r pressed while the thread still loads opens the reply, not nothing', async (t) => {
  const node = await makeNode(t, 'Ada')
  const post = await node.post({ text: 'Kaypro 4 technical manual #vintage-manuals' })
  let release = (): void => {}
  const loaded = new Promise<void>((resolve) => (release = resolve))
  // The same node, with a thread that takes as long as the test says (a slow disk or a far peer).
  const slow = new Proxy(node, {
    get(target, prop, receiver) {
      if (prop === 'thread') return async (ref: string) => (await loaded, target.thread(ref))
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? (v.bind(target) as unknown) : v
    }
  })
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(slow) })
  await ui.until('Kaypro 4 technical manual')
  ui.press('\r')
  await waitFor(() => ui.c.state.stack[0]?.kind === 'thread', 5000, 'the thread screen')
  ui.press('r')
  await ui.until('Reply to')
  release()
  ui.press('Is the schematic included?\r')
  await ui.until('Commented')
  t.is((await node.thread(post.ref)).comments[0]?.text, 'Is the schematic included?')
})

test('thread: reply inline, edit and delete your own, comments as a tree', async (t) => {
  const node = await makeNode(t, 'Ada')
  const post = await node.post({ text: 'Osborne 1 service manual scan #vintage-manuals' })
  const ui = await tuiFor(t, node)
  await ui.until('Osborne 1 service manual')
  ui.press('r')
  await ui.until('Reply to')
  ui.press('Which revision is it?\r')
  await ui.until('Which revision is it?')
  await ui.until('Commented')
  // Reply to the reply: a second level in the tree.
  ui.press('r')
  await ui.until('Reply to')
  ui.press('Rev B, 1982.\r')
  await ui.until('Rev B, 1982.')
  const thread = await node.thread(post.ref)
  t.is(thread.count, 2)
  t.is(thread.comments[0]!.children[0]!.text, 'Rev B, 1982.', 'the second reply answers the first')
  // Edit the selected (newest) comment: Ctrl-U clears the line, Ctrl-S saves.
  ui.press('e')
  await ui.until('Edit')
  ui.press(K.ctrlU, 'Rev C, 1983.', K.ctrlS)
  await ui.until('Rev C, 1983.')
  await ui.until('edited')
  ui.press('d')
  await ui.until('Delete this post?')
  ui.press('y')
  await ui.until('(deleted by its author)')
  t.ok((await node.thread(post.ref)).comments[0]!.children[0]!.deleted, 'deleted in the feed')
})

test('compose: multi-line text, topics, an attachment with path completion and hashing, then post', async (t) => {
  const node = await makeNode(t, 'Ada')
  const dir = await tmpDir(t)
  await fs.writeFile(path.join(dir, 'kaypro-ii-manual.pdf'), crypto.randomBytes(3 * 1024 * 1024))
  const ui = await tuiFor(t, node, { cwd: dir })
  await ui.until('Your timeline is empty')
  ui.press('c')
  await ui.until('New post')
  ui.press('Kaypro II manual\r', 'scanned at 600 dpi')
  ui.press(K.tab, 'vintage-manuals kaypro', K.tab, 'kay', K.tab)
  await waitFor(() => {
    const c = ui.c.state.stack[0]
    return c?.kind === 'compose' && c.attach.value === 'kaypro-ii-manual.pdf'
  })
  ui.press(K.enter)
  await ui.until('ready, shared as')
  t.ok(fits(ui.frame(), 80, 24), 'compose fits 80×24')
  ui.press(K.ctrlS)
  await ui.until('Posted')
  const [post] = (await node.timeline()).posts
  t.is(post?.text, 'Kaypro II manual\nscanned at 600 dpi', 'multi-line text')
  t.alike(post?.topics.sort(), ['kaypro', 'vintage-manuals'])
  t.is(post?.attachments[0]?.name, 'kaypro-ii-manual.pdf')
  t.is(node.files.list()[0]?.role, 'shared', 'the file is seeded')
  await ui.until('▣ kaypro-ii-manual.pdf 3.0 MiB')
})

test('compose: an empty post or a missing file is refused in place, the draft is kept', async (t) => {
  const node = await makeNode(t, 'Ada')
  const dir = await tmpDir(t)
  const ui = await tuiFor(t, node, { cwd: dir })
  await ui.until('Your timeline is empty')
  ui.press('c')
  await ui.until('New post')
  ui.press(K.ctrlS)
  await ui.until('✗ write something first')
  ui.press('draft text', K.tab, K.tab, 'no-such-file.pdf\r')
  await ui.until('✗ no-such-file.pdf')
  ui.press(K.esc)
  await ui.until('Draft kept')
  ui.press('c')
  await ui.until('draft text')
  t.is((await node.timeline()).posts.length, 0, 'nothing was posted')
})

test('people: follow by pasted ID, open a profile, unfollow, block; a bad ID says why', async (t) => {
  const node = await makeNode(t, 'Ada')
  const other = await makeNode(t, 'Grace Osborne')
  const ui = await tuiFor(t, node)
  await ui.until('1 Timeline')
  ui.press('2')
  await ui.until('You follow nobody yet')
  ui.press('i')
  await ui.until('Follow by ID')
  ui.press('not-an-id\r')
  await ui.until('✗')
  t.is((await node.followingList()).length, 0)
  ui.press('i')
  await ui.until('Follow by ID')
  ui.press(other.identity.id, K.enter)
  await ui.until('Following (1)')
  t.is((await node.followingList())[0]?.id, other.identity.id)
  ui.press(K.enter)
  await ui.until('Profile')
  await ui.until(`ID ${other.identity.id}`)
  await ui.until('following')
  ui.press('f')
  await ui.until('not following')
  t.is((await node.followingList()).length, 0, 'unfollowed')
  ui.press('b')
  await ui.until('blocked')
  t.is((await node.blockedList())[0]?.id, other.identity.id, 'blocked')
})

test('discover live on a topic, follow, posts arrive; a comment from a stranger becomes a notification', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const collector = await makeNode(t, 'Lin Commodore')
  await collector.online({ dht: testnet.createNode() })
  collector.live()
  await collector.discover('vintage-manuals', { timeoutMs: 500 })
  const post = await collector.post({ text: 'PET 2001 user manual #vintage-manuals' })

  const home = await newHome(t)
  const ui = await mountTui(t, { home, openNode: opener(t, home, testnet) })
  await ui.until('1 Timeline')
  ui.press('2', 'd')
  await ui.until('Discover people by interest topic')
  ui.press(K.enter) // the suggested topic, vintage-manuals
  await ui.until('Lin Commodore', 20_000)
  ui.press('f')
  await ui.until('· following')
  ui.press('1')
  await ui.until('PET 2001 user manual', 20_000)
  // The collector comments on our post: it arrives as a notification, with a badge.
  const node = ui.c.node as ChrysalisNode
  const mine = await node.post({ text: 'Looking for a VIC-20 programmer reference' })
  await collector.follow(node.identity.publicKey)
  await waitFor(async () => (await collector.getPost(mine.ref)) !== null, 20_000, 'the collector sees our post')
  await collector.comment(mine.ref, 'I have one, will scan it tonight')
  await ui.until('Notifications (1)', 20_000)
  ui.press('3')
  await ui.until('will scan it tonight')
  ui.press(K.enter)
  await ui.until('Thread')
  const top = ui.c.state.stack[0]
  t.ok(top?.kind === 'thread' && top.selected === 1, 'the comment itself is selected')
  ui.press('e')
  await ui.until('You can only edit your own posts.')
  t.is(ui.c.state.prompt, null, "no editor opens on someone else's comment")
  t.is(post.author, collector.identity.id)
})

test('transfers: fetch from a post, progress to 100%, pause/resume, copy magnet, export .torrent, cancel', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const seeder = await makeNode(t, 'Grace Osborne')
  await seeder.online({ dht: testnet.createNode() })
  const data = crypto.randomBytes(2 * 1024 * 1024 + 777)
  await fs.writeFile(path.join(dir, 'osborne-1-manual.pdf'), data)
  await seeder.post({ text: 'Osborne 1 manual #vintage-manuals', attach: [path.join(dir, 'osborne-1-manual.pdf')] })

  const home = await newHome(t)
  const downloads = path.join(await tmpDir(t), 'downloads')
  await fs.mkdir(downloads)
  const ui = await mountTui(t, { home, openNode: opener(t, home, testnet), downloads, cwd: downloads })
  await ui.until('1 Timeline')
  ui.press('2', 'i')
  await ui.until('Follow by ID')
  ui.press(seeder.identity.id, K.enter)
  ui.press('1')
  await ui.until('Osborne 1 manual', 20_000)
  await ui.until('1 peer', 20_000) // availability: the seeder announces the torrent
  ui.press('f')
  await ui.until('Fetched osborne-1-manual.pdf', 30_000)
  t.alike(await fs.readFile(path.join(downloads, 'osborne-1-manual.pdf')), data, 'the bytes arrived, verified')
  ui.press('4')
  await ui.until('100%')
  await ui.until(`→ ${path.join(downloads, 'osborne-1-manual.pdf')}`)
  t.ok(fits(ui.frame(), 80, 24), 'transfers fit 80×24')
  ui.press('p')
  await ui.until('osborne-1-manual.pdf: paused')
  ui.press('p')
  await ui.until('osborne-1-manual.pdf: seeding')
  ui.press('m')
  await ui.until('magnet:?xt=urn:btmh:1220')
  t.absent(/↓ -/.test(ui.frame()), 'rates are never negative after a pause')
  t.ok(ui.copied[0]?.startsWith('magnet:?xt=urn:btmh:1220'), 'the magnet went to the clipboard')
  ui.press('t')
  await ui.until('Export .torrent to')
  ui.press(K.enter)
  await ui.until('Wrote')
  const torrent = await fs.readFile(path.join(downloads, 'osborne-1-manual.pdf.torrent'))
  t.is(torrent.subarray(0, 1).toString(), 'd', 'a bencoded .torrent')
  ui.press('t', K.enter)
  await ui.until('choose another file')
  t.ok(ui.c.state.message?.text.includes('already exists'), 'never over an existing file; the whole message is shown')
  ui.press('x')
  await ui.until('Stop and forget')
  ui.press('y')
  await ui.until('Nothing shared or fetched yet')
  t.ok(await fs.stat(path.join(downloads, 'osborne-1-manual.pdf')), 'the complete file stays')
})

test('identity: edit the profile, export an encrypted backup', async (t) => {
  const node = await makeNode(t, 'Ada')
  const dir = await tmpDir(t)
  const ui = await tuiFor(t, node, { downloads: dir })
  await ui.until('1 Timeline')
  ui.press('5')
  await ui.until(node.identity.id)
  t.ok(fits(ui.frame(), 80, 24), 'fits 80×24')
  ui.press('e')
  await ui.until('Edit profile')
  ui.press(K.ctrlU, 'Ada Kaypro', K.tab, K.ctrlU, 'Kaypro and CP/M', K.enter)
  await ui.until('Profile saved')
  t.is((await node.whoami()).name, 'Ada Kaypro')
  t.is((await node.whoami()).bio, 'Kaypro and CP/M')
  ui.press('b')
  await ui.until('Export an encrypted backup')
  ui.press(K.enter, 'correct horse', K.enter, 'wrong horse', K.enter)
  await ui.until('✗ the two passphrases differ')
  ui.press('correct horse', K.enter, 'correct horse', K.enter) // the passphrase fields were cleared
  await ui.until('Wrote an encrypted backup', 30_000)
  const text = await fs.readFile(path.join(dir, 'chrysalis-identity.backup'), 'utf-8') // in the downloads folder
  t.is((await decryptBackup(text, 'correct horse')).id, node.identity.id, 'the backup restores this identity')
  t.absent(ui.frame().includes('correct horse'), 'the passphrase is never shown')
})

test('identity: w shows the recovery words after a y/n question, any key hides them', async (t) => {
  const node = await makeNode(t, 'Ada')
  const expected = (await import('../src/identity/phrase.js')).seedToPhrase((await loadIdentity(node.home)).exportSeed()).split(' ')
  const ui = await tuiFor(t, node)
  await ui.until('1 Timeline')
  ui.press('5')
  await ui.until('w recovery words')
  ui.press('w')
  await ui.until('Show the recovery phrase? Anyone who sees it can become you.')
  ui.press('n')
  await waitFor(() => ui.c.state.confirm === null)
  t.absent(ui.frame().includes(` ${expected[0]!} `), 'n: no words')
  ui.press('w')
  await ui.until('Show the recovery phrase?')
  ui.press('y')
  const frame = await ui.until('Recovery phrase')
  const words = [...frame.matchAll(/(\d+)\. ([a-z]+)/g)].sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => m[2])
  t.alike(words, expected, 'the 24 words of this identity, in order')
  t.ok(fits(frame, 80, 24), 'fits 80×24')
  ui.press('q') // any key hides them, and q here does not quit
  await waitFor(() => ui.c.state.identity.phrase === null)
  t.absent(ui.frame().includes('Recovery phrase'), 'hidden')
  t.absent(ui.exited(), 'still running')
})

test('help overlay, footer keys, quit; NO_COLOR frames carry no colour; resize redraws', async (t) => {
  const node = await makeNode(t, 'Ada')
  await node.post({ text: 'hello' })
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node), env: { NO_COLOR: '1' } })
  await ui.until('hello')
  t.ok(ui.frame().includes('? help'), 'the footer lists keys')
  // eslint-disable-next-line no-control-regex
  t.absent(/\u001b\[3[0-9]m|\u001b\[9[0-9]m/.test(ui.frames().join('')), 'NO_COLOR: no colour codes in any frame')
  ui.press('?')
  await ui.until('Everywhere')
  t.ok(ui.frame().includes('Timeline') && ui.frame().includes('reload') && ui.frame().includes('compose a post'), "the timeline's keys, and those that hold everywhere")
  t.ok(fits(ui.frame(), 80, 24), 'help fits 80×24')
  ui.press(K.esc)
  await waitFor(() => !ui.c.state.help)
  ui.resize(120, 40)
  await waitFor(() => ui.c.state.size.columns === 120)
  ui.resize(80, 24)
  await waitFor(() => ui.c.state.size.columns === 80)
  t.ok(fits(ui.frame(), 80, 24), 'back to 80×24')
  ui.press('q')
  await waitFor(() => ui.exited())
  t.pass('q quits')
})

test('untrusted text cannot reach the terminal as escape sequences', async (t) => {
  const node = await makeNode(t, 'Ada')
  await node.post({ text: 'evil \u001b]52;c;aGk=\u0007 \u001b[2J text' })
  const ui = await tuiFor(t, node)
  await ui.until('evil')
  t.absent(ui.frame().includes('\u001b]52'), 'no OSC sequence')
  t.absent(ui.frame().includes('\u001b[2J'), 'no clear-screen sequence')
})

test('without a terminal: one line, no raw-mode error', async (t) => {
  const stdin = Object.assign(new (await import('node:stream')).PassThrough(), { isTTY: false }) as unknown as NodeJS.ReadStream
  await t.exception(() => runTui({ home: '/nonexistent', downloads: '/tmp', openNode: () => Promise.reject(new Error('never')), stdin }), /needs an interactive terminal/)
})

test('the executables, without a terminal: `chrysalis`, `chrysalis tui` and the bundle say so in one line', async (t) => {
  const { BIN, BUNDLE: bundle, oneLineError, run } = await import('./helpers-cli.js')
  const home = path.join(await tmpDir(t), 'home')
  const exec = (bin: string, args: string[]) => run(['--home', home, ...args], { bin })
  for (const [file, args] of [[BIN, []], [BIN, ['tui']], [bundle, []], [bundle, ['tui']]] as const) {
    oneLineError(t, await exec(file, [...args]), 2, /the terminal UI needs an interactive terminal/)
  }
  const help = await exec(bundle, ['--help'])
  t.is(help.code, 0)
  t.ok(help.stdout.includes('tui [--downloads DIR]'), 'the bundle runs commands too')
})

test('a node that cannot open (another one runs for the home): the reason in place, q quits', async (t) => {
  const node = await makeNode(t, 'Ada')
  const { ChrysalisError } = await import('../src/errors.js')
  const ui = await mountTui(t, {
    home: node.home,
    openNode: () => Promise.reject(new ChrysalisError('HOME_LOCKED', `a chrysalis node is already running for ${node.home}; stop it first`))
  })
  await ui.until('could not be opened')
  await ui.until(/already running for[\s\S]*stop\s+it first/)
  t.absent(ui.frame().includes('Create a new identity'), 'not offered to create an identity over the existing one')
  ui.press('q')
  await waitFor(() => ui.exited())
})
