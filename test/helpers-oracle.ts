// libtorrent 2.0.8 as an independent oracle (../shared/tools/bt-oracle.py, python3-libtorrent).
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Test } from './helpers.js'
import { watch, type Daemon } from './helpers-cli.js'

const exec = promisify(execFile)
/** A copy of ../shared/tools/bt-oracle.py, so a clone carries its oracle. */
export const ORACLE = path.resolve(import.meta.dirname, 'oracle', 'bt-oracle.py')

interface OracleResult {
  v2: { infohash: string; bytes: Buffer }
  hybrid: { infohash: string; v1: string; bytes: Buffer }
}

export async function oracleMake(target: string, pieceLength: number, out: string): Promise<OracleResult> {
  const { stdout } = await exec('/usr/bin/python3', [ORACLE, 'make', target, String(pieceLength), out])
  const line = (kind: string): RegExpExecArray => {
    const m = new RegExp(`^${kind}\\s+v2=([0-9a-f]{64}) v1=(\\S+) pieces=\\d+ -> (.*)$`, 'm').exec(stdout)
    if (!m) throw new Error(`oracle output without ${kind}: ${stdout}`)
    return m
  }
  const v2 = line('v2')
  const hy = line('hybrid')
  return {
    v2: { infohash: v2[1]!, bytes: await fs.readFile(v2[3]!) },
    hybrid: { infohash: hy[1]!, v1: hy[2]!, bytes: await fs.readFile(hy[3]!) }
  }
}


// libtorrent as an independent BitTorrent peer (test/oracle/lt-interop.py): a loopback DHT node,
// seeders and downloaders, for the interop tests and the bench. Its lines are `WORD` or `WORD JSON`.

export const LT_INTEROP = path.resolve(import.meta.dirname, 'oracle', 'lt-interop.py')

/** Whether /usr/bin/python3 has python3-libtorrent (tests skip with a clear reason when not). */
export const haveLibtorrent = await exec('/usr/bin/python3', ['-c', 'import libtorrent']).then(() => true, () => false)

export interface LtProcess extends Daemon {
  /** The JSON of the first `WORD {…}` line (waiting for it on a deadline). */
  line<T = Record<string, unknown>>(word: string, ms?: number): Promise<T>
  /** Every `WORD {…}` line so far. */
  lines<T = Record<string, unknown>>(word: string): T[]
  output(): string
}

/** lt-interop.py ARGS as a child process, stopped when the test ends. */
export function lt(t: Test, args: string[]): LtProcess {
  const child = spawn('/usr/bin/python3', [LT_INTEROP, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const d = watch(child, `lt-interop.py ${args.join(' ')}`)
  t.teardown(() => d.stop(), { order: -0.5 })
  const re = (word: string): RegExp => new RegExp(`^${word}( (.*))?$`, 'gm')
  return {
    ...d,
    async line<T>(word: string, ms = 30_000): Promise<T> {
      const m = re(word).exec(await d.waitFor(new RegExp(`^${word}\\b.*$`, 'm'), ms))
      return JSON.parse(m?.[2] ?? 'null') as T
    },
    lines<T>(word: string): T[] {
      return [...out.matchAll(re(word))].map((m) => JSON.parse(m[2] ?? 'null') as T)
    },
    output: () => out
  }
}

export interface LtMade { v1: string | null; v2: string | null; magnet: string }

/** libtorrent makes a v1, v2 or hybrid .torrent of PATH (a file or a folder). */
export async function ltMake(target: string, out: string, kind: 'v1' | 'v2' | 'hybrid', opts: { pieceLength?: number; webSeeds?: string[] } = {}): Promise<LtMade> {
  const args = [LT_INTEROP, 'make', target, out, kind]
  if (opts.pieceLength) args.push('--piece-length', String(opts.pieceLength))
  for (const url of opts.webSeeds ?? []) args.push('--web-seed', url)
  const { stdout } = await exec('/usr/bin/python3', args)
  return JSON.parse(/^MADE (.*)$/m.exec(stdout)![1]!) as LtMade
}

/** A libtorrent mainline DHT node on 127.0.0.1 that others bootstrap from: "127.0.0.1:PORT". */
export async function ltDht(t: Test): Promise<string> {
  const p = lt(t, ['dht'])
  const { port } = await p.line<{ port: number }>('LISTENING')
  return `127.0.0.1:${port}`
}

/** libtorrent seeding TORRENT|MAGNET from SAVE (a magnet: fetched first through --peer/--dht). */
export async function ltSeed(t: Test, src: string, save: string, opts: { dht?: string; peers?: string[]; corrupt?: boolean; hp?: boolean; port?: number; uploadLimit?: number } = {}): Promise<{ port: number; address: string; p: LtProcess }> {
  const args = ['seed', src, save]
  if (opts.port !== undefined) args.push('--port', String(opts.port))
  if (opts.dht) args.push('--dht', opts.dht)
  for (const peer of opts.peers ?? []) args.push('--peer', peer)
  if (opts.corrupt) args.push('--corrupt')
  if (opts.hp) args.push('--hp')
  if (opts.uploadLimit) args.push('--upload-limit', String(opts.uploadLimit))
  const p = lt(t, args)
  const { port } = await p.line<{ port: number }>('LISTENING')
  await p.line('READY', 60_000)
  return { port, address: `127.0.0.1:${port}`, p }
}

export interface LtResult { ok: boolean; secs?: number; MiBps?: number; bytes?: number; sha256?: Record<string, string>; progress?: number; cpu?: number; maxrss?: number }

/** libtorrent downloads TORRENT|MAGNET into SAVE (by address and/or through the DHT); its RESULT. */
export async function ltFetch(t: Test, src: string, save: string, opts: { dht?: string; peers?: string[]; timeout?: number } = {}): Promise<LtResult & { p: LtProcess }> {
  const timeout = opts.timeout ?? 60
  const args = ['fetch', src, save, '--timeout', String(timeout)]
  if (opts.dht) args.push('--dht', opts.dht)
  for (const peer of opts.peers ?? []) args.push('--peer', peer)
  const p = lt(t, args)
  const r = await p.line<LtResult>('RESULT', (timeout + 20) * 1000)
  return { ...r, p }
}
