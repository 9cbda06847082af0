import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { displayLine, displayText } from '../src/display.js'
import { clean } from '../src/tui/text.js'
import { tmpDir } from './helpers.js'
import { daemon, freeUdpPort, json, run } from './helpers-cli.js'

// What a terminal would act on: C0 but newline, DEL, C1, line/paragraph separators, bidi
// embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

const TITLE = '\x1b]0;pwned\x07' // OSC: set the window title
const CLEAR = '\x1b[2J\x1b[H' // CSI: clear the screen
const C1 = '\u009b31m' // 8-bit CSI
const BIDI = '\u202e\u2066'

test('display: controls, C1 and bidi overrides become spaces; newlines stay in text, fold in lines', (t) => {
  t.is(displayText(`a${TITLE}b\nc${CLEAR}\rd${C1}${BIDI}e\tf`), 'a ]0;pwned b\nc [2J [H d 31m  e f')
  t.is(displayLine('Eve\nEvil'), 'Eve Evil')
  t.absent(UNSAFE.test(displayText('\x00\x08\x0b\x0c\x1b\x7f\x85\x9f\u2028\u2029\u202a\u2069')))
  t.is(displayText('Kaypro II — 1982 ✓ ünïcode'), 'Kaypro II — 1982 ✓ ünïcode', 'printable text is untouched')
  t.is(clean, displayText, 'the TUI uses the same function')
})

test('cli: a hostile feed\'s escape sequences never reach the terminal from timeline, feed, thread, discover, fetch or downloads; --json stays exact', async (t) => {
  const dir = await tmpDir(t)
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  const net = ['--bootstrap', (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()]
  const home = (n: string): string[] => ['--home', path.join(dir, n)]

  // Eve's bio, post and comment carry escape sequences; her name and her scan's file name a
  // right-to-left override (the "scan‮fdp.exe" trick; control characters are refused there).
  const bio = `Collector${TITLE}${BIDI}`
  const text = `Kaypro manual${CLEAR}${TITLE}\r${C1} #vintage-manuals`
  const eve = await json<{ id: string }>(t, [...home('e'), 'init', '--name', 'Eve\u202eevE', '--bio', bio])
  const scan = path.join(dir, 'scan\u202efdp.exe')
  await fs.writeFile(scan, Buffer.alloc(64 * 1024, 7))
  const post = await json<{ ref: string; attachments: Array<{ name: string }> }>(t, [...home('e'), 'post', text, '--attach', scan])
  t.is(post.attachments[0]?.name, 'scan\u202efdp.exe')
  await json(t, [...home('e'), 'comment', post.ref, `ring${'\x07'.repeat(3)}${CLEAR}`])
  await json(t, [...home('e'), ...net, 'discover', 'vintage-manuals', '--timeout', '2'])
  const serve = daemon(t, [...home('e'), ...net, 'serve'])
  await serve.waitFor(/serving /)

  await json(t, [...home('b'), 'init', '--name', 'Bob'])
  await json(t, [...home('b'), 'follow', eve.id])
  const synced = await run([...home('b'), ...net, 'sync', '--timeout', '15'])
  t.is(synced.code, 0, synced.stderr)
  const exact = await json<{ posts: Array<{ text: string }> }>(t, [...home('b'), 'timeline'])
  t.is(exact.posts[0]?.text, text, '--json keeps the text exact')

  const outputs: Array<[string, string[]]> = [
    ['sync', []],
    ['timeline', [...home('b'), 'timeline']],
    ['feed', [...home('b'), 'feed', eve.id]],
    ['thread', [...home('b'), 'thread', post.ref]],
    ['discover', [...home('b'), ...net, 'discover', 'vintage-manuals', '--timeout', '5']],
    ['fetch', [...home('b'), ...net, 'fetch', post.ref, '--out', path.join(dir, 'files'), '--timeout', '30']],
    ['downloads', [...home('b'), 'downloads']]
  ]
  for (const [what, args] of outputs) {
    const r = what === 'sync' ? synced : await run(args)
    t.is(r.code, 0, `${what}: ${r.stderr}`)
    t.ok(r.stdout.length > 0, `${what} printed something`)
    t.absent(UNSAFE.test(r.stdout), `${what}: no control or bidi character on stdout`)
    t.absent(UNSAFE.test(r.stderr), `${what}: none on stderr`)
  }
  const tl = await run([...home('b'), 'timeline'])
  t.ok(tl.stdout.includes('Kaypro manual'), 'the readable text is still there')
  const th = await run([...home('b'), 'thread', post.ref])
  t.ok(th.stdout.includes('ring'), 'the comment is shown, defanged')
})
