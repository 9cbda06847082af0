import type { Key } from 'ink'
import type { Action, Move } from './actions.js'
import { TABS, top, type UiState } from './store.js'

/**
 * The one table of keys: for each context (a screen, or what holds the keys over it), which key
 * does what and how the footer and the help name it. The key handler, the footer and `?` help
 * all read it; nothing else binds a key.
 */

/** A key as pressed: its name (see keyName), and what Ink reported, for the typing action. */
export interface Pressed {
  name: string | null
  input: string
  key: Key
}

export interface Binding {
  /**
   * Key names: a printable character as itself ('e', 'G', '?'), else enter, esc, tab, shift-tab,
   * up, down, left, right, pgup, pgdn, home, end, ctrl-X, meta-enter; '*' is any other key.
   */
  keys: readonly string[]
  /** How the footer and help write the keys. */
  label: string
  /** What it does, in a few words. */
  does: string
  act: (p: Pressed) => Action
  /** 'help': listed in the help only, not in the footer. */
  show?: 'help'
}

const b = (keys: readonly string[], label: string, does: string, act: (p: Pressed) => Action, show?: 'help'): Binding =>
  show ? { keys, label, does, act, show } : { keys, label, does, act }
const fixed = (action: Action) => () => action

const MOVES: Record<string, Move> = {
  up: 'up', k: 'up', down: 'down', j: 'down', pgup: 'page-up', 'ctrl-u': 'page-up', pgdn: 'page-down', 'ctrl-d': 'page-down', g: 'first', home: 'first', G: 'last', end: 'last'
}
const moveTo = (p: Pressed): Action => ({ type: 'move', to: MOVES[p.name ?? ''] ?? 'down' })
const typed = (p: Pressed): Action => ({ type: 'type', input: p.input, key: p.key })
const byKey = (p: Pressed): 1 | -1 => (p.name === 'shift-tab' || p.name === 'up' ? -1 : 1)
/** ←→ on People: the previous or next pane (Following, Followers, Discover). */
const section = (p: Pressed): Action => ({ type: 'other-section', by: p.name === 'left' ? -1 : 1 })

/** A list: the footer shows ↑↓; help shows the rest. */
const list = (does = 'move'): Binding[] => [
  b(['up', 'down', 'k', 'j'], '↑↓', does, moveTo),
  b(['pgup', 'pgdn', 'ctrl-u', 'ctrl-d'], 'PgUp PgDn', 'a page', moveTo, 'help'),
  b(['g', 'G', 'home', 'end'], 'g G', 'first, last', moveTo, 'help')
]

const CTRL_C = b(['ctrl-c'], 'Ctrl-C', 'quit', fixed({ type: 'quit' }))
const CTRL_C_HIDDEN = { ...CTRL_C, show: 'help' } as const
const BACK = b(['esc'], 'Esc', 'back', fixed({ type: 'back' }))
const TYPING = b(['*'], 'text', 'typed into the field', typed, 'help')

/** The keys of every main screen, after its own. */
export const EVERYWHERE: readonly Binding[] = [
  b(['1', '2', '3', '4', '5'], '1-5', 'the five screens', (p) => ({ type: 'tab', tab: TABS[Number(p.name) - 1] ?? 'timeline' }), 'help'),
  b(['tab', 'shift-tab'], 'Tab S-Tab', 'next, previous screen', (p) => ({ type: 'next-tab', by: byKey(p) }), 'help'),
  b(['c'], 'c', 'compose a post', fixed({ type: 'compose' }), 'help'),
  b(['/'], '/', 'search posts, files, people', fixed({ type: 'search' }), 'help'),
  b(['#'], '#', 'posts on a topic', fixed({ type: 'topic-posts' }), 'help'),
  b(['?'], '?', 'help', fixed({ type: 'help', open: true })),
  b(['q'], 'q', 'quit', fixed({ type: 'quit' }), 'help'),
  CTRL_C_HIDDEN
]
/** On a tab (nothing pushed), Esc clears the message (and leaves Discover). */
const ON_TAB: readonly Binding[] = [{ ...BACK, does: 'clear the message', show: 'help' }, ...EVERYWHERE]

const POST_KEYS: Binding[] = [
  b(['e'], 'e', 'edit', fixed({ type: 'edit-post' })),
  b(['d'], 'd', 'delete', fixed({ type: 'delete-post' })),
  b(['f'], 'f', 'fetch', fixed({ type: 'fetch-files' })),
  b(['p'], 'p', 'profile', fixed({ type: 'author' })),
  b(['a'], 'a', 'files: magnet, peers', fixed({ type: 'attachments' }), 'help'),
  b(['u'], 'u', 'reload', fixed({ type: 'reload' }), 'help')
]
const TRANSFER_KEYS: Binding[] = [
  b(['p'], 'p', 'pause', fixed({ type: 'pause' })),
  b(['x'], 'x', 'cancel', fixed({ type: 'cancel-transfer' })),
  b(['m'], 'm', 'copy magnet', fixed({ type: 'copy-magnet' })),
  b(['t'], 't', '.torrent', fixed({ type: 'export-torrent' }))
]
const SUBMIT = (keys: readonly string[], label: string, does: string): Binding => b(keys, label, does, fixed({ type: 'submit' }))
const CANCEL = (does = 'cancel'): Binding => b(['esc'], 'Esc', does, fixed({ type: 'cancel' }))
const FIELDS = (keys: readonly string[] = ['tab', 'shift-tab', 'up', 'down']): Binding => b(keys, 'Tab', 'next field', (p) => ({ type: 'next-field', by: byKey(p) }))
const NEWLINE = b(['enter'], 'Enter', 'new line', fixed({ type: 'newline' }))
const LINES = b(['up', 'down'], '↑↓', 'line up, down', (p) => ({ type: 'line', by: p.name === 'up' ? -1 : 1 }), 'help')
const IDENTITY_KEYS: Binding[] = [
  b(['e'], 'e', 'edit profile', fixed({ type: 'edit-profile' })),
  b(['p'], 'p', 'your posts', fixed({ type: 'my-profile' })),
  b(['b'], 'b', 'backup', fixed({ type: 'backup' })),
  b(['w'], 'w', 'recovery words', fixed({ type: 'show-phrase' }))
]
const COMPOSE_KEYS: Binding[] = [
  SUBMIT(['ctrl-s', 'meta-enter'], 'Ctrl-S', 'post'),
  FIELDS(['tab', 'shift-tab']),
  CANCEL('close, keep draft')
]

export interface ContextKeys {
  /** The help's title for the context's own keys. */
  title: string
  keys: readonly Binding[]
  /** Keys that work there too, shown in help as "Everywhere". */
  also: readonly Binding[]
}

const only = (title: string, keys: Binding[]): ContextKeys => ({ title, keys: [...keys, CTRL_C_HIDDEN], also: [] })
const screen = (title: string, keys: Binding[], pushed = false): ContextKeys =>
  pushed ? { title, keys: [...keys, BACK], also: EVERYWHERE } : { title, keys, also: ON_TAB }

export const KEYMAP = {
  busy: { title: 'Starting', keys: [CTRL_C], also: [] },
  failed: only('Could not open', [b(['q', 'esc'], 'q', 'quit', fixed({ type: 'quit' }))]),
  confirm: only('Question', [
    b(['y', 'Y'], 'y', 'yes', fixed({ type: 'answer', yes: true })),
    b(['n', 'N', 'esc'], 'n', 'no', fixed({ type: 'answer', yes: false }))
  ]),
  help: only('Help', [b(['?', 'esc'], '?/Esc', 'close help', fixed({ type: 'help', open: false })), b(['q'], 'q', 'quit', fixed({ type: 'quit' }))]),
  'setup-choose': only('Welcome', [
    ...list('choose').slice(0, 1),
    b(['enter'], 'Enter', 'go', fixed({ type: 'setup', choice: 'selected' })),
    b(['n', 'r', 'b'], 'n/r/b', 'pick', (p) => ({ type: 'setup', choice: p.name === 'r' ? 'restore-phrase' : p.name === 'b' ? 'restore-backup' : 'create' })),
    b(['q', 'esc'], 'q', 'quit', fixed({ type: 'quit' }))
  ]),
  'setup-create': { title: 'Create', keys: [FIELDS(), SUBMIT(['enter'], 'Enter', 'create'), CANCEL('back'), CTRL_C, TYPING], also: [] },
  'setup-phrase': { title: 'Recovery phrase', keys: [b(['y', 'Y'], 'y', 'I wrote the words down', fixed({ type: 'phrase-saved' })), CTRL_C], also: [] },
  'setup-restore-phrase': { title: 'Restore', keys: [SUBMIT(['enter'], 'Enter', 'restore'), CANCEL('back'), CTRL_C, TYPING], also: [] },
  'setup-restore-backup': { title: 'Restore', keys: [FIELDS(), SUBMIT(['enter'], 'Enter', 'restore'), CANCEL('back'), CTRL_C, TYPING], also: [] },
  prompt: only('Prompt', [SUBMIT(['enter'], 'Enter', 'ok'), CANCEL(), TYPING]),
  'prompt-fetch': only('Fetch', [SUBMIT(['enter'], 'Enter', 'fetch'), b(['tab'], 'Tab', 'complete path', fixed({ type: 'complete' })), CANCEL(), TYPING]),
  'prompt-path': only('Save to', [SUBMIT(['enter'], 'Enter', 'save'), b(['tab'], 'Tab', 'complete path', fixed({ type: 'complete' })), CANCEL(), TYPING]),
  'prompt-reply': only('Reply', [SUBMIT(['enter', 'ctrl-s', 'meta-enter'], 'Enter', 'send'), CANCEL(), TYPING]),
  'prompt-reply-lines': only('Reply', [SUBMIT(['ctrl-s', 'meta-enter'], 'Ctrl-S', 'send'), NEWLINE, LINES, CANCEL(), TYPING]),
  'prompt-edit': only('Edit', [SUBMIT(['ctrl-s', 'meta-enter'], 'Ctrl-S', 'save'), NEWLINE, LINES, CANCEL(), TYPING]),
  'compose-text': only('Compose', [...COMPOSE_KEYS.slice(0, 1), NEWLINE, ...COMPOSE_KEYS.slice(1), LINES, TYPING]),
  'compose-topics': only('Compose', [...COMPOSE_KEYS, TYPING]),
  'compose-attach': only('Compose', [
    COMPOSE_KEYS[0]!,
    b(['enter'], 'Enter', 'attach', fixed({ type: 'attach' })),
    b(['tab'], 'Tab', 'complete path, next field', fixed({ type: 'complete' })),
    b(['ctrl-x'], 'Ctrl-X', 'drop last file', fixed({ type: 'drop-attachment' })),
    b(['shift-tab'], 'S-Tab', 'previous field', fixed({ type: 'next-field', by: -1 }), 'help'),
    COMPOSE_KEYS[2]!,
    TYPING
  ]),
  timeline: screen('Timeline', [
    ...list(),
    b(['enter'], 'Enter', 'thread', fixed({ type: 'open' })),
    b(['r'], 'r', 'reply', fixed({ type: 'reply' })),
    ...POST_KEYS
  ]),
  thread: screen('Thread', [...list(), b(['r', 'enter'], 'r/Enter', 'reply', fixed({ type: 'reply' })), ...POST_KEYS], true),
  profile: screen('Profile', [
    ...list('posts'),
    b(['enter'], 'Enter', 'thread', fixed({ type: 'open' })),
    b(['f'], 'f', 'follow/unfollow', fixed({ type: 'toggle-follow' })),
    b(['b'], 'b', 'block/unblock', fixed({ type: 'toggle-block' })),
    b(['a'], 'a', 'files: magnet, peers', fixed({ type: 'attachments' }), 'help')
  ], true),
  'own-profile': screen('Your profile', [
    ...list('posts'),
    b(['enter'], 'Enter', 'thread', fixed({ type: 'open' })),
    b(['e'], 'e', 'edit', fixed({ type: 'edit-post' })),
    b(['d'], 'd', 'delete', fixed({ type: 'delete-post' })),
    b(['a'], 'a', 'files: magnet, peers', fixed({ type: 'attachments' }), 'help'),
    b(['u'], 'u', 'reload', fixed({ type: 'reload' }), 'help')
  ], true),
  topic: screen('Topic', [
    ...list('posts'),
    b(['enter'], 'Enter', 'thread', fixed({ type: 'open' })),
    b(['f'], 'f', 'follow/unfollow author', fixed({ type: 'toggle-follow' })),
    b(['p'], 'p', 'profile', fixed({ type: 'author' })),
    b(['a'], 'a', 'files: magnet, peers', fixed({ type: 'attachments' }), 'help')
  ], true),
  search: screen('Search', [...list('results'), b(['enter'], 'Enter', 'open', fixed({ type: 'open' }))], true),
  attachments: screen('Attached files', [
    ...list('files'),
    b(['m'], 'm', 'copy magnet', fixed({ type: 'copy-magnet' })),
    b(['f'], 'f', 'fetch', fixed({ type: 'fetch-files' }))
  ], true),
  people: screen('People: following', [
    ...list(),
    b(['enter', 'p'], 'Enter', 'profile', fixed({ type: 'open' })),
    b(['d'], 'd', 'discover', fixed({ type: 'discover' })),
    b(['i'], 'i', 'follow ID', fixed({ type: 'follow-id' })),
    b(['x'], 'x', 'unfollow', fixed({ type: 'unfollow' })),
    b(['b'], 'b', 'block', fixed({ type: 'block' })),
    b(['left', 'right'], '←→', 'followers, discover', section, 'help')
  ]),
  'people-followers': screen('People: followers', [
    ...list(),
    b(['f'], 'f', 'follow back/unfollow', fixed({ type: 'toggle-follow' })),
    b(['enter', 'p'], 'Enter', 'profile', fixed({ type: 'open' })),
    b(['left', 'right'], '←→', 'following, discover', section),
    b(['d'], 'd', 'discover', fixed({ type: 'discover' }), 'help'),
    b(['i'], 'i', 'follow ID', fixed({ type: 'follow-id' }), 'help')
  ]),
  'people-discover': screen('People: discover', [
    ...list(),
    b(['f'], 'f', 'follow', fixed({ type: 'toggle-follow' })),
    b(['enter', 'p'], 'Enter', 'profile', fixed({ type: 'open' })),
    b(['d'], 'd', 'topic', fixed({ type: 'discover' })),
    b(['v'], 'v', 'its posts', fixed({ type: 'topic-posts' })),
    b(['left', 'right'], '←→', 'other lists', section),
    b(['i'], 'i', 'follow ID', fixed({ type: 'follow-id' }), 'help')
  ]),
  notifications: screen('Notifications', [
    ...list(),
    b(['enter'], 'Enter', 'open', fixed({ type: 'open' })),
    b(['p'], 'p', 'profile', fixed({ type: 'author' })),
    b(['f'], 'f', 'follow back', fixed({ type: 'toggle-follow' }))
  ]),
  transfers: screen('Transfers', [
    b(['a'], 'a', 'add magnet', fixed({ type: 'add-fetch' })),
    ...list().map((x) => ({ ...x, show: 'help' as const })),
    b(['enter'], 'Enter', 'peers', fixed({ type: 'open' })),
    ...TRANSFER_KEYS
  ]),
  transfer: screen('Transfer', [...list('peers'), ...TRANSFER_KEYS], true),
  identity: screen('Identity', IDENTITY_KEYS),
  'identity-restored': screen('Identity', [...IDENTITY_KEYS, b(['n'], 'n', 'never posted', fixed({ type: 'never-posted' }))]),
  'identity-phrase': only('Recovery phrase', [b(['*'], 'any key', 'hide the words', fixed({ type: 'hide-phrase' }))]),
  'identity-edit': only('Edit profile', [FIELDS(), SUBMIT(['enter'], 'Enter', 'save'), CANCEL(), TYPING]),
  'identity-backup': only('Backup', [
    FIELDS(['tab', 'shift-tab', 'down', 'up']),
    SUBMIT(['enter'], 'Enter', 'next field, save'),
    CANCEL(),
    TYPING
  ])
} satisfies Record<string, ContextKeys>

export type Context = keyof typeof KEYMAP

/** Which keys hold now: a question first, then a prompt, help, the first run, the screen on top. */
export function contextOf(s: UiState): Context {
  if (s.mode === 'failed') return 'failed'
  if (s.mode === 'setup') {
    const st = s.setup
    if ('busy' in st && st.busy) return 'busy'
    return `setup-${st.step}`
  }
  if (s.mode !== 'main') return 'busy'
  if (s.confirm) return 'confirm'
  if (s.prompt) {
    const p = s.prompt
    if (p.kind === 'add-fetch') return 'prompt-fetch'
    if (p.kind === 'export-torrent') return 'prompt-path'
    if (p.kind === 'edit') return 'prompt-edit'
    if (p.kind === 'reply') return p.field.value.includes('\n') ? 'prompt-reply-lines' : 'prompt-reply'
    return 'prompt'
  }
  if (s.help) return 'help'
  const t = top(s)
  if (t?.kind === 'compose') return t.focus === 0 ? 'compose-text' : t.focus === 1 ? 'compose-topics' : 'compose-attach'
  if (t) return t.kind === 'profile' && t.id === s.me?.id ? 'own-profile' : t.kind
  if (s.tab === 'identity') {
    if (s.identity.phrase !== null) return 'identity-phrase'
    if (s.identity.edit) return 'identity-edit'
    if (s.identity.backup) return 'identity-backup'
    return s.status.recovering ? 'identity-restored' : 'identity'
  }
  if (s.tab === 'people' && s.people.section !== 'following') return `people-${s.people.section}`
  return s.tab
}

/** Every binding that holds in a context, its own first. */
export function bindingsOf(ctx: Context): readonly Binding[] {
  const k: ContextKeys = KEYMAP[ctx]
  return [...k.keys, ...k.also]
}

/** The binding a key name selects in a context, else the context's '*' binding, if any. */
export function bindingFor(ctx: Context, name: string | null): Binding | null {
  const all = bindingsOf(ctx)
  return (name !== null && all.find((x) => x.keys.includes(name))) || all.find((x) => x.keys.includes('*')) || null
}

/** The footer: a context's keys but those shown only in help, as [label, does]. */
export function footerOf(ctx: Context): Array<[string, string]> {
  return bindingsOf(ctx).filter((x) => x.show !== 'help').map((x) => [x.label, x.does])
}

/** The help: the context's own keys under its title, then those that hold everywhere. */
export function helpOf(ctx: Context): Array<[string, Array<[string, string]>]> {
  const k: ContextKeys = KEYMAP[ctx]
  const rows = (xs: readonly Binding[]): Array<[string, string]> => xs.map((x) => [x.label, x.does])
  return k.also.length ? [[k.title, rows(k.keys)], ['Everywhere', rows(k.also)]] : [[k.title, rows(k.keys)]]
}
