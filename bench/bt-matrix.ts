// The BitTorrent matrix (issue 10, "Done when"): one file, every pairing of Chrysalis and libtorrent
// 2.0.8 as seeder and downloader, in one run, interleaved (round 1 of every pairing, then round 2…),
// each figure the download's own time (first data → complete, as each downloader reports it).
//   C→C TCP          chrysalis serve --bt-port P  ←  chrysalis fetch MAGNET --peer 127.0.0.1:P
//   lt→lt default    lt-interop.py seed           ←  lt-interop.py fetch --peer
//   lt→lt hp seed    the same, lt.high_performance_seed() on the seeder
//   lt→C             lt-interop.py seed           ←  chrysalis fetch MAGNET --peer
//   C→lt             chrysalis serve --bt-port P  ←  lt-interop.py fetch .torrent --peer
//   C→C hyperswarm   chrysalis serve --encrypted-only ← chrysalis fetch --encrypted-only (found on hyperswarm)
// Every side is its own process on 127.0.0.1; the torrent is the one `chrysalis share` made (hybrid),
// exported for libtorrent, so all six move the same bytes in the same pieces. The TCP fetchers sit
// on a hyperswarm network of their own (no second path to the seeder); the mainline DHT is off.
// CPU seconds per GiB and peak RSS: downloaders through bench/rusage.py (getrusage of the child),
// seeders from /proc/PID (utime+stime around each download; VmHWM after resetting it via clear_refs).
//
//   npm run build && node --import tsx bench/bt-matrix.ts          (BENCH_BT_MIB=32 for a smoke run,
//   BENCH_BT_RUNS=N rounds, default 3; BENCH_BT_ONLY=c-c-tcp,lt-lt to pick pairings; BENCH_PROFILE=DIR
//   for CPU profiles of the Chrysalis processes; BENCH_NODE_FLAGS='--trace-gc' for more node flags
//   there; BENCH_STDERR=1 to print each downloader's stderr)
import { spawn, type ChildProcess } from 'node:child_process'
import fsSync from 'node:fs'
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import type { Row } from './feeds.js'
import { makeTestFile } from './hash_baseline.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const BIN = path.join(here, '..', 'dist', 'src', 'cli', 'main.js')
const LT = path.join(here, '..', 'test', 'oracle', 'lt-interop.py')
const RUSAGE = path.join(here, 'rusage.py')
const PYTHON = '/usr/bin/python3'
const MiB = 1024 * 1024
const GiB = 1024 * MiB
// BENCH_PROFILE=DIR: V8 CPU profiles of every Chrysalis serve and fetch process (node --cpu-prof).
// BENCH_NODE_FLAGS='--trace-gc …': more node flags for those processes.
const PROFILE = [
  ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_PROFILE)] : []),
  ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])
]
const TICKS = 100 // USER_HZ: /proc/PID/stat counts CPU time in these (100 on Linux everywhere)

type Pairing = 'c-c-tcp' | 'lt-lt' | 'lt-lt-hp' | 'lt-c' | 'c-lt' | 'c-c-hs'
const LABEL: Record<Pairing, string> = {
  'c-c-tcp': 'Chrysalis → Chrysalis, TCP',
  'lt-lt': 'libtorrent → libtorrent, default',
  'lt-lt-hp': 'libtorrent → libtorrent, high-performance seed',
  'lt-c': 'libtorrent → Chrysalis',
  'c-lt': 'Chrysalis → libtorrent',
  'c-c-hs': 'Chrysalis → Chrysalis, hyperswarm (--encrypted-only)'
}

interface Sample {
  seconds: number
  bytes: number
  /** CPU seconds while the data arrived (first bytes on disk → all of them), or null if not seen. */
  seederCpu: number | null
  fetcherCpu: number | null
  /** The downloader's whole process (start, metadata, hashing, close); the seeder over the same span. */
  fetcherCpuTotal: number
  seederCpuTotal: number
  seederRss: number
  fetcherRss: number
  timed: 'own' | 'wall'
}

/** A long-running child (a seeder) with its output kept; `until` waits for a stdout pattern. */
class Proc {
  out = ''
  err = ''
  constructor(readonly child: ChildProcess, readonly what: string) {
    child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (this.err += d.toString()))
    process.once('exit', () => child.kill('SIGKILL'))
  }

  async until(re: RegExp, ms: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms
    for (;;) {
      const m = re.exec(this.out)
      if (m) return m
      if (this.child.exitCode !== null) throw new Error(`${this.what} exited ${this.child.exitCode}: ${this.err.trim().slice(-500)}`)
      if (Date.now() > deadline) throw new Error(`${this.what}: no ${re} in ${ms / 1000} s: ${this.out.slice(-300)} ${this.err.slice(-300)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const done = new Promise((r) => this.child.once('close', r))
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await done
    clearTimeout(timer)
  }

  /** CPU seconds so far (user + system), from /proc. */
  cpu(): number {
    const stat = fsSync.readFileSync(`/proc/${this.child.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS // utime, stime (fields 14 and 15)
  }

  /** Reset the peak RSS (VmHWM) to the current RSS. */
  resetPeak(): void {
    try {
      fsSync.writeFileSync(`/proc/${this.child.pid}/clear_refs`, '5')
    } catch {
      // Not allowed (another user's process): the peak is then the process's lifetime peak.
    }
  }

  peakRss(): number {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fsSync.readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  }
}

function start(cmd: string, args: string[], what: string): Proc {
  return new Proc(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }), what)
}

/** CPU seconds (user + system) of a process so far, from /proc; null once it is gone. */
function cpuOf(pid: number): number | null {
  try {
    const stat = fsSync.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS
  } catch {
    return null
  }
}

/** Bytes allocated on disk under `dir` (sparse files count what was written). */
function allocated(dir: string): number {
  let total = 0
  let entries: fsSync.Dirent[]
  try {
    entries = fsSync.readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const e of entries) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) total += allocated(p)
    else if (e.isFile()) total += (fsSync.statSync(p, { throwIfNoEntry: false })?.blocks ?? 0) * 512
  }
  return total
}

/**
 * The download's window seen from outside: every 20 ms, the bytes on disk under `out`; CPU of the
 * downloader and the seeder when the first bytes land and when all have (CPU s in that window).
 */
function watchWindow(out: string, size: number, pids: () => { fetcher: number | null; seeder: number }): { stop(): { fetcher: number; seeder: number } | null } {
  let first: { fetcher: number; seeder: number } | null = null
  let done: { fetcher: number; seeder: number } | null = null
  const snap = (): { fetcher: number; seeder: number } | null => {
    const { fetcher, seeder } = pids()
    const f = fetcher === null ? null : cpuOf(fetcher)
    const sd = cpuOf(seeder)
    return f === null || sd === null ? null : { fetcher: f, seeder: sd }
  }
  const timer = setInterval(() => {
    if (done) return
    const bytes = allocated(out)
    if (!first && bytes > 0) first = snap()
    // Block rounding: a file's last block may hold fewer bytes than it allocates.
    if (first && bytes >= size) done = snap()
  }, 20)
  return {
    stop() {
      clearInterval(timer)
      return first && done ? { fetcher: done.fetcher - first.fetcher, seeder: done.seeder - first.seeder } : null
    }
  }
}

/** The pid of `pid`'s first child (rusage.py's command), or null. */
function childOf(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const kids = fsSync.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
    return kids.length ? Number(kids[0]) : null
  } catch {
    return null
  }
}

/** Run to completion through rusage.py: stdout, and the child's CPU seconds and peak RSS. */
function measured(cmd: string, args: string[], what: string, onStart: (pid: number | undefined) => void = () => {}): Promise<{ out: string; cpu: number; maxrss: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(PYTHON, [RUSAGE, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    onStart(c.pid)
    let out = ''
    let err = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.stderr.on('data', (d: Buffer) => (err += d.toString()))
    c.on('error', reject)
    c.on('close', (code) => {
      const m = /^RUSAGE (.*)$/m.exec(err)
      if (code !== 0 || !m) reject(new Error(`${what} failed (exit ${code}): ${err.trim().slice(-500)} ${out.slice(-300)}`))
      else {
        if (process.env.BENCH_STDERR) process.stderr.write(err)
        const u = JSON.parse(m[1]!) as { cpu: number; maxrss: number }
        resolve({ out, cpu: u.cpu, maxrss: u.maxrss })
      }
    })
  })
}

function cli(args: string[]): Promise<{ out: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.stderr.on('data', (d: Buffer) => (err += d.toString()))
    c.on('close', (code) => (code === 0 ? resolve({ out }) : reject(new Error(`chrysalis ${args.join(' ')}: ${err.trim()}`))))
  })
}

async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as net.AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function listening(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

export async function btMatrix(mib = Number(process.env.BENCH_BT_MIB ?? 512), runs = Number(process.env.BENCH_BT_RUNS ?? 3)): Promise<Row[]> {
  const only = process.env.BENCH_BT_ONLY?.split(',') as Pairing[] | undefined
  const pairings = (Object.keys(LABEL) as Pairing[]).filter((p) => !only || only.includes(p))
  const haveLt = await new Promise<boolean>((resolve) => spawn(PYTHON, ['-c', 'import libtorrent']).on('close', (c) => resolve(c === 0)).on('error', () => resolve(false)))
  if (!haveLt) return [{ what: 'BitTorrent matrix', value: 'skipped: apt-get install -y python3-libtorrent' }]
  if (!fsSync.existsSync(BIN)) return [{ what: 'BitTorrent matrix', value: 'skipped: npm run build first' }]

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-bt-'))
  const data = path.join(dir, 'data')
  await fs.mkdir(data)
  const file = path.join(data, `data-${mib}MiB.bin`)
  const procs: Proc[] = []
  // Three hyperswarm networks: the TCP seeder's, the hyperswarm pair's, and one for TCP fetchers alone.
  const nets = await Promise.all([1, 2, 3].map(() => createTestnet(3, { host: '127.0.0.1' })))
  const boot = nets.map((n) => `${n.bootstrap[0]!.host}:${n.bootstrap[0]!.port}`)
  try {
    await makeTestFile(file, mib)
    const home = (name: string): string => path.join(dir, 'homes', name)
    for (const h of ['tcp-seeder', 'hs-seeder']) await cli(['--home', home(h), 'init', '--name', h])
    const shared = JSON.parse((await cli(['--home', home('tcp-seeder'), '--json', 'share', file])).out) as { infohash: string; magnet: string; pieceLength: number }
    if (pairings.includes('c-c-hs')) await cli(['--home', home('hs-seeder'), '--json', 'share', file])
    const torrent = path.join(dir, 'data.torrent')
    await cli(['--home', home('tcp-seeder'), '--json', 'torrent', 'export', shared.infohash, '--out', torrent])

    // The seeders, for the whole run: those the chosen pairings need.
    type Seeder = { proc: Proc; port: number | null }
    const seeders = new Map<string, Promise<Seeder>>()
    const seeder = (kind: 'c-tcp' | 'c-hs' | 'lt' | 'lt-hp'): Promise<Seeder> => {
      let s = seeders.get(kind)
      if (s) return s
      s = (async () => {
        if (kind === 'c-tcp' || kind === 'c-hs') {
          const port = kind === 'c-tcp' ? await freePort() : null
          const args = kind === 'c-tcp' ? ['--home', home('tcp-seeder'), '--bootstrap', boot[0]!, '--bt-port', String(port)] : ['--home', home('hs-seeder'), '--bootstrap', boot[1]!, '--encrypted-only']
          const proc = start(process.execPath, [...PROFILE, BIN, ...args, 'serve'], `chrysalis serve (${kind})`)
          procs.push(proc)
          await proc.until(/^serving /m, 120_000)
          if (port !== null) await listening(port, 60_000)
          return { proc, port }
        }
        const proc = start(PYTHON, [LT, 'seed', torrent, data, ...(kind === 'lt-hp' ? ['--hp'] : [])], `libtorrent seeder (${kind})`)
        procs.push(proc)
        const { port } = JSON.parse((await proc.until(/^LISTENING (.*)$/m, 60_000))[1]!) as { port: number }
        await proc.until(/^READY$/m, 600_000)
        return { proc, port }
      })()
      seeders.set(kind, s)
      return s
    }
    const seederKind: Record<Pairing, 'c-tcp' | 'c-hs' | 'lt' | 'lt-hp'> = { 'c-c-tcp': 'c-tcp', 'c-lt': 'c-tcp', 'lt-lt': 'lt', 'lt-c': 'lt', 'lt-lt-hp': 'lt-hp', 'c-c-hs': 'c-hs' }
    for (const p of pairings) await seeder(seederKind[p])

    const samples = new Map<Pairing, Sample[]>(pairings.map((p) => [p, []]))
    let n = 0
    const once = async (p: Pairing): Promise<Sample> => {
      const { proc, port } = await seeder(seederKind[p])
      const out = path.join(dir, `out-${n++}`)
      proc.resetPeak()
      const cpu0 = proc.cpu()
      const t0 = performance.now()
      let seconds: number
      let bytes: number
      let timed: Sample['timed'] = 'own'
      let fetcher: { cpu: number; maxrss: number }
      let wrapper: number | undefined
      const window = watchWindow(out, mib * MiB, () => ({ fetcher: childOf(wrapper), seeder: proc.child.pid! }))
      const started = (pid: number | undefined): void => {
        wrapper = pid
      }
      try {
        if (p === 'lt-lt' || p === 'lt-lt-hp' || p === 'c-lt') {
          const r = await measured(PYTHON, [LT, 'fetch', torrent, out, '--peer', `127.0.0.1:${port}`, '--timeout', '1800'], `libtorrent fetch (${p})`, started)
          const res = JSON.parse(/^RESULT (.*)$/m.exec(r.out)![1]!) as { ok: boolean; secs: number; bytes: number }
          if (!res.ok) throw new Error(`libtorrent fetch (${p}) did not complete`)
          seconds = res.secs
          bytes = res.bytes
          fetcher = r
        } else {
          const fhome = path.join(dir, 'homes', `fetcher-${n}`)
          await cli(['--home', fhome, 'init', '--name', `fetcher-${n}`])
          const netArgs = p === 'c-c-hs' ? ['--bootstrap', boot[1]!, '--encrypted-only'] : ['--bootstrap', boot[2]!]
          const peer = port === null ? [] : ['--peer', `127.0.0.1:${port}`]
          const r = await measured(process.execPath, [...PROFILE, BIN, '--home', fhome, ...netArgs, '--json', 'fetch', shared.magnet, '--out', out, '--timeout', '1800', ...peer], `chrysalis fetch (${p})`, started)
          const f = (JSON.parse(r.out) as { fetched: Array<{ bytes: number; seconds?: number | null }> }).fetched[0]!
          bytes = f.bytes
          if (typeof f.seconds === 'number') seconds = f.seconds
          else {
            seconds = (performance.now() - t0) / 1000 // an engine without `seconds`: the whole process
            timed = 'wall'
          }
          fetcher = r
          await fs.rm(fhome, { recursive: true, force: true })
        }
      } finally {
        await fs.rm(out, { recursive: true, force: true })
      }
      const w = window.stop()
      if (bytes !== mib * MiB) throw new Error(`${p}: fetched ${bytes} bytes, not ${mib * MiB}`)
      return { seconds, bytes, seederCpu: w?.seeder ?? null, fetcherCpu: w?.fetcher ?? null, seederCpuTotal: proc.cpu() - cpu0, fetcherCpuTotal: fetcher.cpu, seederRss: proc.peakRss(), fetcherRss: fetcher.maxrss, timed }
    }
    for (let round = 0; round < runs; round++) {
      for (const p of pairings) {
        try {
          const s = await once(p)
          samples.get(p)!.push(s)
          console.error(`bt-matrix round ${round + 1}/${runs} ${LABEL[p]}: ${(mib / s.seconds).toFixed(1)} MiB/s (${s.seconds.toFixed(2)} s${s.timed === 'wall' ? ', whole process' : ''})`)
        } catch (err) {
          console.error(`bt-matrix round ${round + 1}/${runs} ${LABEL[p]}: FAILED ${(err as Error).message}`)
        }
      }
    }

    const rows: Row[] = []
    const rate = (p: Pairing): number | null => {
      const s = samples.get(p)
      return s?.length ? mib / median(s.map((x) => x.seconds)) : null
    }
    const gib = (mib * MiB) / GiB
    for (const p of pairings) {
      const s = samples.get(p)!
      const f = figures(mib, s)
      rows.push({
        what: `bt ${mib} MiB ${LABEL[p]}`,
        value: !f ? 'FAILED (see stderr)' : `${f.rate} MiB/s (${f.runs}) · CPU s/GiB during the download: seeder ${f.seed} downloader ${f.fetch} (whole downloader process ${(median(s.map((x) => x.fetcherCpuTotal)) / gib).toFixed(2)}) · peak RSS seeder ${f.seedRss} downloader ${f.fetchRss}`
      })
    }
    printTable(mib, pairings.map((p) => ({ label: LABEL[p], samples: samples.get(p)! })))
    const c = rate('c-c-tcp')
    const l = rate('lt-lt')
    rows.push({ what: 'bt ratio C→C TCP / lt→lt default', value: c !== null && l !== null ? `${(c / l).toFixed(2)}× (target ≥ 1.0×; ${shared.pieceLength / 1024} KiB pieces, hybrid)` : 'n/a' })
    return rows
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
    await Promise.all(nets.map((n) => n.destroy()))
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** The figures of one pairing, formatted: median MiB/s, each run's, CPU s/GiB (median), peak RSS (max). */
function figures(mib: number, s: Sample[]): { rate: string; runs: string; seed: string; fetch: string; fetchTotal: string; seedRss: string; fetchRss: string } | null {
  if (s.length === 0) return null
  const gib = (mib * MiB) / GiB
  const cpu = (xs: Array<number | null>): string => {
    const known = xs.filter((x): x is number => x !== null)
    return known.length ? (median(known) / gib).toFixed(2) : '?'
  }
  return {
    rate: (mib / median(s.map((x) => x.seconds))).toFixed(1) + (s.some((x) => x.timed === 'wall') ? '*' : ''),
    runs: s.map((x) => (mib / x.seconds).toFixed(0)).join(' '),
    seed: cpu(s.map((x) => x.seederCpu)),
    fetch: cpu(s.map((x) => x.fetcherCpu)),
    fetchTotal: cpu(s.map((x) => x.fetcherCpuTotal)),
    seedRss: `${(Math.max(...s.map((x) => x.seederRss)) / MiB).toFixed(0)} MiB`,
    fetchRss: `${(Math.max(...s.map((x) => x.fetcherRss)) / MiB).toFixed(0)} MiB`
  }
}

/** The matrix as a table on stdout. */
function printTable(mib: number, lines: Array<{ label: string; samples: Sample[] }>): void {
  const head = ['pairing', 'MiB/s', 'runs (MiB/s)', 'CPU s/GiB seed', 'fetch', 'fetch (process)', 'peak RSS seed', 'fetch']
  const body = lines.map(({ label, samples }) => {
    const f = figures(mib, samples)
    return f ? [label, f.rate, f.runs, f.seed, f.fetch, f.fetchTotal, f.seedRss, f.fetchRss] : [label, 'FAILED', '', '', '', '', '', '']
  })
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  console.log(`\nBitTorrent matrix, ${mib} MiB, ${lines[0]?.samples.length ?? 0} interleaved round(s). MiB/s: the download's own time (first data → complete, as the downloader reports it${lines.some((l) => l.samples.some((x) => x.timed === 'wall')) ? '; * the whole fetch process: no `seconds` in fetch --json' : ''}).`)
  console.log('CPU s/GiB: while the data arrived (first bytes on disk → all of them, /proc every 20 ms); "fetch (process)": the whole downloader process. Peak RSS: VmHWM / getrusage.')
  for (const r of [head, ...body]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const rows = await btMatrix()
  const width = Math.max(...rows.map((r) => r.what.length))
  for (const r of rows) console.log(`${r.what.padEnd(width)}  ${r.value}`)
}
