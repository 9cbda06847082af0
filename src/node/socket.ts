import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { ChrysalisError } from '../errors.js'

/**
 * While a node runs for a home (`serve`, the TUI), other CLI commands for that home run through
 * it over a Unix socket: `HOME/node.sock`, mode 0600 inside the 0700 home. One request per
 * connection, each a line of JSON (protocol.md §10).
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

export function socketPath(home: string): string {
  const inHome = path.join(home, 'node.sock')
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH) return inHome
  // A home too deep for a socket address: a per-home name in the runtime or temp directory.
  const dir = process.env.XDG_RUNTIME_DIR || os.tmpdir()
  return path.join(dir, `chrysalis-${createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16)}.sock`)
}

/** Serve requests for HOME until the returned close function is called. */
export async function listenNode(home: string, handler: (req: RouteRequest) => Promise<RouteResponse>): Promise<() => Promise<void>> {
  const file = socketPath(home)
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
export function callNode(home: string, req: RouteRequest): Promise<RouteResponse | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath(home))
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
        reject(new ChrysalisError('BAD_INPUT', 'the running chrysalis node gave an unreadable answer; restart it'))
      }
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(null)
      else reject(new ChrysalisError('BAD_INPUT', `lost the connection to the running chrysalis node (${err.code ?? err.message}); try again`))
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
