import test from 'brittle'
import fs from 'node:fs/promises'
import net from 'node:net'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { callNode, listenNode } from '../src/node/socket.js'
import { tmpDir, type Test } from './helpers.js'
import { json, oneLineError, run } from './helpers-cli.js'

// The local socket carries the user's argv, stdin (a private draft) and cwd: a client must never
// send them to a socket someone else put in its way (protocol.md §10).

type PostJson = { ref: string; text: string }

const uid = process.getuid!()
const isRoot = uid === 0
const LONG = 'a-home-whose-path-is-far-too-long-for-a-unix-socket-address-'.repeat(2)

/** A "squatter": a socket that records what it receives and answers like a node that posted. */
async function fakeNode(t: Test, file: string): Promise<{ received: () => string; close: () => Promise<void> }> {
  let received = ''
  const server = net.createServer((s) => {
    s.on('data', (d: Buffer) => {
      received += d.toString()
      s.end(JSON.stringify({ stdout: 'Posted.\n', stderr: '', code: 0 }) + '\n')
    })
    s.on('error', () => {})
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(file, resolve)
  })
  const close = (): Promise<void> => new Promise<void>((resolve) => server.close(() => resolve()))
  t.teardown(close)
  return { received: () => received, close }
}

/** The directory and socket name for a home too long for HOME/node.sock (protocol.md §10). */
function privateSocket(tmp: string, home: string): { dir: string; file: string } {
  const dir = path.join(tmp, `chrysalis-${uid}`)
  return { dir, file: path.join(dir, `${createHash('sha256').update(home).digest('hex').slice(0, 16)}.sock`) }
}

/** Environment for the CLI: the temp directory is the test's own, and no runtime directory. */
function envFor(tmp: string): Record<string, string> {
  return { TMPDIR: tmp, XDG_RUNTIME_DIR: '' }
}

/** os.tmpdir() and $XDG_RUNTIME_DIR of this process, for the in-process node, until the test ends. */
function useTmp(t: Test, tmp: string): void {
  const saved = { TMPDIR: process.env.TMPDIR, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR }
  process.env.TMPDIR = tmp
  delete process.env.XDG_RUNTIME_DIR
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
}

test('socket: a home too long for HOME/node.sock: a socket bound first at the old shared name gets nothing, and serve still binds', async (t) => {
  const tmp = await tmpDir(t)
  const home = path.join(tmp, LONG)
  const env = envFor(tmp)
  await json(t, ['--home', home, 'init', '--name', 'Ada'], { env })
  // Another user binds the name the socket had in the shared temporary directory.
  const oldName = path.join(tmp, `chrysalis-${createHash('sha256').update(home).digest('hex').slice(0, 16)}.sock`)
  const squatter = await fakeNode(t, oldName)

  const r = await run(['--json', '--home', home, 'post', '-'], { env, input: 'a private draft' })
  t.is(squatter.received(), '', 'the squatter received nothing: no argv, no stdin, no cwd')
  t.is(r.code, 0)
  t.ok(r.stdout.includes('"text":"a private draft"'), 'the post was really made')

  // A node for this home is not kept from listening by the squatter, and clients reach it.
  useTmp(t, tmp)
  const stop = await listenNode(home, (req) => Promise.resolve({ stdout: `real node: ${req.argv.join(' ')}\n`, stderr: '', code: 0 }))
  t.teardown(stop)
  const { dir, file } = privateSocket(tmp, home)
  t.is((await fs.lstat(dir)).mode & 0o777, 0o700, 'the socket directory is private')
  t.is((await fs.lstat(file)).mode & 0o777, 0o600)
  const answer = await callNode(home, { argv: ['whoami'], stdin: null })
  t.is(answer?.stdout, 'real node: whoami\n')
  t.is(squatter.received(), '')
})

test('socket: a socket owned by another user, or not a socket, is refused and nothing is sent', async (t) => {
  const tmp = await tmpDir(t)
  const env = envFor(tmp)
  const short = path.join(tmp, 'ada')
  const long = path.join(tmp, LONG)
  for (const home of [short, long]) await json(t, ['--home', home, 'init', '--name', 'Ada'], { env })

  // Something that is not a socket where the socket goes (anyone can test this).
  await fs.writeFile(path.join(short, 'node.sock'), '')
  const notSocket = await run(['--json', '--home', short, 'post', 'hello'], { env })
  oneLineError(t, notSocket, 1, /node\.sock is not a socket.*remove it/)
  t.is(errorCode(notSocket.stdout), 'SOCKET_UNSAFE')
  await fs.rm(path.join(short, 'node.sock'))

  if (!isRoot) {
    // Giving a socket to another uid needs root; the check is the same lstat as above.
    t.comment('not root: skipping the socket-owned-by-another-uid assertions')
    return
  }
  await fs.mkdir(privateSocket(tmp, long).dir, { mode: 0o700 })
  for (const [home, file] of [
    [short, path.join(short, 'node.sock')],
    [long, privateSocket(tmp, long).file]
  ] as const) {
    const other = await fakeNode(t, file)
    await fs.chown(file, 65534, 65534)
    const r = await run(['--json', '--home', home, 'post', '-'], { env, input: 'a private draft' })
    oneLineError(t, r, 1, /belongs to uid 65534, not to you/)
    t.is(errorCode(r.stdout), 'SOCKET_UNSAFE')
    t.is(other.received(), '', `${path.basename(file)}: the other user's socket received nothing`)
    await other.close()
    const feed = await json<{ posts: PostJson[] }>(t, ['--home', home, 'feed'], { env })
    t.is(feed.posts.length, 0, 'and nothing was posted')
  }
})

test('socket: a socket directory that is a symbolic link or open to others, or a home open to others, is refused', async (t) => {
  const tmp = await tmpDir(t)
  const env = envFor(tmp)
  const home = path.join(tmp, LONG)
  await json(t, ['--home', home, 'init', '--name', 'Ada'], { env })
  const { dir, file } = privateSocket(tmp, home)

  // A symbolic link (to a directory someone else controls) in place of the private directory.
  const elsewhere = path.join(tmp, 'elsewhere')
  await fs.mkdir(elsewhere, { mode: 0o700 })
  const viaLink = await fakeNode(t, path.join(elsewhere, path.basename(file)))
  await fs.symlink(elsewhere, dir)
  oneLineError(t, await run(['--home', home, 'post', '-'], { env, input: 'a private draft' }), 1, /is a symbolic link/)
  t.is(viaLink.received(), '', 'nothing went through the link')
  useTmp(t, tmp)
  await t.exception(
    listenNode(home, () => Promise.resolve({ stdout: '', stderr: '', code: 0 })),
    /is a symbolic link/,
    'serve does not listen there either'
  )
  await fs.rm(dir)

  // A real directory, but group-writable.
  await fs.mkdir(dir)
  await fs.chmod(dir, 0o770)
  const inOpenDir = await fakeNode(t, file)
  const r = await run(['--home', home, 'post', '-'], { env, input: 'a private draft' })
  oneLineError(t, r, 1, /is open to other users \(mode 0770\).*chmod 700/)
  t.is(inOpenDir.received(), '', 'nothing went to the socket in the open directory')
  await t.exception(listenNode(home, () => Promise.resolve({ stdout: '', stderr: '', code: 0 })), /open to other users/)

  // HOME/node.sock is trusted only in a home nobody else can write to.
  const short = path.join(tmp, 'bob')
  await json(t, ['--home', short, 'init', '--name', 'Bob'], { env })
  await fs.chmod(short, 0o770)
  const inOpenHome = await fakeNode(t, path.join(short, 'node.sock'))
  oneLineError(t, await run(['--home', short, 'post', '-'], { env, input: 'a private draft' }), 1, /is writable by other users \(mode 0770\).*chmod 700/)
  t.is(inOpenHome.received(), '', 'nothing went to the socket in the open home')
})

test('socket: $XDG_RUNTIME_DIR holds the socket directory only when it is private', async (t) => {
  const tmp = await tmpDir(t)
  const home = path.join(tmp, LONG)
  useTmp(t, tmp)
  const runtime = path.join(tmp, 'run')
  await fs.mkdir(runtime, { mode: 0o755 })
  await fs.chmod(runtime, 0o755)
  process.env.XDG_RUNTIME_DIR = runtime
  const handler = (): Promise<{ stdout: string; stderr: string; code: number }> => Promise.resolve({ stdout: 'ok\n', stderr: '', code: 0 })
  let stop = await listenNode(home, handler)
  t.ok(await exists(privateSocket(tmp, home).file), 'a shared runtime directory is not used')
  t.is((await callNode(home, { argv: [], stdin: null }))?.stdout, 'ok\n')
  await stop()
  await fs.chmod(runtime, 0o700)
  stop = await listenNode(home, handler)
  t.teardown(stop)
  t.ok(await exists(path.join(runtime, 'chrysalis', path.basename(privateSocket(tmp, home).file))), 'a private one is')
  t.is((await fs.lstat(path.join(runtime, 'chrysalis'))).mode & 0o777, 0o700)
  t.is((await callNode(home, { argv: [], stdin: null }))?.stdout, 'ok\n')
})

test('socket: a stale socket of a node that died is replaced', async (t) => {
  const tmp = await tmpDir(t)
  const home = path.join(tmp, LONG)
  useTmp(t, tmp)
  const { dir, file } = privateSocket(tmp, home)
  await fs.mkdir(dir, { mode: 0o700 })
  // A node killed without cleaning up leaves its socket file behind.
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(file)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
  const gone = new Promise((resolve) => child.once('close', resolve))
  child.kill('SIGKILL')
  await gone
  t.ok((await fs.lstat(file)).isSocket(), 'the stale socket is there')
  t.is(await callNode(home, { argv: [], stdin: null }), null, 'a client finds no node')
  const stop = await listenNode(home, () => Promise.resolve({ stdout: 'ok\n', stderr: '', code: 0 }))
  t.teardown(stop)
  t.is((await callNode(home, { argv: [], stdin: null }))?.stdout, 'ok\n', 'a new node listens in its place')
})

/** The error code of a --json answer (null for anything else, e.g. a fake node's "Posted."). */
function errorCode(stdout: string): string | null {
  try {
    return (JSON.parse(stdout) as { error?: { code?: string } }).error?.code ?? null
  } catch {
    return null
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false
  )
}
