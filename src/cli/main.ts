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
import type { Command, Context, OptionSpec } from './commands.js'
import { ALL, GLOBAL, GROUPS, commandHelp, groupCommands, groupHelp, help } from './help.js'
import { type HostedNode, bootstrapOf, btOf, openHostedNode, openWhenFree, refuseIfServing } from './host.js'
import { btOptionsOf, readConfig } from './bt-config.js'
import { type BtFlags, btFlagsOf } from './bt-flags.js'
import { ProgressLine } from './progress.js'

export { help }

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

/** Where a command writes; a stderr with isTTY set is a terminal (progress lines show). */
type IO = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } }

export async function main(argv: string[], io: IO = process, opts: MainOptions = {}): Promise<number> {
  const json = argv.includes('--json')
  // A routed command's stderr arrives when it is done: no terminal there.
  const tty = !opts.node && io.stderr.isTTY === true
  // The progress line is cleared before anything else reaches the terminal, and at the end.
  const progress = new ProgressLine(io.stderr, tty && !json)
  const out = (text: string): void => {
    progress.clear()
    io.stdout.write(text)
  }
  const err = (text: string): void => {
    progress.clear()
    io.stderr.write(text)
  }
  try {
    const found = findCommand(argv)
    const { name, rest } = found
    // `chrysalis` alone opens the terminal UI.
    const bare = found.command === null && name === null && !argv.includes('--help') && !argv.includes('-h') && !argv.includes('--version')
    const command = bare && !opts.node ? ALL.tui! : found.command
    const parsed = parse(rest, { ...GLOBAL, ...(command?.options ?? {}) }, name)
    if (parsed.values.version) {
      out(json ? JSON.stringify({ version: version() }) + '\n' : `chrysalis ${version()}\n`)
      return 0
    }
    if (!command || parsed.values.help) {
      if (name !== null && GROUPS[name]) {
        if (parsed.values.help) {
          out(groupHelp(name))
          return 0
        }
        const subcommands = groupCommands(name).map((n) => n.slice(name.length + 1))
        throw new ChrysalisError('USAGE', `${name} needs a subcommand: ${subcommands.join(', ')}; run \`chrysalis ${name} --help\``)
      }
      if (!command && name !== null && !parsed.values.help) throw new ChrysalisError('USAGE', `unknown command "${name}"; run \`chrysalis --help\` for the list`)
      out(command ? commandHelp(command) : help())
      return 0
    }
    const [min, max] = command.args
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new ChrysalisError('USAGE', `usage: chrysalis ${command.usage}; run \`chrysalis ${name ?? 'tui'} --help\` for more`)
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
        out(json ? JSON.stringify(data) + '\n' : displayText(human) + '\n')
      },
      async withNode(fn) {
        if (opts.node) return fn(opts.node)
        const notice = tty || process.env.CHRYSALIS_DEBUG ? (line: string) => err(line + '\n') : null
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
      stderrIsTTY: tty,
      log(line) {
        // A routed command's stderr arrives when it is done: periodic lines would come all at once.
        if (!opts.node) err(displayLine(line) + '\n')
      },
      progress(line) {
        progress.show(line)
      }
    }
    await command.run(ctx)
    return 0
  } catch (error) {
    if (error instanceof Routed) {
      // What the serve printed for us passed displayText there; again here, cheaply, in case it did not.
      out(json ? error.response.stdout : displayText(error.response.stdout))
      err(displayText(error.response.stderr))
      return error.response.code
    }
    const e = toUserError(error)
    if (json) out(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n')
    err(`chrysalis: ${displayLine(e.message)}\n`)
    if (process.env.CHRYSALIS_DEBUG && error instanceof Error && error.stack) err(error.stack + '\n')
    return e.exitCode
  } finally {
    progress.clear()
  }
}

/** HOME's node hosted for the terminal UI (host.ts), answering other CLI processes' commands. */
export function hostNode(home: string, bootstrap: string[], downloads: string, btFlags: BtFlags = {}): Promise<HostedNode> {
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
  // A group word (identity, torrent) alone, or with a subcommand it does not have.
  if (GROUPS[first] && pair !== null && !argv.includes('--help') && !argv.includes('-h')) {
    throw new ChrysalisError('USAGE', `unknown command "${pair}"; run \`chrysalis ${first} --help\` for its commands`)
  }
  if (GROUPS[first]) return { command: null, name: first, rest: argv.filter((_, i) => i !== words[0] && i !== words[1]) }
  return { command: ALL[first] ?? null, name: first, rest: argv.filter((_, i) => i !== words[0]) }
}

function parse(args: string[], options: Record<string, OptionSpec>, name: string | null) {
  // parseArgs takes only its own keys (help and value are for --help).
  const specs = Object.fromEntries(
    Object.entries(options).map(([k, o]) => [k, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }])
  )
  // "--limit -5": a negative number is the option's value (its own check then says what fits), not an option.
  const joined: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const next = args[i + 1]
    if (a.startsWith('--') && specs[a.slice(2)]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      joined.push(`${a}=${next}`)
      i++
    } else joined.push(a)
  }
  try {
    return parseArgs({ args: joined, options: specs, allowPositionals: true, strict: true })
  } catch (err) {
    throw new ChrysalisError('USAGE', `${parseError(err)}; run \`chrysalis ${name !== null ? `${name} ` : ''}--help\``)
  }
}

/** parseArgs' message (several lines naming its internals) as one short clause. */
function parseError(err: unknown): string {
  const first = err instanceof Error ? err.message.split('\n')[0]!.replace(/\.$/, '') : 'bad arguments'
  let m: RegExpExecArray | null
  if ((m = /^Option '(-[^' ]+)(?: <value>)?' argument missing/.exec(first))) return `${m[1]} needs a value`
  if ((m = /^Option '(-[^']+)' argument is ambiguous/.exec(first))) return `${m[1]} needs a value; for one that starts with "-" write ${m[1]}=VALUE`
  if ((m = /^Option '(-[^']+)' does not take an argument/.exec(first))) return `${m[1]} takes no value`
  if ((m = /^Unknown option '([^']+)'/.exec(first))) return `unknown option '${m[1]}'`
  return first.split('. ')[0]!
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
