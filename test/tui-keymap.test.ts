// The keymap is the one truth about keys: for every context (screen, prompt, form, question),
// each key it lists, pressed in ink-testing-library's terminal, dispatches the action its entry
// names; the footer and the help shown there are exactly what the table yields. The controller
// records actions instead of applying them, so the states need no node. Then two keys the table
// got right where the old footers and README did not, on a real node: e and d on the timeline,
// and Enter and Ctrl-S in the edit box.
import test from 'brittle'
import { createElement } from 'react'
import { render } from 'ink-testing-library'
import type { Action } from '../src/tui/actions.js'
import { App } from '../src/tui/app.js'
import { Controller } from '../src/tui/controller.js'
import { field } from '../src/tui/field.js'
import { bindingsOf, contextOf, footerOf, helpOf, KEYMAP, type Context } from '../src/tui/keymap.js'
import { NO_KEY } from '../src/tui/keys.js'
import { initialState, newCompose, Store, type ProfileState, type UiState } from '../src/tui/store.js'
import { themeFor } from '../src/tui/theme.js'
import type { PostView, ProfileView } from '../src/node/views.js'
import { makeNode, waitFor } from './helpers.js'
import { K, mountTui } from './helpers-tui.js'

const ME = 'me'.padEnd(52, 'x')

function post(i: number, author = ME): PostView {
  return {
    ref: `${author}/${i.toString(16).padStart(16, '0')}`,
    author,
    authorName: 'Ada',
    fingerprint: 'abcd-efgh',
    id: i.toString(16).padStart(16, '0'),
    createdAt: 1_700_000_000_000 - i * 60_000,
    text: `Post number ${i}`,
    topics: [],
    mentions: [],
    attachments: [],
    replyTo: null,
    root: null,
    editedAt: null,
    deleted: false
  }
}

const me: ProfileView = { id: ME, fingerprint: 'abcd-efgh', name: 'Ada', bio: '', feedKey: 'f' }
const OTHER = 'them'.padEnd(52, 'x')
const profileOf = (id: string): ProfileState => ({ kind: 'profile', id, profile: me, posts: [post(0, id)], follows: [], following: false, blocked: false, selected: 0, loading: false, next: null, loadingMore: false, followers: null })
const base: UiState = {
  ...initialState({ columns: 80, rows: 24 }, 1_700_000_000_000),
  mode: 'main',
  me,
  timeline: { posts: [post(0), post(1)], next: null, loading: false, selected: 0, loaded: true }
}
const words = Array.from({ length: 24 }, (_, i) => `word${i}`).join(' ')
const setup = (st: UiState['setup']): UiState => ({ ...base, mode: 'setup', setup: st })
const prompt = (kind: NonNullable<UiState['prompt']>['kind'], value: string, multiline: boolean): UiState => ({
  ...base,
  prompt: { kind, title: kind, field: field(value), target: post(0).ref, multiline }
})
const compose = (focus: 0 | 1 | 2): UiState => ({ ...base, stack: [{ ...newCompose(), focus }] })
const identity: UiState = { ...base, tab: 'identity' }

/** A state for each context: the test fails when a context is added without one. */
const FIXTURES: Record<Context, UiState> = {
  busy: { ...base, mode: 'opening' },
  failed: { ...base, mode: 'failed' },
  confirm: { ...base, confirm: { question: 'Delete this post?', action: 'delete-post', target: post(0).ref } },
  help: { ...base, help: true },
  'setup-choose': setup({ step: 'choose', selected: 0 }),
  'setup-create': setup({ step: 'create', name: field(), bio: field(), focus: 0, busy: false }),
  'setup-phrase': setup({ step: 'phrase', phrase: words, id: ME, fingerprint: 'abcd-efgh', profile: { name: 'Ada', bio: '' } }),
  'setup-restore-phrase': setup({ step: 'restore-phrase', phrase: field(), busy: false }),
  'setup-restore-backup': setup({ step: 'restore-backup', file: field(), passphrase: field(), focus: 0, busy: false }),
  prompt: prompt('topic', 'vintage-manuals', false),
  'prompt-fetch': prompt('add-fetch', '', false),
  'prompt-path': prompt('export-torrent', '/tmp/a.torrent', false),
  'prompt-reply': prompt('reply', 'a reply', true),
  'prompt-reply-lines': prompt('reply', 'a reply\nof two lines', true),
  'prompt-edit': prompt('edit', 'Post number 0', true),
  'compose-text': compose(0),
  'compose-topics': compose(1),
  'compose-attach': compose(2),
  timeline: base,
  thread: { ...base, stack: [{ kind: 'thread', ref: post(0).ref, thread: { root: post(0), rootRef: post(0).ref, comments: [], count: 0 }, selected: 0, loading: false, want: null }] },
  attachments: { ...base, stack: [{ kind: 'attachments', post: { ...post(0), attachments: [{ name: 'a.pdf', size: 1, infohash: 'a'.repeat(64) }] }, selected: 0, magnets: {} }] },
  search: { ...base, stack: [{ kind: 'search', query: 'kaypro', people: [], posts: [post(0)], selected: 0, loading: false }] },
  topic: { ...base, stack: [{ kind: 'topic', topic: 'vintage-manuals', name: 'vintage-manuals', posts: [post(0, OTHER)], people: 1, online: true, reading: 0, selected: 0, loading: false }] },
  profile: { ...base, stack: [{ ...profileOf(OTHER), profile: { ...me, id: OTHER, name: 'Grace' }, posts: [post(0, OTHER)] }] },
  'own-profile': { ...base, stack: [profileOf(ME)] },
  people: { ...base, tab: 'people' },
  'people-followers': { ...base, tab: 'people', people: { ...base.people, section: 'followers' } },
  'people-discover': { ...base, tab: 'people', people: { ...base.people, section: 'discover' } },
  notifications: { ...base, tab: 'notifications' },
  transfers: { ...base, tab: 'transfers' },
  transfer: { ...base, tab: 'transfers', stack: [{ kind: 'transfer', infohash: 'a'.repeat(64), magnet: null, peers: [], selected: 0 }] },
  identity,
  'identity-restored': { ...identity, status: { ...identity.status, recovering: true } },
  'identity-phrase': { ...identity, identity: { ...identity.identity, phrase: words } },
  'identity-edit': { ...identity, identity: { ...identity.identity, edit: { name: field('Ada'), bio: field(), focus: 0 } } },
  'identity-backup': { ...identity, identity: { ...identity.identity, backup: { file: field('b'), passphrase: field(), again: field(), focus: 0 } } }
}

/** What a terminal sends for each key name of the keymap. */
const BYTES: Record<string, string> = {
  enter: '\r',
  'meta-enter': '\u001b\r',
  esc: '\u001b',
  tab: '\t',
  'shift-tab': '\u001b[Z',
  up: '\u001b[A',
  down: '\u001b[B',
  right: '\u001b[C',
  left: '\u001b[D',
  pgup: '\u001b[5~',
  pgdn: '\u001b[6~',
  home: '\u001b[H',
  end: '\u001b[F'
}
const bytesOf = (name: string): string => BYTES[name] ?? (name.startsWith('ctrl-') ? String.fromCharCode(name.charCodeAt(5) - 96) : name)

// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '')
/** Typing carries Ink's key object: compared by its type only. */
const norm = (a: Action | undefined): unknown => (a?.type === 'type' ? { type: 'type' } : a)

function mount(): { store: Store; log: Action[]; frame: () => string; press: (s: string) => void; unmount: () => void } {
  const store = new Store(base)
  const c = new Controller(store, { home: '/nonexistent', openNode: () => Promise.reject(new Error('no node here')), downloads: '/tmp', cwd: '/tmp', exit() {} })
  const log: Action[] = []
  c.dispatch = (a) => void log.push(a)
  const r = render(createElement(App, { controller: c, theme: themeFor({ NO_COLOR: '1' }) }))
  return { store, log, frame: () => plain(r.lastFrame() ?? ''), press: (s) => void r.stdin.write(s), unmount: () => r.unmount() }
}

test('keymap: every context has a fixture, and no key is bound twice in one context', (t) => {
  for (const ctx of Object.keys(KEYMAP) as Context[]) {
    t.is(contextOf(FIXTURES[ctx]), ctx, `the ${ctx} fixture is in the ${ctx} context`)
    const names = bindingsOf(ctx).flatMap((b) => [...b.keys])
    t.alike(names.filter((n, i) => names.indexOf(n) !== i), [], `${ctx}: each key once`)
  }
})

test('keymap: in every context each listed key dispatches its action, and the footer is the table', async (t) => {
  const ui = mount()
  t.teardown(() => ui.unmount())
  for (const ctx of Object.keys(KEYMAP) as Context[]) {
    ui.store.update(() => FIXTURES[ctx])
    const footer = footerOf(ctx).map(([k, what]) => `${k} ${what}`).join('  ')
    const shown = footer.length <= 80 ? footer : `${footer.slice(0, 79)}…`
    await waitFor(() => ui.frame().split('\n').at(-1)?.trimEnd() === shown, 5000, `the ${ctx} footer "${shown}"; the frame:\n${ui.frame()}`)
    t.pass(`${ctx}: footer "${footer}"`)
    // Compose lists more than fits: its last items are the least needed (help has them all).
    if (!ctx.startsWith('compose')) t.ok(footer.length <= 80, `${ctx}: the footer fits 80 columns (${footer.length})`)
    const bound = new Set(bindingsOf(ctx).flatMap((b) => [...b.keys]))
    for (const b of bindingsOf(ctx)) {
      for (const name of b.keys) {
        // '*' is any key the context does not list: try one.
        const key = name === '*' ? ['x', 'z', '%'].find((k) => !bound.has(k))! : name
        const expected = b.act({ name: name === '*' ? key : name, input: key, key: NO_KEY })
        ui.log.length = 0
        ui.store.update(() => FIXTURES[ctx])
        ui.press(bytesOf(key))
        await waitFor(() => ui.log.length > 0, 5000, `${ctx}: ${key} (${b.label} ${b.does}) to dispatch`)
        t.alike(ui.log.map(norm), [norm(expected)], `${ctx}: ${key} → ${expected.type} (${b.label} ${b.does})`)
      }
    }
  }
})

test('keymap: a chunk of several keys is taken key by key on a screen, never in a question or the help', async (t) => {
  const ui = mount()
  t.teardown(() => ui.unmount())
  ui.store.update(() => FIXTURES.timeline)
  ui.press('jd')
  await waitFor(() => ui.log.length === 2, 5000, 'two actions from one chunk on the timeline')
  t.alike(ui.log.map((a) => a.type), ['move', 'delete-post'], 'on a screen: one key at a time')
  for (const ctx of ['confirm', 'help'] as const) {
    ui.log.length = 0
    ui.store.update(() => FIXTURES[ctx])
    ui.press('yd') // "yes" and then "delete" on the screen under the question would be a surprise
    ui.press('\u001b') // Esc, a key of both contexts: once it is dispatched, the chunk has been handled
    await waitFor(() => ui.log.length > 0, 5000, `${ctx}: Esc to dispatch`)
    t.alike(ui.log.map((a) => a.type), [ctx === 'confirm' ? 'answer' : 'help'], `${ctx}: the chunk is ignored`)
    t.is((ui.log[0] as { yes?: boolean }).yes, ctx === 'confirm' ? false : undefined, `${ctx}: only Esc was taken`)
  }
})

test('keymap: help lists the keys of the screen under it and those that hold everywhere, as the table says', async (t) => {
  const ui = mount()
  t.teardown(() => ui.unmount())
  for (const ctx of Object.keys(KEYMAP) as Context[]) {
    if (KEYMAP[ctx].also.length === 0) continue // help opens from the main screens only
    ui.store.update(() => ({ ...FIXTURES[ctx], help: true }))
    const lines = helpOf(ctx).flatMap(([title, rows]) => [title, ...rows.map(([k, what]) => `${k.padEnd(10)}${what}`)])
    await waitFor(() => lines.every((l) => ui.frame().includes(l)), 5000, `the ${ctx} help; missing: ${lines.filter((l) => !ui.frame().includes(l)).join(' | ')}\n${ui.frame()}`)
    t.pass(`${ctx}: help as the table says`)
  }
})

test('timeline: e edits and d deletes your own selected post (d after a y/n question), as on a thread', async (t) => {
  const node = await makeNode(t, 'Ada')
  const first = await node.post({ text: 'Kaypro II manual, first scan' })
  const second = await node.post({ text: 'Osborne 1 schematics' })
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node) })
  await ui.until('Osborne 1 schematics')
  ui.press('e')
  await ui.until('Edit')
  t.is(ui.c.state.stack.length, 0, 'edited in place, on the timeline')
  ui.press(K.ctrlU, 'Osborne 1 schematics, rev B', K.ctrlS)
  await ui.until('Edited.')
  await ui.until('· edited')
  t.is((await node.getPost(second.ref))?.text, 'Osborne 1 schematics, rev B', 'the selected post was edited in the feed')
  ui.press('j', 'd')
  await ui.until('Delete this post?')
  ui.press('n')
  await waitFor(() => ui.c.state.confirm === null)
  t.absent((await node.getPost(first.ref))?.deleted, 'n: nothing deleted')
  ui.press('d')
  await ui.until('Delete this post?')
  ui.press('y')
  await ui.until('(deleted by its author)')
  t.ok((await node.getPost(first.ref))?.deleted, 'the second post on the timeline is deleted in the feed')
  t.absent((await node.getPost(second.ref))?.deleted, 'the other one stays')
})

test('the edit box: its footer says Enter adds a line and Ctrl-S saves, and they do', async (t) => {
  const node = await makeNode(t, 'Ada')
  const post = await node.post({ text: 'Osborne 1 schematics' })
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node) })
  await ui.until('Osborne 1 schematics')
  ui.press(K.enter)
  await ui.until('Thread')
  ui.press('e')
  await ui.until('Edit')
  const footer = ui.frame().split('\n').at(-1) ?? ''
  t.ok(footer.includes('Enter new line') && footer.includes('Ctrl-S save'), `the footer: ${footer}`)
  t.absent(footer.includes('Enter send'), 'Enter is not said to send')
  ui.press(K.enter, 'rev B, all 12 sheets')
  await waitFor(() => ui.c.state.prompt?.field.value === 'Osborne 1 schematics\nrev B, all 12 sheets', 5000, 'Enter added a line')
  t.is((await node.getPost(post.ref))?.text, 'Osborne 1 schematics', 'Enter did not save')
  ui.press(K.ctrlS)
  await ui.until('Edited.')
  t.is((await node.getPost(post.ref))?.text, 'Osborne 1 schematics\nrev B, all 12 sheets', 'Ctrl-S saved both lines')
})
