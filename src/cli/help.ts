import { COMMANDS, type Command, type OptionSpec } from './commands.js'
import { FILE_COMMANDS } from './files.js'
import { IDENTITY_COMMANDS } from './identity.js'
import { PEOPLE_COMMANDS } from './people.js'
import { TUI_COMMANDS } from './tui.js'
import { BT_OPTIONS } from './bt-flags.js'

/**
 * The command table and its help: `chrysalis --help`, `chrysalis COMMAND --help` and
 * `chrysalis GROUP --help` (identity, torrent), every line within 80 columns.
 *
 *   io.stdout.write(commandHelp('fetch', ALL.fetch!))
 */

/** Every command, by name (two words for sub-commands). */
export const ALL: Record<string, Command> = { init: IDENTITY_COMMANDS['init']!, ...COMMANDS, ...PEOPLE_COMMANDS, ...IDENTITY_COMMANDS, ...FILE_COMMANDS, ...TUI_COMMANDS }

/** The first words of two-word commands, and what their commands are about. */
export const GROUPS: Record<string, string> = {
  identity: 'your identity: show its recovery phrase, back it up, restore it',
  torrent: 'torrents as files: what one holds, or a standard .torrent of one this node knows'
}

/** Options every command takes. */
export const GLOBAL: Record<string, OptionSpec> = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  bootstrap: { type: 'string', multiple: true },
  ...BT_OPTIONS,
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' }
}

/** Help is read in terminals 80 columns wide. */
export const COLUMNS = 80

/** The subcommands of a group ("identity export", …), in table order. */
export function groupCommands(group: string): string[] {
  return Object.keys(ALL).filter((name) => name.startsWith(group + ' '))
}

export function help(): string {
  return [
    ...wrap('chrysalis: a decentralized social network for people who share files they care about'),
    '',
    'usage: chrysalis [--home DIR] [--json] COMMAND [ARGS]',
    '       chrysalis COMMAND --help    (what its options do)',
    '',
    'commands:',
    ...table(Object.values(ALL).map((c) => [c.usage, c.summary])),
    '',
    'options everywhere:',
    ...table([
      ['--home DIR', 'the identity home (default $CHRYSALIS_HOME, else $XDG_DATA_HOME/chrysalis, else ~/.local/share/chrysalis)'],
      ['--json', 'print exactly one JSON document on stdout'],
      ['--bootstrap HOST:PORT', 'DHT bootstrap node (repeatable; or CHRYSALIS_BOOTSTRAP=H:P,H:P); default: the public HyperDHT'],
      ['-h, --help', 'help for a command'],
      ['--version', "print chrysalis's version"]
    ]),
    '',
    ...wrap('BitTorrent (HOME/config.json may set btPort, encryptedOnly, btBootstrap, trackers; flags win, then the environment):'),
    ...table([
      ['--bt-port PORT', 'TCP port for BitTorrent peers (or CHRYSALIS_BT_PORT); default 6881, else a free one'],
      ['--encrypted-only', 'files travel only over encrypted hyperswarm connections: no TCP peers, no mainline DHT (TCP BitTorrent traffic is plaintext, as with other clients by default)'],
      ['--bt-bootstrap HOST:PORT[,…]', 'mainline DHT nodes instead of the public routers (or CHRYSALIS_BT_BOOTSTRAP)'],
      ['--no-bt-dht', 'stay off the mainline DHT; it is off too when --bootstrap names a private network and no --bt-bootstrap is given']
    ]),
    '',
    ...wrap(TERMS.ref),
    ...wrap(TERMS.id),
    ''
  ].join('\n')
}

/** `chrysalis COMMAND --help`: its usage, what it does, its options. */
export function commandHelp(command: Command): string {
  const options = Object.entries(command.options ?? {}).map(([name, spec]) => optionRow(name, spec, command.usage))
  return [
    ...usageLines(command.usage),
    '',
    ...wrap(command.summary),
    ...(options.length ? ['', 'options:', ...table(options)] : []),
    '',
    ...wrap('options everywhere (see `chrysalis --help`): --home DIR, --json, --bootstrap HOST:PORT, --bt-port PORT, --encrypted-only, --bt-bootstrap HOST:PORT, --no-bt-dht'),
    ...(/\bREF\b/.test(command.usage) ? ['', ...wrap(TERMS.ref)] : []),
    ...(/\bID\b/.test(command.usage) ? ['', ...wrap(TERMS.id)] : []),
    ''
  ].join('\n')
}

/** `chrysalis identity --help`, `chrysalis torrent --help`: the group's commands. */
export function groupHelp(group: string): string {
  return [
    `usage: chrysalis ${group} SUBCOMMAND [ARGS]`,
    '',
    ...wrap(GROUPS[group] ?? ''),
    '',
    'commands:',
    ...table(groupCommands(group).map((name) => [ALL[name]!.usage, ALL[name]!.summary])),
    '',
    ...wrap(`\`chrysalis ${group} SUBCOMMAND --help\` for its options.`),
    ''
  ].join('\n')
}

/** What REF and ID are, for the usages that take them. */
const TERMS = {
  ref: 'REF, a post reference, is AUTHOR-ID/POST-ID as printed by post, feed, timeline and thread.',
  id: 'ID is an identity ID: 52 z-base-32 characters (or 64 hex digits).'
}

/** "usage: chrysalis …", its words wrapped under the first one. */
function usageLines(usage: string): string[] {
  const first = 'usage: chrysalis '
  return wrap(usage, ' '.repeat(first.length + 2), first)
}

/** One row of a command's options: "--limit N" and what it does. */
function optionRow(name: string, spec: OptionSpec, usage: string): [string, string] {
  const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}`
  if (spec.type === 'boolean') return [flag, spec.help ?? '']
  // The value's name as the usage writes it ("[--out DIR]"), else VALUE.
  const value = spec.value ?? new RegExp(`--${name} ("?[A-Z][A-Z0-9.:|_-]*"?)`).exec(usage)?.[1] ?? 'VALUE'
  const text = spec.help !== undefined && spec.multiple ? `${spec.help} (repeatable)` : (spec.help ?? '')
  return [`${flag} ${value}`, text]
}

/**
 * Rows of a term and its text: the text wrapped in a column of its own, or under the term when
 * the term is too wide for the column.
 */
function table(rows: Array<[string, string]>, column = 22): string[] {
  const lines: string[] = []
  const indent = ' '.repeat(column + 4)
  for (const [term, text] of rows) {
    const head = `  ${term}`
    if (text === '') lines.push(head)
    else if (head.length + 2 <= column + 4) lines.push(...wrap(text, indent, head.padEnd(column + 4)))
    else lines.push(...wrap(term, '      ', '  '), ...wrap(text, indent))
  }
  return lines
}

/**
 * Text wrapped at spaces to COLUMNS: the first line after `first`, the others after `indent`.
 * What stands in brackets, quotes or backticks stays on one line ("[--file PATH]...").
 */
export function wrap(text: string, indent = '', first = indent): string[] {
  const lines: string[] = []
  let line = first
  let empty = true
  for (const word of words(text)) {
    if (!empty && line.length + 1 + word.length > COLUMNS) {
      lines.push(line)
      line = indent + word
    } else {
      line += (empty ? '' : ' ') + word
    }
    empty = false
  }
  lines.push(line)
  return lines
}

/** The words of a text, a bracketed, quoted or backticked group counting as one. */
function words(text: string): string[] {
  const out: string[] = []
  let word = ''
  let depth = 0
  let quote: string | null = null
  for (const ch of text) {
    if (quote !== null) {
      if (ch === quote) quote = null
    } else if (ch === '"' || ch === '`') quote = ch
    else if (ch === '[') depth++
    else if (ch === ']') depth = Math.max(0, depth - 1)
    else if (ch === ' ' && depth === 0) {
      if (word !== '') out.push(word)
      word = ''
      continue
    }
    word += ch
  }
  if (word !== '') out.push(word)
  return out
}
