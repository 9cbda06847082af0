// Chrysalis CLI processes as BitTorrent peers for the interop tests (test/interop-*.test.ts):
// homes, a loopback hyperswarm bootstrap, a seeder on a TCP port, fetches. libtorrent's side is in
// helpers-oracle.ts.
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { waitFor, type Test } from './helpers.js'
import { daemon, freeUdpPort, run, type Daemon } from './helpers-cli.js'

const MiB = 1024 * 1024

/** A folder of files of random bytes: {relative path: size}; returns {relative path: sha256}. */
export async function makeFiles(root: string, files: Record<string, number>): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [rel, size] of Object.entries(files)) {
    const file = rel === '' ? root : path.join(root, rel)
    await fs.mkdir(path.dirname(file), { recursive: true })
    const data = crypto.randomBytes(size)
    await fs.writeFile(file, data)
    out[rel] = crypto.createHash('sha256').update(data).digest('hex')
  }
  return out
}

/** The usual test data: a single file of `mib` MiB, or a folder of two files (one with a sub-folder). */
export const SINGLE = (mib = 2): Record<string, number> => ({ '': mib * MiB })
export const FOLDER: Record<string, number> = { 'scans/page-001.tif': 1 * MiB + 12_345, 'README.txt': 70_000 }

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** A hyperswarm bootstrap node on 127.0.0.1 (`chrysalis bootstrap`): the `--bootstrap` args. */
export async function hyperswarm(t: Test): Promise<string[]> {
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  return ['--bootstrap', (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()]
}

export interface Home {
  dir: string
  /** `--home DIR` plus the network flags every networked command of this home gets. */
  args: string[]
}

/** A new Chrysalis home with an identity; `net` are the network flags (--bootstrap …, --bt-…). */
export async function newHome(dir: string, name: string, netArgs: string[]): Promise<Home> {
  const home = { dir: path.join(dir, name), args: ['--home', path.join(dir, name), ...netArgs] }
  const r = await run(['--home', home.dir, '--json', 'init', '--name', name])
  if (r.code !== 0) throw new Error(`chrysalis init: ${r.stderr}`)
  return home
}

export interface Shared { infohash: string; infohashV1: string | null; magnet: string; name: string; size: number }

/** `chrysalis share PATH` (hybrid by default, `--v2-only` on request). */
export async function share(home: Home, target: string, opts: { v2Only?: boolean } = {}): Promise<Shared> {
  const r = await run(['--home', home.dir, '--json', 'share', target, ...(opts.v2Only ? ['--v2-only'] : [])])
  if (r.code !== 0) throw new Error(`chrysalis share: ${r.stderr}`)
  return JSON.parse(r.stdout) as Shared
}

/** `chrysalis torrent export INFOHASH --out FILE` */
export async function exportTorrent(home: Home, infohash: string, file: string): Promise<void> {
  const r = await run(['--home', home.dir, '--json', 'torrent', 'export', infohash, '--out', file])
  if (r.code !== 0) throw new Error(`chrysalis torrent export: ${r.stderr}`)
}

/**
 * `chrysalis serve` for this home until the test ends; with `btPort`, waits until the BitTorrent
 * TCP listener accepts connections (unless `listens: false`, as with --encrypted-only).
 */
export async function serve(t: Test, home: Home, opts: { btPort?: number; listens?: boolean } = {}): Promise<Daemon> {
  const d = daemon(t, [...home.args, ...(opts.btPort !== undefined ? ['--bt-port', String(opts.btPort)] : []), 'serve'])
  await d.waitFor(/^serving /m, 30_000)
  const port = opts.btPort
  if (port !== undefined && port !== 0 && opts.listens !== false) await waitFor(() => tcpOpen(port), 15_000, `a BitTorrent listener on 127.0.0.1:${port}`)
  return d
}

/** What `fetch --json` reports of each torrent (the contract's fields guarded: older engines lack them). */
export interface Fetched {
  path: string
  infohash: string
  name: string
  bytes: number
  downloaded?: number
  seconds?: number | null
  sources?: { peers: number; webSeeds: number }
  [more: string]: unknown
}

/** `chrysalis fetch TARGET --out OUT [--peer …]` with this home's network flags; its --json report. */
export async function fetch(home: Home, target: string, out: string, opts: { peers?: string[]; timeout?: number; extra?: string[] } = {}): Promise<{ code: number | null; fetched: Fetched[]; stderr: string; json: unknown }> {
  const args = [...home.args, '--json', 'fetch', target, '--out', out, '--timeout', String(opts.timeout ?? 60), ...(opts.extra ?? [])]
  for (const p of opts.peers ?? []) args.push('--peer', p)
  const r = await run(args)
  let json: unknown
  try {
    json = JSON.parse(r.stdout)
  } catch {
    json = null // an error: stderr says why
  }
  const fetched = (json as { fetched?: Fetched[] } | null)?.fetched ?? []
  return { code: r.code, fetched, stderr: r.stderr, json }
}

/** SHA-256 of every file under `root` (a file: {'': hash}), by relative path. */
export async function hashTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const st = await fs.stat(root)
  if (st.isFile()) return { '': crypto.createHash('sha256').update(await fs.readFile(root)).digest('hex') }
  for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    out[path.relative(root, full)] = crypto.createHash('sha256').update(await fs.readFile(full)).digest('hex')
  }
  return out
}

/** libtorrent's RESULT sha256 ({"name/rel": hex} or {"name": hex}) keyed like makeFiles (relative to the torrent's root). */
export function ltHashes(name: string, sha: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [p, h] of Object.entries(sha ?? {})) out[p === name ? '' : p.startsWith(name + '/') ? p.slice(name.length + 1) : p] = h
  return out
}
