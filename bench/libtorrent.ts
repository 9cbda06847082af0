// Baseline: libtorrent (Debian's python3-libtorrent 2.0.8) moving the same file session → session on
// 127.0.0.1, in two processes. The work is in bench/libtorrent_transfer.py; this runs it with
// /usr/bin/python3 and turns its JSON lines into rows.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Row } from './feeds.js'

const PYTHON = '/usr/bin/python3'
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'libtorrent_transfer.py')
const SKIPPED = 'skipped: apt-get install -y python3-libtorrent'
const EXIT_NO_LIBTORRENT = 3 // libtorrent_transfer.py's exit status when the module is missing

interface LtLine {
  what: string
  mib_s: number
  seconds: number
  runs?: number[]
  first_peer_s?: number
  mib_s_after_first_peer?: number
  note?: string
}

/**
 * Runs libtorrent_transfer.py on `file` (default settings, then high_performance_seed() on the
 * seeder; median of `runs`, default 3). Without python3-libtorrent (or /usr/bin/python3): one row
 * saying it was skipped.
 */
export async function libtorrentBaseline(file: string, opts: { runs?: number } = {}): Promise<Row[]> {
  const args = [SCRIPT, file, '--runs', String(opts.runs ?? 3)]
  const { code, out, err } = await new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') resolve({ code: EXIT_NO_LIBTORRENT, out: '', err: `${PYTHON} not found` })
      else reject(e)
    })
    child.on('close', (code) => resolve({ code, out, err }))
  })
  if (code === EXIT_NO_LIBTORRENT) return [{ what: 'libtorrent session→session loopback', value: SKIPPED }]
  const rows: Row[] = []
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    const r = JSON.parse(line) as LtLine
    const runs = r.runs ? `: ${r.runs.map((x) => x.toFixed(1)).join(', ')}` : ''
    const after = r.first_peer_s !== undefined && r.mib_s_after_first_peer !== undefined
      ? `; ${r.mib_s_after_first_peer.toFixed(1)} MiB/s after the first peer at ${r.first_peer_s.toFixed(2)} s`
      : ''
    rows.push({ what: r.what, value: `${r.mib_s.toFixed(1)} MiB/s (${r.seconds.toFixed(2)} s, median of ${r.runs?.length ?? 1}${runs}${after}; file cached)` })
  }
  if (code !== 0) {
    rows.push({ what: 'libtorrent session→session loopback', value: `failed (exit ${code}): ${err.trim().split('\n').pop() ?? ''}` })
  }
  return rows
}

// Standalone: node --import tsx bench/libtorrent.ts FILE [RUNS]
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2]
  if (file === undefined) throw new Error('usage: libtorrent.ts FILE [RUNS]')
  const runs = Number(process.argv[3] ?? 3)
  for (const r of await libtorrentBaseline(file, { runs })) console.log(`${r.what}  ${r.value}`)
}
