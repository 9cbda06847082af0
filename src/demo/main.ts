import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startCommunity, type Community } from './community.js'

/**
 * `npm run demo`: a demo community of manual collectors on a DHT on 127.0.0.1, and the terminal
 * UI for a new, empty identity on the same DHT. Everything lives in a temporary directory that
 * is removed at the end. `--no-tui` (or no terminal) prints the bootstrap address and the
 * collectors as one JSON line on stdout and runs until SIGINT/SIGTERM, for tests and for trying
 * the CLI against it:
 *
 *   node dist/src/demo/main.js --no-tui
 *   {"bootstrap":"127.0.0.1:49737","dir":"/tmp/chrysalis-demo-…","collectors":[…]}
 *   chrysalis --home /tmp/you --bootstrap 127.0.0.1:49737 discover vintage-manuals
 */

const USAGE = 'usage: npm run demo [-- --no-tui]'

type Stop = NodeJS.Signals

async function main(argv: string[]): Promise<number> {
  const flags = parseFlags(argv)
  if (flags === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const withTui = flags.tui && process.stdin.isTTY && process.stdout.isTTY
  if (flags.tui && !withTui) say('the terminal UI needs a terminal; running the community only (as with --no-tui): stop it with Ctrl-C')
  const cli = withTui ? cliEntry() : null
  if (withTui && !cli) throw new Error('the CLI is not built; run `npm run build` first')

  // Signals before the community is up are remembered and acted on once it is.
  let stopped: Stop | null = null
  let onStop = (signal: Stop): void => void (stopped ??= signal)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => onStop(signal))

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-demo-'))
  let quiet = false
  let community: Community | null = null
  const cleanup = async (): Promise<void> => {
    await community?.close()
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 })
  }
  try {
    const started = Date.now()
    community = await startCommunity({
      dir,
      log: (line) => {
        if (!quiet) say(line)
      }
    })
    say(`the community is up in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    if (stopped) return exitCodeOf(null, stopped)
    if (!withTui) {
      process.stdout.write(`${JSON.stringify({ bootstrap: community.bootstrap, dir, collectors: community.collectors })}\n`)
      await new Promise<Stop>((resolve) => (onStop = resolve))
      return 0
    }
    say('opening the terminal UI for a new identity: find the collectors on "vintage-manuals"')
    quiet = true // the terminal belongs to the UI now
    const child = spawnTui(cli!, dir, community.bootstrap)
    // A terminal's Ctrl-C reaches the child by itself (or, in raw mode, not as a signal at all);
    // a `kill` of this process must reach it too.
    onStop = (signal) => void (child.exitCode === null && child.kill(signal))
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)))
    })
  } finally {
    await cleanup()
  }
}

function parseFlags(argv: string[]): { tui: boolean } | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help'
  const unknown = argv.find((a) => a !== '--no-tui')
  if (unknown !== undefined) throw new UsageError(`unknown option "${unknown}"; ${USAGE}`)
  return { tui: !argv.includes('--no-tui') }
}

/** The terminal UI for a fresh home in DIR/you, on the community's DHT. */
function spawnTui(cli: string, dir: string, bootstrap: string): ChildProcess {
  const args = [cli, '--home', path.join(dir, 'you'), '--bootstrap', bootstrap, 'tui', '--downloads', path.join(dir, 'downloads')]
  return spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, CHRYSALIS_DEMO: '1' } })
}

/** The built CLI: the bundle when there is one, else the compiled entry; null if neither. */
function cliEntry(): string | null {
  const root = packageRoot(path.dirname(fileURLToPath(import.meta.url)))
  const candidates = [path.join(root, 'dist', 'bundle', 'launch.mjs'), path.join(root, 'dist', 'src', 'cli', 'main.js')]
  return candidates.find((file) => existsSync(file)) ?? null
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}

/** The child's exit code; 128 + the signal number when a signal ended it (as shells report). */
function exitCodeOf(code: number | null, signal: Stop | null): number {
  if (code !== null) return code
  return 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)
}

function say(line: string): void {
  process.stderr.write(`${line}\n`)
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  // Exit now: a node's pending retries and timers must not hold the process open.
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    say(`chrysalis demo: ${message}`)
    if (process.env.CHRYSALIS_DEBUG && err instanceof Error && err.stack) say(err.stack)
    process.exit(err instanceof UsageError ? 2 : 1)
  }
)
