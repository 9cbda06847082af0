import type { Key } from 'ink'
import type { Controller } from './controller.js'
import { completePath } from './complete.js'
import { editField, field, moveLine, type Field } from './field.js'
import { clamp, TABS, threadRows, top, updateTop, type Prompt, type UiState } from './store.js'

/**
 * The one key handler. It reads the store at the moment each key arrives, decides, and updates
 * the store or asks the controller; priorities: Ctrl-C, a confirm question, a prompt, help,
 * the first-run screens, the screen on top.
 */
export function handleKey(c: Controller, input: string, key: Key): void {
  // Ink splits escape sequences but hands over a run of text with Tab, Enter or Backspace in it
  // (keys typed faster than a frame, or sent by tmux) as one input: split it into keys.
  // eslint-disable-next-line no-control-regex
  if (input.length > 1 && /[\u0000-\u001f\u007f]/.test(input)) {
    for (const [i, k] of splitKeys(input)) handleKey(c, i, k)
    return
  }
  // Esc then a key, typed together, arrive as Alt+key: take them apart.
  const special = key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown || key.home || key.end || key.tab
  if (key.meta && !key.escape && !key.return && !key.ctrl && (input.length === 1 || special)) {
    handleKey(c, '', { ...NO_KEY, escape: true, meta: true })
    handleKey(c, input, { ...key, meta: false })
    return
  }
  const s = c.state
  if (key.ctrl && input === 'c') return void c.requestQuit()
  if (s.mode === 'failed' && (input === 'q' || key.escape)) return c.requestQuit()
  if (s.mode !== 'main' && s.mode !== 'setup') return
  if (s.confirm) return confirmKey(c, input, key)
  if (s.prompt) return promptKey(c, s.prompt, input, key)
  if (s.mode === 'setup') return setupKey(c, input, key)
  if (s.help) {
    if (input === 'q') return c.requestQuit()
    if (input === '?' || key.escape) c.store.update((x) => ({ ...x, help: false }))
    return
  }
  const t = top(s)
  if (t?.kind === 'compose') return composeKey(c, input, key)
  if (s.tab === 'identity' && s.identity.phrase !== null) return c.hidePhrase() // any key hides the words
  if (s.tab === 'identity' && (s.identity.edit || s.identity.backup)) return identityFormKey(c, input, key)
  // Several plain keys in one chunk (a paste, or keys faster than the terminal): one at a time.
  if (input.length > 1 && !key.ctrl && !key.meta && /^[\x20-\x7e]+$/.test(input)) {
    for (const ch of input) handleKey(c, ch, NO_KEY)
    return
  }
  if (globalKey(c, input, key)) return
  if (t?.kind === 'thread') return threadKey(c, input, key)
  if (t?.kind === 'profile') return profileKey(c, input, key)
  if (t?.kind === 'transfer') return transferKey(c, input, key)
  switch (s.tab) {
    case 'timeline':
      return timelineKey(c, input, key)
    case 'people':
      return peopleKey(c, input, key)
    case 'notifications':
      return notificationsKey(c, input, key)
    case 'transfers':
      return transfersKey(c, input, key)
    case 'identity':
      return identityKey(c, input, key)
  }
}

export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false
}

/** A chunk of text and control characters as the keys it stands for. */
export function splitKeys(chunk: string): Array<[string, Key]> {
  const keys: Array<[string, Key]> = []
  let text = ''
  const flush = (): void => {
    if (text) keys.push([text, NO_KEY])
    text = ''
  }
  for (const ch of chunk) {
    const code = ch.codePointAt(0)!
    if (code >= 0x20 && code !== 0x7f) {
      text += ch
      continue
    }
    flush()
    if (ch === '\r' || ch === '\n') keys.push(['', { ...NO_KEY, return: true }])
    else if (ch === '\t') keys.push(['', { ...NO_KEY, tab: true }])
    else if (ch === '\u007f' || ch === '\b') keys.push(['', { ...NO_KEY, backspace: true }])
    else if (ch === '\u001b') keys.push(['', { ...NO_KEY, escape: true }])
    else if (code >= 1 && code <= 26) keys.push([String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }])
  }
  flush()
  return keys
}

function globalKey(c: Controller, input: string, key: Key): boolean {
  const s = c.state
  if (input === '?') {
    c.store.update((x) => ({ ...x, help: true }))
    return true
  }
  if (input === 'q') {
    c.requestQuit()
    return true
  }
  const n = Number(input)
  if (Number.isInteger(n) && n >= 1 && n <= TABS.length && input.length === 1) {
    c.setTab(TABS[n - 1]!)
    return true
  }
  if (key.tab) {
    const i = TABS.indexOf(s.tab)
    c.setTab(TABS[(i + (key.shift ? TABS.length - 1 : 1)) % TABS.length]!)
    return true
  }
  if (key.escape && s.stack.length) {
    c.pop()
    return true
  }
  if (key.escape && s.message) {
    c.store.update((x) => ({ ...x, message: null }))
    return true
  }
  if (input === 'c') {
    c.openCompose()
    return true
  }
  return false
}

/** Movement shared by every list: arrows, j/k, PgUp/PgDn, g/G, Home/End. */
export function move(index: number, length: number, input: string, key: Key, page: number): number | null {
  if (length === 0) return null
  if (key.downArrow || input === 'j') return clamp(index + 1, length)
  if (key.upArrow || input === 'k') return clamp(index - 1, length)
  if (key.pageDown || (key.ctrl && input === 'd')) return clamp(index + page, length)
  if (key.pageUp || (key.ctrl && input === 'u')) return clamp(index - page, length)
  if (input === 'g' || key.home) return 0
  if (input === 'G' || key.end) return length - 1
  return null
}

/** Rows a page of a list moves, from the terminal height (posts take 3 rows each). */
function page(s: UiState, rowsPerItem = 3): number {
  return Math.max(1, Math.floor((s.size.rows - 6) / rowsPerItem))
}

function timelineKey(c: Controller, input: string, key: Key): void {
  const t = c.state.timeline
  const to = move(t.selected, t.posts.length, input, key, page(c.state))
  if (to !== null) {
    c.store.update((s) => ({ ...s, timeline: { ...s.timeline, selected: to } }))
    if (to >= t.posts.length - 50) c.run(() => c.loadMore())
    c.lookAvailability(c.state.timeline.posts.slice(to, to + page(c.state)))
    return
  }
  const post = t.posts[t.selected]
  if (input === 'u') return c.run(() => c.refreshTimeline())
  if (!post) return
  if (key.return) return c.openThread(post.ref)
  if (input === 'r') return c.openThread(post.ref, { reply: true })
  if (input === 'f') return c.run(() => c.fetch(post))
  if (input === 'p') return c.openProfile(post.author)
}

function threadKey(c: Controller, input: string, key: Key): void {
  const t = top(c.state)
  if (t?.kind !== 'thread') return
  // Still loading: r and Enter answer what was opened, rather than being lost.
  if (t.thread === null && (key.return || input === 'r')) {
    return openPrompt(c, { kind: 'reply', title: 'Reply to the post', field: field(), target: t.ref, multiline: true })
  }
  const rows = threadRows(t.thread)
  const to = move(t.selected, rows.length, input, key, page(c.state, 2))
  if (to !== null) return c.store.update((s) => updateTop(s, 'thread', (x) => ({ ...x, selected: to })))
  const post = rows[t.selected]?.post
  if (!post) return
  const mine = post.author === c.state.me?.id
  if (key.return || input === 'r') {
    if (post.deleted) return c.info('That post was deleted; reply to another one.')
    return openPrompt(c, { kind: 'reply', title: `Reply to ${post.authorName ?? post.fingerprint}`, field: field(), target: post.ref, multiline: true })
  }
  if (input === 'e') {
    if (!mine) return c.info('You can only edit your own posts.')
    if (post.deleted) return c.info('That post is deleted.')
    return openPrompt(c, { kind: 'edit', title: 'Edit', field: field(post.text), target: post.ref, multiline: true })
  }
  if (input === 'd') {
    if (!mine) return c.info('You can only delete your own posts.')
    if (post.deleted) return c.info('That post is deleted already.')
    return c.store.update((s) => ({ ...s, confirm: { question: 'Delete this post? Readers will see it as deleted.', action: 'delete-post', target: post.ref } }))
  }
  if (input === 'f') return c.run(() => c.fetch(post))
  if (input === 'p') return c.openProfile(post.author)
  if (input === 'u') return c.run(() => c.loadThread(t.ref))
}

function profileKey(c: Controller, input: string, key: Key): void {
  const t = top(c.state)
  if (t?.kind !== 'profile') return
  const to = move(t.selected, t.posts.length, input, key, page(c.state))
  if (to !== null) return c.store.update((s) => updateTop(s, 'profile', (x) => ({ ...x, selected: to })))
  const mine = t.id === c.state.me?.id
  if (input === 'f' && !mine) return c.run(() => c.setFollow(t.id, !t.following))
  if (input === 'b' && !mine) return c.run(() => c.setBlock(t.id, !t.blocked))
  const post = t.posts[t.selected]
  if (key.return && post) return c.openThread(post.root ?? post.ref)
}

function peopleKey(c: Controller, input: string, key: Key): void {
  const p = c.state.people
  if (input === 'd' || input === '/') {
    return openPrompt(c, { kind: 'topic', title: 'Discover people by interest topic', field: field(p.topic ?? 'vintage-manuals'), target: '', multiline: false })
  }
  if (input === 'i') return openPrompt(c, { kind: 'follow-id', title: 'Follow by ID (paste it)', field: field(), target: '', multiline: false })
  if (key.leftArrow || key.rightArrow || input === 'h' || input === 'l') {
    const section = p.section === 'following' ? 'discover' : 'following'
    return c.store.update((s) => ({ ...s, people: { ...s.people, section } }))
  }
  if (p.section === 'discover') {
    if (key.escape) return c.store.update((s) => ({ ...s, people: { ...s.people, section: 'following' } }))
    const to = move(p.foundSelected, p.found.length, input, key, page(c.state, 2))
    if (to !== null) return c.store.update((s) => ({ ...s, people: { ...s.people, foundSelected: to } }))
    const person = p.found[p.foundSelected]
    if (!person) return
    if (input === 'f') return c.run(() => c.setFollow(person.id, !person.following))
    if (key.return || input === 'p') return c.openProfile(person.id)
    return
  }
  const to = move(p.selected, p.following.length, input, key, page(c.state, 1))
  if (to !== null) return c.store.update((s) => ({ ...s, people: { ...s.people, selected: to } }))
  const person = p.following[p.selected]
  if (!person) return
  if (key.return || input === 'p') return c.openProfile(person.id)
  if (input === 'x') return c.run(() => c.setFollow(person.id, false))
  if (input === 'b') return c.run(() => c.setBlock(person.id, true))
}

function notificationsKey(c: Controller, input: string, key: Key): void {
  const n = c.state.notifications
  const to = move(n.selected, n.items.length, input, key, page(c.state))
  if (to !== null) return c.store.update((s) => ({ ...s, notifications: { ...s.notifications, selected: to } }))
  const item = n.items[n.selected]
  if (key.return && item?.post) {
    const root = item.post.root ?? item.post.ref
    c.openThread(root)
    const ref = item.post.ref
    // Select the comment itself once the thread is loaded.
    const unsubscribe = c.store.subscribe(() => {
      const t = top(c.state)
      if (t?.kind !== 'thread' || t.ref !== root) return unsubscribe()
      if (!t.thread) return
      unsubscribe()
      const i = threadRows(t.thread).findIndex((r) => r.post?.ref === ref)
      if (i >= 0) c.store.update((s) => updateTop(s, 'thread', (x) => ({ ...x, selected: i })))
    })
  }
}

/** The key that opens the Transfers screen's "add a fetch" input. */
export const ADD_FETCH_KEY = 'a'

function transfersKey(c: Controller, input: string, key: Key): void {
  const t = c.state.transfers
  if (input === ADD_FETCH_KEY) {
    return openPrompt(c, { kind: 'add-fetch', title: 'Fetch (magnet, infohash or .torrent)', field: field(), target: '', multiline: false, candidates: [] })
  }
  const to = move(t.selected, t.items.length, input, key, page(c.state))
  if (to !== null) return c.store.update((s) => ({ ...s, transfers: { ...s.transfers, selected: to } }))
  const item = t.items[t.selected]
  if (!item) return
  if (key.return) return c.openTransfer(item.infohash)
  transferAction(c, item.infohash, input)
}

/** p, x, m, t act on a transfer: the selected one in the list, or the one whose details are open. */
function transferAction(c: Controller, infohash: string, input: string): void {
  const item = c.state.transfers.items.find((x) => x.infohash === infohash)
  if (!item) return
  if (input === 'p' || input === ' ') return c.run(() => c.togglePause(item.infohash))
  if (input === 'x') {
    return c.store.update((s) => ({ ...s, confirm: { question: `Stop and forget ${item.name}? Complete files stay on disk.`, action: 'cancel-transfer', target: item.infohash } }))
  }
  if (input === 'm') return c.run(() => c.copyMagnet(item.infohash))
  if (input === 't') {
    return openPrompt(c, { kind: 'export-torrent', title: 'Export .torrent to', field: field(c.defaultTorrentPath(item.name)), target: item.infohash, multiline: false })
  }
}

function transferKey(c: Controller, input: string, key: Key): void {
  const t = top(c.state)
  if (t?.kind !== 'transfer') return
  const to = move(t.selected, t.peers.length, input, key, page(c.state, 1))
  if (to !== null) return c.store.update((s) => updateTop(s, 'transfer', (x) => ({ ...x, selected: to })))
  transferAction(c, t.infohash, input)
}

function identityKey(c: Controller, input: string, _key: Key): void {
  const me = c.state.me
  if (input === 'e') {
    return c.store.update((s) => ({ ...s, identity: { ...s.identity, edit: { name: field(me?.name ?? ''), bio: field(me?.bio ?? ''), focus: 0 } } }))
  }
  if (input === 'b') {
    return c.store.update((s) => ({ ...s, identity: { ...s.identity, backup: { file: field('chrysalis-identity.backup'), passphrase: field(), again: field(), focus: 0 } } }))
  }
  if (input === 'n' && c.state.status.recovering) return c.run(() => c.neverPosted())
  if (input === 'w') {
    return c.store.update((s) => ({ ...s, confirm: { question: 'Show the recovery phrase? Anyone who sees it can become you.', action: 'show-phrase', target: '' } }))
  }
}

function identityFormKey(c: Controller, input: string, key: Key): void {
  const { edit, backup } = c.state.identity
  if (key.escape) return c.store.update((s) => ({ ...s, identity: { edit: null, backup: null, phrase: null } }))
  if (edit) {
    if (key.tab || key.upArrow || key.downArrow) return c.store.update((s) => ({ ...s, identity: { ...s.identity, edit: { ...edit, focus: edit.focus ? 0 : 1 } } }))
    if (key.return) return c.run(() => c.saveProfile(edit.name.value, edit.bio.value))
    const name = edit.focus === 0 ? 'name' : 'bio'
    const next = editField(edit[name], input, key)
    if (next) c.store.update((s) => ({ ...s, identity: { ...s.identity, edit: { ...edit, [name]: next } } }))
    return
  }
  if (backup) {
    if (key.tab || key.downArrow) return c.store.update((s) => ({ ...s, identity: { ...s.identity, backup: { ...backup, focus: ((backup.focus + 1) % 3) as 0 | 1 | 2 } } }))
    if (key.upArrow) return c.store.update((s) => ({ ...s, identity: { ...s.identity, backup: { ...backup, focus: ((backup.focus + 2) % 3) as 0 | 1 | 2 } } }))
    if (key.return) {
      if (backup.focus < 2) return c.store.update((s) => ({ ...s, identity: { ...s.identity, backup: { ...backup, focus: (backup.focus + 1) as 1 | 2 } } }))
      return c.run(() => c.backup(backup.file.value, backup.passphrase.value, backup.again.value))
    }
    const name = (['file', 'passphrase', 'again'] as const)[backup.focus]
    const next = editField(backup[name], input, key)
    if (next) c.store.update((s) => ({ ...s, identity: { ...s.identity, backup: { ...backup, [name]: next } } }))
  }
}

function composeKey(c: Controller, input: string, key: Key): void {
  const t = top(c.state)
  if (t?.kind !== 'compose') return
  if (key.escape) return c.closeCompose()
  if ((key.ctrl && input === 's') || (key.ctrl && key.return) || (key.meta && key.return)) return c.run(() => c.submitPost())
  if (key.tab && t.focus === 2 && t.attach.value !== '') {
    const value = t.attach.value
    c.run(async () => {
      const r = await completePath(value, c.cwd)
      c.store.update((s) => updateTop(s, 'compose', (x) => (x.attach.value === value ? { ...x, attach: field(r.value), candidates: r.candidates } : x)))
    })
    return
  }
  if (key.tab) return c.store.update((s) => updateTop(s, 'compose', (x) => ({ ...x, focus: ((x.focus + (key.shift ? 2 : 1)) % 3) as 0 | 1 | 2, candidates: [] })))
  if (t.focus === 2 && key.return) {
    const value = t.attach.value.trim()
    if (value === '') return c.info('Type a path, then Enter to attach it (Tab completes).')
    return c.run(() => c.attach(value))
  }
  if (t.focus === 0 && (key.upArrow || key.downArrow)) {
    return c.store.update((s) => updateTop(s, 'compose', (x) => ({ ...x, text: moveLine(x.text, key.upArrow ? -1 : 1) })))
  }
  if (t.focus === 2 && key.ctrl && input === 'x' && t.files.length) {
    return c.store.update((s) => updateTop(s, 'compose', (x) => ({ ...x, files: x.files.slice(0, -1) })))
  }
  const name = (['text', 'topics', 'attach'] as const)[t.focus]
  const next = editField(t[name], input, key, { multiline: t.focus === 0 })
  if (next) c.store.update((s) => updateTop(s, 'compose', (x) => ({ ...x, [name]: next, candidates: [] })))
}

function openPrompt(c: Controller, prompt: Prompt): void {
  c.store.update((s) => ({ ...s, prompt }))
}

function promptKey(c: Controller, p: Prompt, input: string, key: Key): void {
  if (key.escape) return c.store.update((s) => ({ ...s, prompt: null }))
  // A path is completed as a shell does; a magnet or an infohash is not a path.
  if (key.tab && p.kind === 'add-fetch') {
    const value = p.field.value
    if (value.trim() === '' || /^magnet:/i.test(value.trim())) return
    c.run(async () => {
      const r = await completePath(value, c.cwd)
      c.store.update((s) => (s.prompt?.kind === 'add-fetch' && s.prompt.field.value === value ? { ...s, prompt: { ...s.prompt, field: field(r.value), candidates: r.candidates } } : s))
    })
    return
  }
  const submit = p.multiline ? (key.ctrl && input === 's') || (key.return && (key.ctrl || key.meta)) : key.return
  // In a multi-line reply, Enter on an empty last line sends too: typing a reply feels like chat.
  const enterSends = p.multiline && key.return && !key.ctrl && !key.meta && p.kind === 'reply' && !p.field.value.includes('\n')
  if (submit || enterSends) {
    const value = p.field.value
    c.store.update((s) => ({ ...s, prompt: null }))
    switch (p.kind) {
      case 'reply':
        return c.run(() => c.comment(p.target, value))
      case 'edit':
        return c.run(() => c.edit(p.target, value))
      case 'topic':
        if (value.trim() === '') return c.info('Type a topic, like vintage-manuals.')
        return c.run(() => c.discover(value.trim()))
      case 'follow-id':
        if (value.trim() === '') return
        return c.run(() => c.setFollow(value.trim(), true))
      case 'export-torrent':
        return c.run(() => c.exportTorrent(p.target, value.trim()))
      case 'add-fetch':
        return c.run(() => c.addFetch(value))
    }
  }
  if (p.multiline && (key.upArrow || key.downArrow)) {
    return c.store.update((s) => (s.prompt ? { ...s, prompt: { ...s.prompt, field: moveLine(s.prompt.field, key.upArrow ? -1 : 1) } } : s))
  }
  const next = editField(p.field, input, key, { multiline: p.multiline })
  if (next) c.store.update((s) => (s.prompt ? { ...s, prompt: { ...s.prompt, field: next, ...(s.prompt.candidates?.length ? { candidates: [] } : {}) } } : s))
}

function confirmKey(c: Controller, input: string, key: Key): void {
  const q = c.state.confirm!
  const yes = input === 'y' || input === 'Y'
  if (!yes && !(input === 'n' || input === 'N' || key.escape)) return
  c.store.update((s) => ({ ...s, confirm: null }))
  if (!yes) return
  switch (q.action) {
    case 'delete-post':
      return c.run(() => c.deletePost(q.target))
    case 'cancel-transfer':
      return c.run(() => c.cancelTransfer(q.target))
    case 'quit':
      return c.quit()
    case 'show-phrase':
      return c.run(() => c.showPhrase())
  }
}

const SETUP_CHOICES = ['create', 'restore-phrase', 'restore-backup'] as const

function setupKey(c: Controller, input: string, key: Key): void {
  const st = c.state.setup
  const setSetup = (setup: UiState['setup']): void => c.store.update((s) => ({ ...s, setup, message: null }))
  switch (st.step) {
    case 'choose': {
      if (input === 'q' || key.escape) return c.requestQuit()
      const to = move(st.selected, SETUP_CHOICES.length, input, key, 1)
      if (to !== null) return setSetup({ step: 'choose', selected: to })
      const pick = input === 'n' ? 0 : input === 'r' ? 1 : input === 'b' ? 2 : key.return ? st.selected : -1
      if (pick === 0) return setSetup({ step: 'create', name: field(), bio: field(), focus: 0, busy: false })
      if (pick === 1) return setSetup({ step: 'restore-phrase', phrase: field(), busy: false })
      if (pick === 2) return setSetup({ step: 'restore-backup', file: field(), passphrase: field(), focus: 0, busy: false })
      return
    }
    case 'create': {
      if (st.busy) return
      if (key.escape) return setSetup({ step: 'choose', selected: 0 })
      if (key.tab || key.upArrow || key.downArrow) return setSetup({ ...st, focus: st.focus ? 0 : 1 })
      if (key.return) {
        if (st.focus === 0 && st.name.value.trim() !== '') return setSetup({ ...st, focus: 1 })
        setSetup({ ...st, busy: true })
        c.run(async () => {
          try {
            await c.createIdentity(st.name.value.trim(), st.bio.value.trim())
          } finally {
            c.store.update((s) => (s.setup.step === 'create' ? { ...s, setup: { ...s.setup, busy: false } } : s))
          }
        })
        return
      }
      const name = st.focus === 0 ? 'name' : 'bio'
      const next = editField(st[name], input, key)
      if (next) setSetup({ ...st, [name]: next })
      return
    }
    case 'phrase':
      if (input === 'y' || input === 'Y') c.run(() => c.phraseSaved())
      return
    case 'restore-phrase': {
      if (st.busy) return
      if (key.escape) return setSetup({ step: 'choose', selected: 1 })
      if (key.return) {
        setSetup({ ...st, busy: true })
        c.run(async () => {
          try {
            await c.restore({ phrase: st.phrase.value })
          } finally {
            c.store.update((s) => (s.setup.step === 'restore-phrase' ? { ...s, setup: { ...s.setup, busy: false } } : s))
          }
        })
        return
      }
      const next = editField(st.phrase, input, key)
      if (next) setSetup({ ...st, phrase: next })
      return
    }
    case 'restore-backup': {
      if (st.busy) return
      if (key.escape) return setSetup({ step: 'choose', selected: 2 })
      if (key.tab || key.upArrow || key.downArrow) return setSetup({ ...st, focus: st.focus ? 0 : 1 })
      if (key.tab && st.focus === 0) return
      if (key.return) {
        if (st.focus === 0) return setSetup({ ...st, focus: 1 })
        setSetup({ ...st, busy: true })
        c.run(async () => {
          try {
            await c.restore({ file: st.file.value.trim(), passphrase: st.passphrase.value })
          } finally {
            c.store.update((s) => (s.setup.step === 'restore-backup' ? { ...s, setup: { ...s.setup, busy: false } } : s))
          }
        })
        return
      }
      const name = st.focus === 0 ? 'file' : 'passphrase'
      const next: Field | null = editField(st[name], input, key)
      if (next) setSetup({ ...st, [name]: next })
      return
    }
  }
}
