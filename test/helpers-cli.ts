import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { fileURLToPath } from 'node:url'
import type { Test } from './helpers.js'

// These run the built CLI (`npm test` builds first), as a user or a script would.
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src', 'cli', 'main.js')
/** The bundled executable, as installed (`bin` in package.json). */
export const BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'launch.mjs')

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const NETWORKED = new Set(['sync', 'discover', 'serve', 'fetch'])

/** Tests run on loopback only: a networked command without a loopback bootstrap is a test bug. */
function assertLoopback(args: string[], env: Record<string, string> | undefined): void {
  if (!args.some((a) => NETWORKED.has(a))) return
  const i = args.indexOf('--bootstrap')
  const value = i >= 0 ? args[i + 1] : env?.CHRYSALIS_BOOTSTRAP
  if (!value || !/^(127\.0\.0\.1|localhost):\d+$/.test(value)) {
    throw new Error(`networked CLI test without a loopback --bootstrap: ${args.join(' ')}`)
  }
}

/** Run the built CLI (or `bin`, e.g. the bundled executable) with stdin from `input`, not a terminal. */
export function run(args: string[], opts: { env?: Record<string, string>; input?: string; bin?: string } = {}): Promise<Run> {
  assertLoopback(args, opts.env)
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env }
    delete env.CHRYSALIS_HOME
    if (!opts.env?.CHRYSALIS_BOOTSTRAP) delete env.CHRYSALIS_BOOTSTRAP
    if (!opts.env?.CHRYSALIS_PASSPHRASE) delete env.CHRYSALIS_PASSPHRASE
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}

/** Run with --json and parse stdout, which must be exactly one JSON document. */
export async function json<T>(t: { is(a: unknown, b: unknown, m?: string): void }, args: string[], opts: Parameters<typeof run>[1] = {}): Promise<T> {
  const r = await run(['--json', ...args], opts)
  t.is(r.code, 0, `chrysalis ${args.join(' ')} → exit 0 ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

export function oneLineError(t: { is(a: unknown, b: unknown, m?: string): void; ok(v: unknown, m?: string): void; absent(v: unknown, m?: string): void }, r: Run, code: number, pattern: RegExp): void {
  t.is(r.code, code, `exit ${code}`)
  t.is(r.stderr.trimEnd().split('\n').length, 1, 'one line on stderr')
  t.ok(pattern.test(r.stderr), r.stderr.trim())
  t.absent(/\n\s+at /.test(r.stderr), 'no stack trace')
}

/** A free UDP port on 127.0.0.1 (for a bootstrap node in a test). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

export interface Daemon {
  child: ChildProcess
  /** Resolves with the first stdout line matching the pattern (the whole output so far on a deadline). */
  waitFor(pattern: RegExp, ms?: number): Promise<string>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

let started = 0

/**
 * Watch a child process for the tests: its output kept, `waitFor` a stdout pattern (event-driven,
 * on a deadline), `stop`; killed when this process exits too (a brittle timeout skips teardowns).
 */
export function watch(child: ChildProcess, what: string): Daemon {
  let out = ''
  let err = ''
  const waiters: Array<() => void> = []
  const wake = (): void => {
    for (const w of waiters.splice(0)) w()
  }
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
    wake()
  })
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const kill = (): void => void child.kill('SIGTERM')
  process.once('exit', kill)
  child.on('close', () => {
    process.off('exit', kill)
    wake()
  })
  return {
    child,
    async waitFor(pattern, ms = 20_000) {
      const deadline = Date.now() + ms
      for (;;) {
        const m = pattern.exec(out)
        if (m) return m[0]
        if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${err.trim()}`)
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for ${pattern} from ${what}; stdout: ${out} stderr: ${err}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    }
  }
}

/** A `chrysalis bootstrap` node on 127.0.0.1 for the test: the `--bootstrap` flag pair to reach it. */
export async function loopbackBootstrap(t: Test): Promise<string[]> {
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  return ['--bootstrap', (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()]
}

/** Start a long-running CLI command (serve, bootstrap); SIGTERM and await it when the test ends. */
export function daemon(t: Test, args: string[], opts: { env?: Record<string, string> } = {}): Daemon {
  assertLoopback(args, opts.env)
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env }
  delete env.CHRYSALIS_HOME
  if (!opts.env?.CHRYSALIS_BOOTSTRAP) delete env.CHRYSALIS_BOOTSTRAP
  const d = watch(spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }), `chrysalis ${args.join(' ')}`)
  // Stop in reverse start order: serve nodes before the bootstrap they unannounce through.
  t.teardown(() => d.stop(), { order: -1 - ++started / 1000 })
  return d
}
