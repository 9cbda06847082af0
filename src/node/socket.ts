import fs from 'node:fs/promises'
import fsSync from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { ChrysalisError } from '../errors.js'

/**
 * While a node runs for a home (`serve`, the TUI), other CLI commands for that home run through
 * it over a Unix socket: `HOME/node.sock`, mode 0600 inside the 0700 home; when that path is too
 * long for a socket address, a per-user private directory holds it (protocol.md §10). One request
 * per connection, each a line of JSON.
 *
 * A request carries the user's argv, stdin and cwd, so the client trusts a socket only where
 * nobody else can have put it: in a directory owned by the user that no one else can write, and
 * owned by the user itself. Node has no API for the peer's credentials (SO_PEERCRED), so these
 * owner checks are the mechanism.
 */
export interface RouteRequest {
  argv: string[]
  /** Standard input of the calling process, when a command reads it (`post -`). */
  stdin: string | null
  /** The calling process's working directory: relative paths in argv are relative to it. */
  cwd?: string
}

export interface RouteResponse {
  stdout: string
  stderr: string
  code: number
}

const MAX_REQUEST = 1024 * 1024
const MAX_SOCKET_PATH = 100 // sun_path is 108 bytes on Linux, 104 on macOS

/** Where HOME's socket lives, and the directory whose owner and mode make it trustworthy. */
interface Place {
  file: string
  dir: string
  /** The home itself (0700, ours), or a per-user private directory the node creates. */
  kind: 'home' | 'private'
}

export function socketPath(home: string): string {
  return placeOf(home).file
}

function placeOf(home: string): Place {
  const inHome = path.join(home, 'node.sock')
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH) return { file: inHome, dir: home, kind: 'home' }
  // A home too deep for a socket address: a per-home name in a directory only this user can use,
  // never a shared one where anybody could bind the name first.
  const name = `${createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16)}.sock`
  const runtime = process.env.XDG_RUNTIME_DIR
  if (runtime && path.isAbsolute(runtime) && isPrivateSync(runtime)) {
    const dir = path.join(runtime, 'chrysalis')
    const file = path.join(dir, name)
    if (Buffer.byteLength(file) <= MAX_SOCKET_PATH) return { file, dir, kind: 'private' }
  }
  const dir = path.join(os.tmpdir(), `chrysalis-${myUid() ?? 'user'}`)
  return { file: path.join(dir, name), dir, kind: 'private' }
}

function myUid(): number | null {
  return typeof process.getuid === 'function' ? process.getuid() : null
}

/** $XDG_RUNTIME_DIR as the spec wants it: a real directory, ours, mode 0700. */
function isPrivateSync(dir: string): boolean {
  try {
    const st = fsSync.lstatSync(dir)
    return st.isDirectory() && (myUid() === null || st.uid === myUid()) && (st.mode & 0o077) === 0
  } catch {
    return false
  }
}

function unsafe(what: string, fix: string): ChrysalisError {
  return new ChrysalisError('SOCKET_UNSAFE', `${what}, so the local socket there cannot be trusted; ${fix}`)
}

/**
 * Check the socket's directory before it is used: false when it does not exist (no node can be
 * listening there). The home must be ours and not writable by others; a private directory must
 * be a real directory (not a symbolic link), ours, with no permission for anyone else.
 */
async function checkDir(place: Place): Promise<boolean> {
  const uid = myUid()
  let st: fsSync.Stats
  try {
    st = place.kind === 'home' ? await fs.stat(place.dir) : await fs.lstat(place.dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0')
  if (place.kind === 'home') {
    if (uid !== null && st.uid !== uid) throw unsafe(`${place.dir} belongs to uid ${st.uid}, not to you (uid ${uid})`, 'use a home of your own (--home DIR)')
    if ((st.mode & 0o022) !== 0) throw unsafe(`${place.dir} is writable by other users (mode ${mode})`, `run \`chmod 700 ${place.dir}\``)
    return true
  }
  const fix = `remove it, or set XDG_RUNTIME_DIR to a directory only you can use (mode 0700), or use a shorter --home path`
  if (st.isSymbolicLink()) throw unsafe(`${place.dir} is a symbolic link`, fix)
  if (!st.isDirectory()) throw unsafe(`${place.dir} is not a directory`, fix)
  if (uid !== null && st.uid !== uid) throw unsafe(`${place.dir} belongs to uid ${st.uid}, not to you (uid ${uid})`, fix)
  if ((st.mode & 0o077) !== 0) throw unsafe(`${place.dir} is open to other users (mode ${mode})`, `run \`chmod 700 ${place.dir}\` or remove it`)
  return true
}

/** The socket file itself, before connecting: a socket, ours. False when there is none. */
async function checkSocketFile(file: string): Promise<boolean> {
  let st: fsSync.Stats
  try {
    st = await fs.lstat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
  if (!st.isSocket()) throw unsafe(`${file} is not a socket`, 'remove it')
  const uid = myUid()
  if (uid !== null && st.uid !== uid) throw unsafe(`${file} belongs to uid ${st.uid}, not to you (uid ${uid})`, 'remove it, and check who else can write to its directory')
  return true
}

/** Serve requests for HOME until the returned close function is called. */
export async function listenNode(home: string, handler: (req: RouteRequest) => Promise<RouteResponse>): Promise<() => Promise<void>> {
  const place = placeOf(home)
  const file = place.file
  if (place.kind === 'private') {
    await fs.mkdir(place.dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
    })
  }
  // Whatever mkdir did (the name may have been there already): check what is there now.
  await checkDir(place)
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    let buf = ''
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf-8')
      if (buf.length > MAX_REQUEST) return socket.destroy()
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      socket.pause()
      let req: RouteRequest
      try {
        req = parseRequest(buf.slice(0, nl))
      } catch {
        return socket.destroy()
      }
      handler(req).then(
        (res) => socket.end(JSON.stringify(res) + '\n'),
        (err: unknown) => socket.end(JSON.stringify({ stdout: '', stderr: `chrysalis: ${err instanceof Error ? err.message : String(err)}\n`, code: 1 }) + '\n')
      )
    })
  })
  await listenOn(server, file)
  await fs.chmod(file, 0o600)
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await fs.rm(file, { force: true })
  }
}

async function listenOn(server: net.Server, file: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(file, () => {
          server.off('error', reject)
          resolve()
        })
      })
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw err
      // A socket file is there: another live node, or one that crashed and left it behind.
      if (await isAlive(file)) throw new ChrysalisError('HOME_LOCKED', 'a chrysalis node is already running for this home')
      await fs.rm(file, { force: true })
    }
  }
}

function isAlive(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** Run a request through the node serving HOME; null when no node is running there. */
export async function callNode(home: string, req: RouteRequest): Promise<RouteResponse | null> {
  const place = placeOf(home)
  // Nothing is sent to a socket that someone else could have put there.
  if (!(await checkDir(place)) || !(await checkSocketFile(place.file))) return null
  return new Promise((resolve, reject) => {
    const socket = net.connect(place.file)
    let buf = ''
    let connected = false
    socket.once('connect', () => {
      connected = true
      socket.write(JSON.stringify(req) + '\n')
    })
    socket.on('data', (chunk: Buffer) => (buf += chunk.toString('utf-8')))
    socket.on('end', () => {
      try {
        resolve(parseResponse(buf))
      } catch {
        reject(new ChrysalisError('INTERNAL', 'the running chrysalis node gave an unreadable answer; restart it'))
      }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(null)
      else reject(new ChrysalisError('IO', `lost the connection to the running chrysalis node (${err.code ?? err.message}); try again`))
    })
  })
}

function parseRequest(line: string): RouteRequest {
  const v = JSON.parse(line) as unknown
  if (typeof v !== 'object' || v === null) throw new TypeError('request')
  const { argv, stdin, cwd } = v as { argv?: unknown; stdin?: unknown; cwd?: unknown }
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new TypeError('argv')
  if (stdin !== null && typeof stdin !== 'string') throw new TypeError('stdin')
  if (cwd !== undefined && (typeof cwd !== 'string' || !path.isAbsolute(cwd))) throw new TypeError('cwd')
  return { argv, stdin, ...(cwd === undefined ? {} : { cwd }) }
}

function parseResponse(text: string): RouteResponse {
  const v = JSON.parse(text.trim()) as Partial<RouteResponse>
  if (typeof v.stdout !== 'string' || typeof v.stderr !== 'string' || typeof v.code !== 'number') throw new TypeError('response')
  return { stdout: v.stdout, stderr: v.stderr, code: v.code }
}
