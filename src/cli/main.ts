#!/usr/bin/env node
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { displayLine, displayText } from '../display.js'
import { ChrysalisError } from '../errors.js'
import { resolveHome } from '../identity/home.js'
import { ChrysalisNode } from '../node/node.js'
import { Writable } from 'node:stream'
import { callNode, listenNode, type RouteResponse } from '../node/socket.js'
import { COMMANDS, type Command, type Context, type OptionSpec } from './commands.js'
import { FILE_COMMANDS } from './files.js'
import { IDENTITY_COMMANDS } from './identity.js'
import { PEOPLE_COMMANDS } from './people.js'
import { TUI_COMMANDS } from './tui.js'
import { bootstrapOf, btOf, openHostedNode, openWhenFree, refuseIfServing } from './host.js'
import { btOptionsOf, readConfig } from './bt-config.js'
import { BT_OPTIONS, type BtFlags, btFlagsOf } from './bt-flags.js'

/** Every command, by name (two words for sub-commands). */
const ALL: Record<string, Command> = { init: IDENTITY_COMMANDS['init']!, ...COMMANDS, ...PEOPLE_COMMANDS, ...IDENTITY_COMMANDS, ...FILE_COMMANDS, ...TUI_COMMANDS }

const GLOBAL: Record<string, OptionSpec> = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  bootstrap: { type: 'string', multiple: true },
  ...BT_OPTIONS,
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' }
}

/**
 * `chrysalis [--home DIR] [--json] COMMAND …`. Returns the exit code: 0, 1 for errors, 2 for
 * usage errors. Errors are one line on stderr (and with --json also {"error"} on stdout).
 */
export interface MainOptions {
  /** Run against this open node (a request routed to a running `serve`). */
  node?: ChrysalisNode
  /** Standard input sent along with a routed request. */
  stdin?: string | null
  /** The caller's working directory (routed requests); default process.cwd(). */
  cwd?: string
}

type IO = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }

export async function main(argv: string[], io: IO = process, opts: MainOptions = {}): Promise<number> {
  const json = argv.includes('--json')
  try {
    const found = findCommand(argv)
    const { name, rest } = found
    // `chrysalis` alone opens the terminal UI.
    const bare = found.command === null && name === null && !argv.includes('--help') && !argv.includes('-h') && !argv.includes('--version')
    const command = bare && !opts.node ? ALL.tui! : found.command
    const parsed = parse(rest, { ...GLOBAL, ...(command?.options ?? {}) })
    if (parsed.values.version) {
      io.stdout.write(json ? JSON.stringify({ version: version() }) + '\n' : `chrysalis ${version()}\n`)
      return 0
    }
    if (!command || parsed.values.help) {
      if (!command && name !== null && !parsed.values.help) throw new ChrysalisError('USAGE', `unknown command "${name}"; run \`chrysalis --help\` for the list`)
      io.stdout.write(command ? `usage: chrysalis ${command.usage}\n\n${command.summary}\n` : help())
      return 0
    }
    const [min, max] = command.args
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new ChrysalisError('USAGE', `usage: chrysalis ${command.usage}`)
    }
    const home = resolveHome(typeof parsed.values.home === 'string' ? parsed.values.home : undefined)
    const btFlags = btFlagsOf(parsed.values)
    // A bad BitTorrent flag fails whatever the command (the environment and config only when used).
    btOptionsOf({ flags: btFlags, env: {}, config: {}, hyperswarmBootstrap: true })
    if (opts.node && !command.usesNode) {
      // Through the socket only what needs the node: no prompts on the node's terminal, no secrets over the socket.
      throw new ChrysalisError('USAGE', `${name ?? 'this command'} does not run through a running node; run it directly`)
    }
    if (!opts.node && command.servesHome) await refuseIfServing(home)
    // While this process waits for the home, a node that starts serving it takes over.
    let onServing = command.servesHome ? () => refuseIfServing(home) : () => Promise.resolve()
    if (!opts.node && command.usesNode) {
      // A node running for this home holds its store: run the command there.
      const stdin = parsed.positionals.includes('-') ? await readStdin() : null
      const route = async (): Promise<void> => {
        const routed = await callNode(home, { argv, stdin, cwd: process.cwd() })
        if (routed) throw new Routed(routed)
      }
      await route()
      onServing = route
      if (stdin !== null) opts = { ...opts, stdin }
    }
    const bootstrapFlags = Array.isArray(parsed.values.bootstrap) ? parsed.values.bootstrap.filter((v): v is string => typeof v === 'string') : []
    const ctx: Context = {
      home,
      json,
      values: parsed.values,
      args: parsed.positionals,
      resolvePath: (p) => path.resolve(opts.cwd ?? process.cwd(), p),
      print(human, data) {
        // Human output carries other people's names, posts and file names: never their escape sequences.
        io.stdout.write(json ? JSON.stringify(data) + '\n' : displayText(human) + '\n')
      },
      async withNode(fn) {
        if (opts.node) return fn(opts.node)
        const notice = process.stderr.isTTY || process.env.CHRYSALIS_DEBUG ? (line: string) => io.stderr.write(line + '\n') : null
        const node = await openWhenFree(home, { notice, onServing })
        try {
          return await fn(node)
        } finally {
          await node.close()
        }
      },
      readStdin: () => (opts.stdin != null ? Promise.resolve(opts.stdin) : readStdin()),
      serveRequests: (node) => serveHome(home, node),
      host: (downloads) => hostNode(home, bootstrapFlags, downloads, btFlags),
      bootstrap: () => bootstrapOf(bootstrapFlags),
      config: () => readConfig(home),
      bt: () => btOf(home, bootstrapFlags, btFlags),
      async online(node, opts = {}) {
        await node.online({ bootstrap: bootstrapOf(bootstrapFlags), bt: await btOf(home, bootstrapFlags, btFlags), ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}) })
      },
      stderrIsTTY: !opts.node && process.stderr.isTTY === true,
      log(line) {
        // A routed command's stderr arrives when it is done: periodic lines would come all at once.
        if (!opts.node) io.stderr.write(displayLine(line) + '\n')
      },
      progress(line) {
        if (!json && !opts.node && process.stderr.isTTY) io.stderr.write(`\r\x1b[2K${displayLine(line)}`)
      }
    }
    await command.run(ctx)
    if (!json && !opts.node && process.stderr.isTTY) io.stderr.write('\r\x1b[2K')
    return 0
  } catch (err) {
    if (err instanceof Routed) {
      // What the serve printed for us passed displayText there; again here, cheaply, in case it did not.
      io.stdout.write(json ? err.response.stdout : displayText(err.response.stdout))
      io.stderr.write(displayText(err.response.stderr))
      return err.response.code
    }
    const e = toUserError(err)
    if (json) io.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n')
    io.stderr.write(`chrysalis: ${displayLine(e.message)}\n`)
    if (process.env.CHRYSALIS_DEBUG && err instanceof Error && err.stack) io.stderr.write(err.stack + '\n')
    return e.exitCode
  }
}

/** HOME's node hosted for the terminal UI (host.ts), answering other CLI processes' commands. */
export function hostNode(home: string, bootstrap: string[], downloads: string, btFlags: BtFlags = {}): Promise<{ node: ChrysalisNode; close: () => Promise<void> }> {
  return openHostedNode(home, bootstrap, downloads, btFlags, (node) => serveHome(home, node))
}

/** Answer other CLI processes' commands for HOME through `node` (the local socket). */
function serveHome(home: string, node: ChrysalisNode): Promise<() => Promise<void>> {
  return listenNode(home, async (req) => {
    const out = capture()
    const code = await main(req.argv, out.io, { node, stdin: req.stdin, ...(req.cwd ? { cwd: req.cwd } : {}) })
    return { stdout: out.stdout(), stderr: out.stderr(), code }
  })
}

/** An IO pair that collects what a routed command prints. */
function capture(): { io: IO; stdout: () => string; stderr: () => string } {
  let out = ''
  let err = ''
  const sink = (append: (s: string) => void): NodeJS.WritableStream =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        append(chunk.toString())
        cb()
      }
    })
  return { io: { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) }, stdout: () => out, stderr: () => err }
}

/** A command that went through the node serving its home: its output, to print as it is. */
class Routed extends Error {
  constructor(readonly response: RouteResponse) {
    super('run by the node serving this home')
  }
}

function findCommand(argv: string[]): { command: Command | null; name: string | null; rest: string[] } {
  // The command is the first word that is not an option or an option's value.
  const words: number[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--home' || a === '--bootstrap' || a === '--bt-port' || a === '--bt-bootstrap') i++
    else if (!a.startsWith('-') || a === '-') words.push(i)
    if (words.length === 2) break
  }
  const first = words[0] !== undefined ? argv[words[0]]! : null
  if (first === null) return { command: null, name: null, rest: argv }
  const second = words[1] !== undefined ? argv[words[1]]! : null
  const pair = second !== null ? `${first} ${second}` : null
  if (pair !== null && ALL[pair]) return { command: ALL[pair], name: pair, rest: argv.filter((_, i) => i !== words[0] && i !== words[1]) }
  if (first === 'identity') {
    throw new ChrysalisError('USAGE', 'usage: chrysalis identity phrase | identity export --out FILE | identity import FILE | identity import --phrase "WORDS" | identity never-posted')
  }
  return { command: ALL[first] ?? null, name: first, rest: argv.filter((_, i) => i !== words[0]) }
}

function parse(args: string[], options: Record<string, OptionSpec>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (err) {
    // parseArgs' messages are long and mention internals; keep the first sentence.
    const msg = err instanceof Error ? err.message.split('. ')[0]!.replace(/^Unknown option/, 'unknown option') : 'bad arguments'
    throw new ChrysalisError('USAGE', `${msg}; run \`chrysalis --help\``)
  }
}

function toUserError(err: unknown): ChrysalisError {
  if (err instanceof ChrysalisError) return err
  const e = err as NodeJS.ErrnoException
  if (e && typeof e === 'object' && (e.code === 'EACCES' || e.code === 'EPERM')) {
    return new ChrysalisError('IO', `permission denied on ${e.path ?? 'a file'}; check the home directory's owner and mode`)
  }
  if (e && typeof e === 'object' && e.code === 'ENOSPC') return new ChrysalisError('DISK_FULL', 'the disk is full; free some space and try again')
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err)
  return new ChrysalisError('INTERNAL', `unexpected error: ${message}; run again with CHRYSALIS_DEBUG=1 and report it`)
}

export function help(): string {
  const width = Math.max(...Object.values(ALL).map((c) => c.usage.length))
  const lines = Object.values(ALL).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`)
  return [
    'chrysalis: a decentralized social network for people who share files they care about',
    '',
    'usage: chrysalis [--home DIR] [--json] COMMAND [ARGS]',
    '',
    'commands:',
    ...lines,
    '',
    'options everywhere:',
    '  --home DIR   the identity home (default $CHRYSALIS_HOME, else $XDG_DATA_HOME/chrysalis, else ~/.local/share/chrysalis)',
    '  --json       print exactly one JSON document on stdout',
    '  --bootstrap HOST:PORT   DHT bootstrap node (repeatable; or CHRYSALIS_BOOTSTRAP=H:P,H:P); default: the public HyperDHT',
    '  -h, --help   help for a command',
    '',
    'BitTorrent (HOME/config.json may set btPort, encryptedOnly, btBootstrap, trackers; flags win, then the environment):',
    '  --bt-port PORT          TCP port for BitTorrent peers (or CHRYSALIS_BT_PORT); default 6881, else a free one',
    '  --encrypted-only        files travel only over encrypted hyperswarm connections: no TCP peers, no mainline DHT',
    '                          (TCP BitTorrent traffic is plaintext, as with other clients by default)',
    '  --bt-bootstrap HOST:PORT[,…]  mainline DHT nodes instead of the public routers (or CHRYSALIS_BT_BOOTSTRAP)',
    '  --no-bt-dht             stay off the mainline DHT; it is off too when --bootstrap names a private',
    '                          network and no --bt-bootstrap is given',
    '',
    'REF, a post reference, is AUTHOR-ID/POST-ID as printed by post, feed, timeline and thread.',
    'ID is an identity ID: 52 z-base-32 characters (or 64 hex digits).',
    ''
  ].join('\n')
}

function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json')
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf-8')) as { version: string }).version
    dir = path.dirname(dir)
  }
  return 'unknown'
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf-8')
}

const isEntry = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
if (isEntry) {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0)
  })
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(`chrysalis: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = 1
    }
  )
}
