import test from 'brittle'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { Writable } from 'node:stream'
import { ChrysalisNode } from '../src/node/node.js'
import { listenNode } from '../src/node/socket.js'
import { main } from '../src/cli/main.js'
import { tmpDir, type Test } from './helpers.js'
import { BIN, daemon, freeUdpPort, json, oneLineError, run } from './helpers-cli.js'

// Commands that meet on one home wait for each other (bounded) instead of failing; a command
// waiting for the home goes through a node that starts serving it meanwhile (protocol.md §10).

type PostJson = { ref: string; text: string }

/**
 * Start the CLI with CHRYSALIS_DEBUG=1, which makes it say on stderr when it waits for the home
 * (otherwise only on a terminal): the test knows the process is waiting, without a sleep.
 */
function start(t: Test, args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, CHRYSALIS_DEBUG: '1', ...opts.env }
  delete env.CHRYSALIS_HOME
  if (!opts.env?.CHRYSALIS_BOOTSTRAP) delete env.CHRYSALIS_BOOTSTRAP
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const changed: Array<() => void> = []
  const wake = (): void => {
    for (const w of changed.splice(0)) w()
  }
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    wake()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    wake()
  })
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      wake()
      resolve({ code, stdout, stderr })
    })
  )
  child.stdin.end(opts.input ?? '')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  return {
    exited,
    /** Until stdout or stderr matches, the process exits, or the deadline passes. */
    async waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, ms = 30_000): Promise<void> {
      const deadline = Date.now() + ms
      for (;;) {
        if (pattern.test(stream === 'stdout' ? stdout : stderr)) return
        if (child.exitCode !== null) throw new Error(`chrysalis ${args.join(' ')} exited ${child.exitCode} before ${pattern}: ${stderr.trim()}`)
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for ${pattern}; stdout: ${stdout} stderr: ${stderr}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          changed.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    }
  }
}

test('home: six posts started together on one home, without serve, all post', async (t) => {
  const home = path.join(await tmpDir(t), 'ada')
  await json(t, ['--home', home, 'init', '--name', 'Ada'])
  const texts = ['one', 'two', 'three', 'four', 'five', 'six']
  // A generous bound: on a loaded machine six node start-ups in a row can take longer than the default 30 s.
  const results = await Promise.all(texts.map((text) => run(['--json', '--home', home, 'post', text], { env: { CHRYSALIS_HOME_WAIT: '120' } })))
  for (const r of results) t.is(r.code, 0, `post → exit 0 ${r.stderr.trim()}`)
  const feed = await json<{ posts: PostJson[] }>(t, ['--home', home, 'feed'])
  t.alike(feed.posts.map((p) => p.text).sort(), [...texts].sort(), 'the feed has the six posts')
  t.is(new Set(feed.posts.map((p) => p.ref)).size, 6, 'with six distinct ids')
})

test('home: serve started while another process holds the home comes up once it is released', async (t) => {
  const dir = await tmpDir(t)
  const home = path.join(dir, 'ada')
  await json(t, ['--home', home, 'init', '--name', 'Ada'])
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  const address = (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()

  // This process holds the home, like a cron `sync` would.
  const held = await ChrysalisNode.open({ home })
  const serve = start(t, ['--home', home, '--bootstrap', address, 'serve'])
  await serve.waitFor('stderr', /waiting for another chrysalis process using /)
  await held.close()
  await serve.waitFor('stdout', /serving Ada/)
  const post = await json<PostJson>(t, ['--home', home, 'post', '-'], { input: 'through the serve that waited' })
  t.is(post.text, 'through the serve that waited')
})

test('home: a command waiting for the home goes through a node that starts serving it meanwhile', async (t) => {
  const home = path.join(await tmpDir(t), 'ada')
  await json(t, ['--home', home, 'init', '--name', 'Ada'])
  const node = await ChrysalisNode.open({ home })
  t.teardown(() => node.close())
  const post = start(t, ['--json', '--home', home, 'post', '-'], { input: 'a draft that waited' })
  await post.waitFor('stderr', /waiting for another chrysalis process using /)
  // The process holding the home starts answering on the socket, as serve and the TUI do.
  const stop = await listenNode(home, async (req) => {
    let stdout = ''
    let stderr = ''
    const sink = (append: (s: string) => void): Writable =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          append(chunk.toString())
          cb()
        }
      })
    const code = await main(req.argv, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) }, { node, stdin: req.stdin })
    return { stdout, stderr, code }
  })
  t.teardown(stop)
  const r = await post.exited
  t.is(r.code, 0, r.stderr.trim())
  t.is((JSON.parse(r.stdout) as PostJson).text, 'a draft that waited')
  t.alike(
    (await node.feed()).map((p) => p.text),
    ['a draft that waited'],
    'posted by the node holding the home'
  )
})

test('home: a command waits only so long, then says so in one line', async (t) => {
  const home = path.join(await tmpDir(t), 'ada')
  await json(t, ['--home', home, 'init', '--name', 'Ada'])
  const node = await ChrysalisNode.open({ home })
  t.teardown(() => node.close())
  const r = await run(['--json', '--home', home, 'post', 'hello'], { env: { CHRYSALIS_HOME_WAIT: '0.5' } })
  oneLineError(t, r, 1, /another chrysalis process has been using .* for 0\.5 s; let it finish or close it, then try again/)
  t.is((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'HOME_LOCKED')
  oneLineError(t, await run(['--home', home, 'whoami'], { env: { CHRYSALIS_HOME_WAIT: 'soon' } }), 2, /CHRYSALIS_HOME_WAIT takes a number of seconds/)
})
