// Files where users expect them: a .torrent export and the identity backup go to the downloads
// folder unless the user types another path (the prompt shows the full path); a magnet is shown
// whole (a transfer's details, a post's attached files) and the message says whether copying it
// worked, and how (tmux's paste buffer inside tmux, else OSC 52 to the terminal).
import test from 'brittle'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { decryptBackup } from '../src/identity/backup.js'
import { copyText } from '../src/tui/clipboard.js'
import { fits, K, mountTui } from './helpers-tui.js'
import { dataFile, makeNode, tmpDir, waitFor, type Test } from './helpers.js'

/** Where the user runs chrysalis from, and a downloads folder elsewhere. */
async function dirs(t: Test): Promise<{ cwd: string; downloads: string }> {
  const root = await tmpDir(t)
  const cwd = path.join(root, 'cwd')
  const downloads = path.join(root, 'Downloads')
  await fs.mkdir(cwd)
  await fs.mkdir(downloads)
  return { cwd, downloads }
}

/** The magnet as shown: the lines under the "Magnet" title, up to `until`, joined. */
function shownMagnet(frame: string, until: RegExp): string {
  const lines = frame.split('\n')
  const from = lines.findIndex((l) => l.trim() === 'Magnet')
  const to = lines.findIndex((l, i) => i > from && until.test(l))
  return from < 0 || to < 0 ? '' : lines.slice(from + 1, to).map((l) => l.trim()).join('')
}

test('t: the .torrent goes to the downloads folder, the prompt shows the full path, Tab completes another; the message says the path written', async (t) => {
  const { cwd, downloads } = await dirs(t)
  const node = await makeNode(t, 'Ada')
  const { file } = await dataFile(cwd, 'kaypro-ii-manual.pdf', 70_000)
  await node.files.share(file)
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node), downloads, cwd })
  await ui.until('1 Timeline')
  ui.press('4')
  await ui.until('kaypro-ii-manual.pdf')
  ui.press('t')
  await ui.until('Export .torrent to')
  const wanted = path.join(downloads, 'kaypro-ii-manual.pdf.torrent')
  t.is(ui.c.state.prompt?.field.value, wanted, 'pre-filled with the full path in the downloads folder')
  ui.press(K.enter)
  const frame = await ui.until('Wrote')
  t.ok(frame.replace(/\s+/g, '').includes(`Wrote${wanted}`.replace(/\s+/g, '')), `the message names the full path: ${ui.c.state.message?.text}`)
  t.is((await fs.readFile(wanted)).subarray(0, 1).toString(), 'd', 'a bencoded .torrent in the downloads folder')
  t.absent(await fs.stat(path.join(cwd, 'kaypro-ii-manual.pdf.torrent')).catch(() => null), 'nothing in the working directory')
  // Another folder, typed with Tab completion.
  await fs.mkdir(path.join(cwd, 'torrents-for-the-club'))
  ui.press('t')
  await ui.until('Export .torrent to')
  ui.press(K.ctrlU, 'torr', K.tab)
  await waitFor(() => ui.c.state.prompt?.field.value === 'torrents-for-the-club/', 5000, 'Tab completed the folder')
  ui.press('k2.torrent', K.enter)
  const typed = `Wrote ${path.join(cwd, 'torrents-for-the-club', 'k2.torrent')}`
  await waitFor(() => ui.c.state.message?.text === typed, 5000, typed)
  t.ok(await fs.stat(path.join(cwd, 'torrents-for-the-club', 'k2.torrent')), 'a typed path is relative to the working directory')
})

test('Identity → b: the backup goes to the downloads folder, its full path pre-filled and said', async (t) => {
  const { cwd, downloads } = await dirs(t)
  const node = await makeNode(t, 'Ada')
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node), downloads, cwd })
  await ui.until('1 Timeline')
  ui.press('5', 'b')
  await ui.until('Export an encrypted backup')
  const wanted = path.join(downloads, 'chrysalis-identity.backup')
  t.is(ui.c.state.identity.backup?.file.value, wanted, 'pre-filled with the full path in the downloads folder')
  ui.press(K.enter, 'correct horse', K.enter, 'correct horse', K.enter)
  await ui.until('Wrote an encrypted backup', 30_000)
  t.ok(ui.c.state.message?.text.includes(wanted), `the message names the full path: ${ui.c.state.message?.text}`)
  t.is((await decryptBackup(await fs.readFile(wanted, 'utf-8'), 'correct horse')).id, node.identity.id, 'the backup restores this identity')
})

test('m on Transfers: the details open with the whole magnet; the message says whether the copy was possible', async (t) => {
  const { cwd, downloads } = await dirs(t)
  const node = await makeNode(t, 'Ada')
  const { file } = await dataFile(cwd, 'osborne-1-technical-reference-manual-with-schematics.pdf', 70_000)
  const shared = await node.files.share(file)
  const magnet = await node.files.magnet(shared.infohash)
  t.ok(magnet.length > 120, `a magnet longer than a wide terminal (${magnet.length})`)
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node), downloads, cwd, copy: 'failed' })
  await ui.until('1 Timeline')
  ui.press('4')
  await ui.until('osborne-1')
  ui.press('m')
  const frame = await ui.until('Copy not possible here; the magnet is shown above.')
  t.is(shownMagnet(frame, /^Peers/), magnet, 'the magnet, whole, wrapped')
  t.ok(fits(frame, 80, 24), 'fits 80×24')
  t.alike(ui.copied, [magnet], 'the copy was tried')
})

test('m in tmux: the message says the magnet is in tmux\'s paste buffer', async (t) => {
  const { cwd, downloads } = await dirs(t)
  const node = await makeNode(t, 'Ada')
  const { file } = await dataFile(cwd, 'pet-2001.pdf', 70_000)
  const shared = await node.files.share(file)
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node), downloads, cwd, copy: 'tmux' })
  await ui.until('1 Timeline')
  ui.press('4')
  await ui.until('pet-2001.pdf')
  ui.press('m')
  await ui.until("copied into tmux's paste buffer")
  t.alike(ui.copied, [await node.files.magnet(shared.infohash)], 'the magnet was handed to tmux')
})

test('a on a post with files: its attached files, the selected one\'s whole magnet; m copies it', async (t) => {
  const { cwd, downloads } = await dirs(t)
  const node = await makeNode(t, 'Ada')
  const { file } = await dataFile(cwd, 'commodore-pet-2001-users-manual-first-edition-scan.pdf', 70_000)
  const post = await node.post({ text: 'PET 2001 manual scan', attach: [file] })
  await node.post({ text: 'No files here' })
  const infohash = (await node.timeline({ limit: 5 })).posts.find((p) => p.ref === post.ref)!.attachments[0]!.infohash
  const magnet = await node.files.magnet(infohash)
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node), downloads, cwd })
  await ui.until('No files here')
  ui.press('a')
  await ui.until('This post has no attached files.')
  ui.press('j')
  await ui.until('[a] ▣ commodore-pet-2001')
  ui.press('a')
  await ui.until('› Files')
  await waitFor(() => shownMagnet(ui.frame(), /^f fetches/) === magnet, 5000, 'the whole magnet')
  const frame = ui.frame()
  t.ok(frame.includes('commodore-pet-2001-users-manual-first-edition-scan.pdf'), 'the file is listed')
  t.ok(frame.includes(`infohash ${infohash}`), 'its infohash')
  t.ok(fits(frame, 80, 24), 'fits 80×24')
  ui.press('m')
  await ui.until('Magnet sent to the clipboard (OSC 52)')
  t.alike(ui.copied, [magnet], 'the magnet went to the clipboard')
  ui.press(K.esc)
  await waitFor(() => ui.c.state.stack.length === 0, 5000, 'Esc goes back')
  t.pass('Esc goes back to the timeline')
})

test('copyText: in tmux, into its paste buffer (a real tmux server); elsewhere OSC 52; failing tmux: not possible', async (t) => {
  const text = 'magnet:?xt=urn:btmh:1220' + 'ab'.repeat(32) + '&dn=Kaypro'
  const written: string[] = []
  t.is(await copyText(text, { env: { TERM: 'xterm' }, write: (d) => void written.push(d) }), 'terminal', 'outside tmux: sent as OSC 52')
  t.alike(written, [`\x1b]52;c;${Buffer.from(text).toString('base64')}\x07`], 'the OSC 52 sequence')
  t.is(await copyText(text, { env: { TMUX: '/nowhere,1,0' }, write: (d) => void written.push(d), tmux: () => Promise.reject(new Error('no server')) }), 'failed', 'tmux failing: not possible')
  t.is(await copyText(text, { env: { TERM: 'dumb' }, write: (d) => void written.push(d) }), 'failed', 'a dumb terminal: not possible')
  t.is(written.length, 1, 'nothing written to the terminal when the copy is not possible')

  const socket = `chrysalis-copy-${process.pid}`
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf-8' })
  tmux('new-session', '-d', '-s', 'copy', 'sleep 60')
  t.teardown(() => void tmux('kill-server'))
  const socketPath = tmux('display-message', '-p', '-t', 'copy', '#{socket_path}').trim()
  t.is(await copyText(text, { env: { ...process.env, TMUX: `${socketPath},1,0` }, write: (d) => void written.push(d) }), 'tmux', 'in tmux: its paste buffer')
  t.is(tmux('show-buffer'), text, "tmux's paste buffer holds the magnet")
})
