import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Writable } from 'node:stream'
import { main } from '../src/cli/main.js'
import { ALL, GROUPS } from '../src/cli/help.js'
import { ProgressLine } from '../src/cli/progress.js'
import { tmpDir } from './helpers.js'
import { daemon, freeUdpPort, json, oneLineError, run } from './helpers-cli.js'

// What scripts and people meet at the edges: help, usage errors, posts that are not there,
// progress lines, long silent waits.

/** An IO pair recording every write in order; stderr a terminal when `tty`. */
function recorder(tty: boolean, columns?: number) {
  const writes: Array<{ to: 'out' | 'err'; text: string }> = []
  const sink = (to: 'out' | 'err'): Writable =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        writes.push({ to, text: chunk.toString() })
        cb()
      }
    })
  const stderr = Object.assign(sink('err'), { isTTY: tty, ...(columns !== undefined ? { columns } : {}) })
  return { io: { stdout: sink('out'), stderr }, writes, text: (to: 'out' | 'err') => writes.filter((w) => w.to === to).map((w) => w.text).join('') }
}

function linesWithin80(t: { ok(v: unknown, m?: string): void }, text: string, what: string): void {
  const long = text.split('\n').filter((l) => l.length > 80)
  t.ok(long.length === 0, `${what}: every line within 80 columns${long.length ? `, not: ${long[0]}` : ''}`)
}

test('cli: --help for every command, subcommand and group: exit 0, usage, summary, options, 80 columns', async (t) => {
  const global = recorder(false)
  t.is(await main(['--help'], global.io), 0, '--help: exit 0')
  linesWithin80(t, global.text('out'), 'chrysalis --help')
  for (const name of Object.keys(ALL)) t.ok(global.text('out').includes(`  ${name} `), `--help lists ${name}`)

  for (const [name, command] of Object.entries(ALL)) {
    const r = recorder(false)
    const code = await main([...name.split(' '), '--help'], r.io)
    const out = r.text('out')
    t.is(code, 0, `${name} --help: exit 0 ${r.text('err')}`)
    t.ok(out.startsWith(`usage: chrysalis ${name}`), `${name} --help: its usage`)
    t.ok(out.replace(/\s+/g, ' ').includes(command.summary), `${name} --help: its summary`)
    for (const option of Object.keys(command.options ?? {})) t.ok(out.includes(`--${option}`), `${name} --help: --${option}`)
    linesWithin80(t, out, `${name} --help`)
  }

  for (const group of Object.keys(GROUPS)) {
    const r = recorder(false)
    t.is(await main([group, '--help'], r.io), 0, `${group} --help: exit 0 ${r.text('err')}`)
    for (const name of Object.keys(ALL).filter((n) => n.startsWith(group + ' '))) t.ok(r.text('out').includes(name), `${group} --help lists ${name}`)
    linesWithin80(t, r.text('out'), `${group} --help`)
  }

  // The real executable, as a user types it.
  const identity = await run(['identity', '--help'])
  t.is(identity.code, 0, `identity --help: exit 0 ${identity.stderr}`)
  t.ok(identity.stdout.includes('identity export --out FILE'), 'identity --help: its subcommands')
  const exportHelp = await run(['-h', 'identity', 'export'])
  t.is(exportHelp.code, 0)
  t.ok(/--force +replace FILE if it exists/.test(exportHelp.stdout), `identity export -h: its options: ${exportHelp.stdout}`)
  oneLineError(t, await run(['identity']), 2, /identity needs a subcommand: export, import, phrase, never-posted; run `chrysalis identity --help`/)
  oneLineError(t, await run(['torrent']), 2, /torrent needs a subcommand: show, export/)
  oneLineError(t, await run(['torrent', 'frob']), 2, /unknown command "torrent frob"; run `chrysalis torrent --help`/)
})

test('cli: every bad option value is one line and exit 2, with the option\'s own message', async (t) => {
  const home = path.join(await tmpDir(t), 'h')
  await json(t, ['--home', home, 'init', '--name', 'Ada'])
  const h = ['--home', home]
  const nowhere = ['--bootstrap', '127.0.0.1:9']
  const cases: Array<[string[], RegExp]> = [
    [['feed', '--limit', '-5'], /^chrysalis: --limit takes a whole number from 1 to 1000, not "-5"\n$/],
    [['timeline', '--limit', '-5'], /--limit takes a whole number from 1 to 1000, not "-5"/],
    [['notifications', '--limit', '0'], /--limit takes a whole number from 1 to 1000, not "0"/],
    [['timeline', '--limit', '2.5'], /--limit takes a whole number/],
    [['timeline', '--limit', '0x10'], /--limit takes a whole number from 1 to 1000, not "0x10"/],
    [[...nowhere, 'sync', '--timeout', '1e3'], /--timeout takes seconds, from 0\.1 to 3600, not "1e3"/],
    [['feed', '--limit'], /^chrysalis: --limit needs a value; run `chrysalis feed --help`\n$/],
    [['feed', '--before', '--limit', '3'], /--before needs a value; for one that starts with "-" write --before=VALUE/],
    [[...nowhere, 'sync', '--timeout', '-5'], /--timeout takes seconds, from 0\.1 to 3600, not "-5"/],
    [[...nowhere, 'discover', 'kaypro', '--timeout', '-0.5'], /--timeout takes seconds, from 0\.1 to 3600, not "-0\.5"/],
    [[...nowhere, 'fetch', 'ab'.repeat(32), '--timeout', '-1'], /--timeout takes seconds, from 0\.1 to 3600, not "-1"/],
    [['--bt-port', '-5', 'status'], /--bt-port takes a TCP port number from 0 to 65535 \(0: any free port\), not "-5"/],
    [['status', '--bt-port', '70000'], /--bt-port takes a TCP port number/],
    [['bootstrap', '--port', '-5'], /--port takes a port number from 1 to 65535, not "-5"/],
    [['bootstrap', '--mainline', '--mainline-port', '-1'], /--mainline-port takes a port number from 1 to 65535, not "-1"/],
    [['whoami', '--json=3'], /--json takes no value; run `chrysalis whoami --help`/],
    [['post', 'hi', '-x'], /unknown option '-x'; run `chrysalis post --help`/]
  ]
  for (const [args, pattern] of cases) {
    const r = await run([...h, ...args])
    oneLineError(t, r, 2, pattern)
    t.absent(/Did you forget|To specify/.test(r.stderr), `${args.join(' ')}: not parseArgs' own text`)
  }
  const bad = await run(['--json', ...h, 'feed', '--limit', '-5'])
  t.is((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'USAGE', '--json: a USAGE error')
})

test('cli: thread of a post that is not here exits 1 (NOT_FOUND) with what to do; feed of someone not followed says how to get it', async (t) => {
  const dir = await tmpDir(t)
  const a = ['--home', path.join(dir, 'a')]
  const me = await json<{ id: string }>(t, [...a, 'init', '--name', 'Ada'])
  const bob = await json<{ id: string }>(t, ['--home', path.join(dir, 'b'), 'init', '--name', 'Bob'])

  oneLineError(t, await run([...a, 'thread', `${me.id}/ffffffffffff`]), 1, /you have no post .*\/ffffffffffff; check the ref with `chrysalis feed`/)
  oneLineError(t, await run([...a, 'thread', `${bob.id}/ffffffffffff`]), 1, /post .*\/ffffffffffff is not here; follow its author and run `chrysalis sync`, then try again/)
  const r = await run(['--json', ...a, 'thread', `${bob.id}/ffffffffffff`])
  t.is(r.code, 1)
  t.is((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'NOT_FOUND')

  // A thread that is here still shows, exit 0.
  const post = await json<{ ref: string }>(t, [...a, 'post', 'Kaypro II manual'])
  t.is((await json<{ root: { ref: string } }>(t, [...a, 'thread', post.ref])).root.ref, post.ref)

  const feed = await run([...a, 'feed', bob.id])
  t.is(feed.code, 0, 'an empty feed is an answer')
  t.ok(feed.stdout.includes(`No posts of ${bob.id} here yet: \`chrysalis follow\` it and run \`chrysalis sync\``), feed.stdout.trim())
  await json(t, [...a, 'follow', bob.id])
  t.is((await run([...a, 'feed', bob.id])).stdout.trim(), 'No posts here yet.', 'followed: nothing to do but wait')
})

test('progress line: rewritten in place, cleared before anything else and at the end, cut to the terminal', (t) => {
  const r = recorder(true, 20)
  const line = new ProgressLine(r.io.stderr, true)
  line.clear()
  t.is(r.writes.length, 0, 'nothing to clear: nothing written')
  line.show('hashing a.iso: 40%')
  line.show('hashing a.iso: 41%')
  t.alike(r.writes.map((w) => w.text), ['\r\x1b[2Khashing a.iso: 40%', '\r\x1b[2Khashing a.iso: 41%'])
  line.show('a name far longer than twenty columns')
  t.is(r.writes.at(-1)!.text, '\r\x1b[2Ka name far longer …', 'cut to the width, so that \\r rewrites all of it')
  line.clear()
  line.clear()
  t.alike(r.writes.slice(-1).map((w) => w.text), ['\r\x1b[2K'], 'cleared once')
  t.is(r.writes.length, 4)
  const off = recorder(false)
  new ProgressLine(off.io.stderr, false).show('x')
  t.is(off.writes.length, 0, 'without a terminal: nothing')
})

test('cli on a terminal: the finished progress line is cleared before the result and before an error', async (t) => {
  const dir = await tmpDir(t)
  const home = path.join(dir, 'h')
  await json(t, ['--home', home, 'init', '--name', 'Ada'])
  const file = path.join(dir, 'manual.pdf')
  await fs.writeFile(file, Buffer.alloc(64 * 1024, 7))

  const ok = recorder(true)
  t.is(await main(['--home', home, 'post', 'the manual', '--attach', file], ok.io), 0, 'post --attach: exit 0')
  const lastProgress = ok.writes.findLastIndex((w) => w.to === 'err' && w.text.includes('hashing'))
  t.ok(lastProgress >= 0, 'a progress line was shown')
  const result = ok.writes.findIndex((w) => w.to === 'out' && w.text.includes('Posted.'))
  t.ok(result > lastProgress, 'then the result')
  t.ok(ok.writes.slice(lastProgress + 1, result).some((w) => w.to === 'err' && w.text === '\r\x1b[2K'), 'the progress line is cleared before the result')

  const failed = recorder(true)
  const missing = path.join(dir, 'missing.pdf')
  t.is(await main(['--home', home, 'post', 'two files', '--attach', file, '--attach', missing], failed.io), 1)
  const shown = failed.writes.findLastIndex((w) => w.to === 'err' && w.text.includes('hashing'))
  const error = failed.writes.findIndex((w) => w.to === 'err' && w.text.startsWith('chrysalis: '))
  t.ok(shown >= 0 && error > shown, `a progress line, then the error: ${JSON.stringify(failed.writes)}`)
  t.ok(failed.writes.slice(shown + 1, error).some((w) => w.text === '\r\x1b[2K'), 'the progress line is cleared before the error')

  const piped = recorder(false)
  t.is(await main(['--home', home, 'post', 'no terminal', '--attach', file], piped.io), 0)
  t.absent(piped.text('err').includes('\x1b'), 'without a terminal: no escape sequences')
})

test('cli: fetch without a terminal is never silent for long: a status line every few seconds from the start', async (t) => {
  const dir = await tmpDir(t)
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  const net = ['--bootstrap', (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()]
  const a = ['--home', path.join(dir, 'a')]
  await json(t, [...a, 'init', '--name', 'Ada'])
  const bob = await json<{ id: string }>(t, ['--home', path.join(dir, 'b'), 'init', '--name', 'Bob'])

  // A post whose author nobody can reach: looking for it takes a while, then fails.
  const ref = `${bob.id}/ffffffffffff`
  const lost = await run([...a, ...net, 'fetch', ref, '--out', path.join(dir, 'out')])
  t.is(lost.code, 1)
  const lines = lost.stderr.trimEnd().split('\n')
  const looking = `looking for post ${ref} here and from peers…`
  t.ok(lines.slice(0, -1).includes(looking), `a status line while it looks: ${lost.stderr}`)
  t.ok(lines.slice(0, -1).every((l) => l === looking || l === 'going online…'), 'only status lines before the error')
  t.ok(/^chrysalis: that post is not available here or from reachable peers/.test(lines.at(-1)!), `then the error: ${lines.at(-1)}`)
  t.absent(lost.stderr.includes('\x1b'), 'no escape sequences without a terminal')

  // An infohash nobody has, with a short --timeout: status lines, then the timeout.
  const none = await run([...a, ...net, 'fetch', 'cd'.repeat(20), '--out', path.join(dir, 'out'), '--timeout', '4'])
  t.is(none.code, 1)
  const noneLines = none.stderr.trimEnd().split('\n')
  t.ok(noneLines.length >= 2 && /^cdcdcdcdcdcdcdcd… · (waiting for peers \(\d+ known\)|starting…)$/.test(noneLines[0]!), `a status line first: ${none.stderr}`)
  t.ok(/^chrysalis: the download did not finish in 4 s/.test(noneLines.at(-1)!), `then the timeout: ${noneLines.at(-1)}`)
})
