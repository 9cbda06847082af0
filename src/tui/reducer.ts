import path from 'node:path'
import type { PostView } from '../node/views.js'
import { checkExhaustive, type Action, type Move } from './actions.js'
import { editField, field, moveLine, newLine, type Field } from './field.js'
import { contextOf } from './keymap.js'
import { clamp, newCompose, PEOPLE_SECTIONS, searchRows, TABS, threadRows, top, updateTop, type Prompt, type Pushed, type Tab, type UiState } from './store.js'
import { truncate } from './text.js'

/**
 * The state change an action makes, and nothing else: no node, no timers, no I/O. What an
 * action does through the node follows in effects.ts, which sees the state before and after.
 */
export function reduce(s: UiState, a: Action, now = Date.now()): UiState {
  const say = (text: string): UiState => ({ ...s, message: { kind: 'info', text, at: now } })
  switch (a.type) {
    case 'quit':
      return s
    case 'help':
      return { ...s, help: a.open }
    case 'tab':
      return toTab(s, a.tab)
    case 'next-tab':
      return toTab(s, TABS[(TABS.indexOf(s.tab) + TABS.length + a.by) % TABS.length]!)
    case 'back':
      if (s.stack.length) return pop(s)
      if (s.message) return { ...s, message: null }
      if (s.tab === 'people' && s.people.section !== 'following') return { ...s, people: { ...s.people, section: 'following' } }
      return s
    case 'compose':
      return top(s)?.kind === 'compose' ? s : { ...push(s, s.draft ?? newCompose()), prompt: null }
    case 'move':
      return moveIn(s, a.to)
    case 'answer':
      return { ...s, confirm: null }
    case 'open':
      return open(s)
    case 'reply': {
      const t = top(s)
      if (t?.kind === 'thread' && t.thread === null) return withPrompt(s, reply(t.ref, 'the post')) // still loading: answer what was opened
      const post = selectedPost(s)
      if (!post) return s
      if (t?.kind !== 'thread') return withPrompt(pushThread(s, post.ref), reply(post.ref, 'the post'))
      if (post.deleted) return say('That post was deleted; reply to another one.')
      return withPrompt(s, reply(post.ref, post.authorName ?? post.fingerprint))
    }
    case 'edit-post': {
      const post = selectedPost(s)
      if (!post) return s
      if (post.author !== s.me?.id) return say('You can only edit your own posts.')
      if (post.deleted) return say('That post is deleted.')
      return withPrompt(s, { kind: 'edit', title: 'Edit', field: field(post.text), target: post.ref, multiline: true })
    }
    case 'delete-post': {
      const post = selectedPost(s)
      if (!post) return s
      if (post.author !== s.me?.id) return say('You can only delete your own posts.')
      if (post.deleted) return say('That post is deleted already.')
      return { ...s, confirm: { question: 'Delete this post? Readers will see it as deleted.', action: 'delete-post', target: post.ref } }
    }
    case 'attachments': {
      const post = selectedPost(s)
      if (!post) return s
      if (post.attachments.length === 0) return say('This post has no attached files.')
      return { ...push(s, { kind: 'attachments', post, selected: 0, magnets: {} }), prompt: null }
    }
    case 'copy-magnet':
      // On the list, the details open: the magnet is shown whole there, whatever the clipboard does.
      return !top(s) && s.tab === 'transfers' ? open(s) : s
    case 'author': {
      const note = !top(s) && s.tab === 'notifications' ? s.notifications.items[s.notifications.selected] : undefined
      if (note) return note.kind === 'follow' ? pushProfile(s, note.person.id) : note.post ? pushProfile(s, note.post.author) : s
      const post = selectedPost(s)
      return post ? pushProfile(s, post.author) : s
    }
    case 'topic-posts':
      return topicPosts(s)
    case 'search':
      return withPrompt(s, { kind: 'search', title: 'Search posts, #topics, file names and people', field: field(), target: '', multiline: false })
    case 'discover':
      return withPrompt(s, { kind: 'topic', title: 'Discover people by interest topic', field: field(s.people.topic ?? 'vintage-manuals'), target: '', multiline: false })
    case 'follow-id':
      return withPrompt(s, { kind: 'follow-id', title: 'Follow by ID (paste it)', field: field(), target: '', multiline: false })
    case 'other-section': {
      const n = PEOPLE_SECTIONS.length
      return { ...s, people: { ...s.people, section: PEOPLE_SECTIONS[(PEOPLE_SECTIONS.indexOf(s.people.section) + n + a.by) % n]! } }
    }
    case 'add-fetch':
      return withPrompt(s, { kind: 'add-fetch', title: 'Fetch (magnet, infohash or .torrent)', field: field(), target: '', multiline: false, candidates: [] })
    case 'cancel-transfer': {
      const item = selectedTransfer(s)
      if (!item) return s
      return { ...s, confirm: { question: `Stop and forget ${item.name}? Complete files stay on disk.`, action: 'cancel-transfer', target: item.infohash } }
    }
    case 'export-torrent': {
      const item = selectedTransfer(s)
      if (!item) return s
      const file = path.join(s.downloads, `${item.name.replace(/[/\\]/g, '_')}.torrent`)
      return withPrompt(s, { kind: 'export-torrent', title: 'Export .torrent to', field: field(file), target: item.infohash, multiline: false, candidates: [] })
    }
    case 'my-profile':
      return s.me ? pushProfile(s, s.me.id) : s
    case 'edit-profile':
      return { ...s, identity: { ...s.identity, edit: { name: field(s.me?.name ?? ''), bio: field(s.me?.bio ?? ''), focus: 0 } } }
    case 'backup':
      return { ...s, identity: { ...s.identity, backup: { file: field(path.join(s.downloads, 'chrysalis-identity.backup')), passphrase: field(), again: field(), focus: 0 } } }
    case 'show-phrase':
      return { ...s, confirm: { question: 'Show the recovery phrase? Anyone who sees it can become you.', action: 'show-phrase', target: '' } }
    case 'hide-phrase':
      return { ...s, identity: { ...s.identity, phrase: null } }
    case 'submit':
      return submit(s, say)
    case 'cancel':
      return cancel(s, say)
    case 'next-field':
      return nextField(s, a.by)
    case 'newline':
    case 'line':
    case 'type':
      return edit(s, a)
    case 'complete': {
      const t = top(s)
      // Tab in an empty Attach field goes on to the next field; with a path in it, effects complete it.
      if (t?.kind === 'compose' && t.attach.value === '') return nextField(s, 1)
      return s
    }
    case 'attach': {
      const t = top(s)
      if (t?.kind === 'compose' && t.attach.value.trim() === '') return say('Type a path, then Enter to attach it (Tab completes).')
      return s
    }
    case 'drop-attachment':
      return updateTop(s, 'compose', (x) => ({ ...x, files: x.files.slice(0, -1) }))
    case 'setup': {
      if (s.setup.step !== 'choose') return s
      const choice = a.choice === 'selected' ? (['create', 'restore-phrase', 'restore-backup'] as const)[s.setup.selected]! : a.choice
      const setup: UiState['setup'] =
        choice === 'create'
          ? { step: 'create', name: field(), bio: field(), focus: 0, busy: false }
          : choice === 'restore-phrase'
            ? { step: 'restore-phrase', phrase: field(), busy: false }
            : { step: 'restore-backup', file: field(), passphrase: field(), focus: 0, busy: false }
      return { ...s, setup, message: null }
    }
    case 'resize':
      return { ...s, size: { columns: a.columns, rows: a.rows } }
    case 'fetch-files':
    case 'reload':
    case 'toggle-follow':
    case 'toggle-block':
    case 'unfollow':
    case 'block':
    case 'pause':
    case 'never-posted':
    case 'phrase-saved':
      return s // done through the node: effects.ts
    default:
      return checkExhaustive(a)
  }
}

function toTab(s: UiState, tab: Tab): UiState {
  return { ...s, tab, stack: [], prompt: null, notifications: tab === 'notifications' ? { ...s.notifications, unread: 0 } : s.notifications }
}

function push(s: UiState, screen: Pushed): UiState {
  return { ...s, stack: [...s.stack, screen] }
}

function pop(s: UiState): UiState {
  return { ...s, stack: s.stack.slice(0, -1), prompt: null }
}

function pushThread(s: UiState, ref: string, want: string | null = null): UiState {
  return push(s, { kind: 'thread', ref, thread: null, selected: 0, loading: true, want })
}

/** Someone's profile; your own (from Identity, or p on a post of yours) pages through all your posts. */
function pushProfile(s: UiState, id: string): UiState {
  // What is known of them shows at once (you; what the discover list said); their feed fills in the rest.
  const found = s.people.found.find((p) => p.id === id)
  const profile = id === s.me?.id ? s.me : found ? { id, fingerprint: found.fingerprint, name: found.name, bio: found.bio, feedKey: '' } : null
  const following = found?.following ?? false
  return push(s, { kind: 'profile', id, profile, posts: [], follows: [], following, blocked: false, selected: 0, loading: true, next: null, loadingMore: false, followers: null })
}

/** A topic's posts, live (node-topic.ts loads and watches them); the same topic on top stays. */
function pushTopic(s: UiState, topic: string): UiState {
  const t = top(s)
  if (t?.kind === 'topic' && (t.topic === topic || t.name === topic)) return { ...s, prompt: null }
  return { ...push(s, { kind: 'topic', topic, name: null, posts: [], people: 0, online: true, reading: 0, selected: 0, loading: true }), prompt: null }
}

/**
 * # (and v on Discover): the posts on a topic. On Discover, the topic being discovered; on a
 * post with one topic (besides the topic shown), that one; else a prompt, holding the post's
 * first topic when it has several (the title names them all).
 */
function topicPosts(s: UiState): UiState {
  const t = top(s)
  if (!t && s.tab === 'people' && s.people.section === 'discover' && s.people.topic) return pushTopic(s, s.people.topic)
  const shown = t?.kind === 'topic' ? t.name ?? t.topic : null
  const topics = (selectedPost(s)?.topics ?? []).filter((x) => x !== shown)
  if (topics.length === 1) return pushTopic(s, topics[0]!)
  const title = topics.length > 1 ? truncate(`Posts on topic (${topics.map((x) => `#${x}`).join(' ')})`, 48) : 'Posts on topic'
  return withPrompt(s, { kind: 'topic-view', title, field: field(topics[0] ?? ''), target: '', multiline: false })
}

function withPrompt(s: UiState, prompt: Prompt): UiState {
  return { ...s, prompt }
}

function reply(ref: string, to: string): Prompt {
  return { kind: 'reply', title: `Reply to ${to}`, field: field(), target: ref, multiline: true }
}

/** The post the keys act on: the selected one on the timeline, in a thread or on a profile. */
export function selectedPost(s: UiState): PostView | null {
  const t = top(s)
  if (t?.kind === 'thread') return threadRows(t.thread)[t.selected]?.post ?? null
  if (t?.kind === 'profile' || t?.kind === 'topic') return t.posts[t.selected] ?? null
  if (!t && s.tab === 'timeline') return s.timeline.posts[s.timeline.selected] ?? null
  return null
}

/** The transfer the keys act on: the one whose details are open, else the selected one. */
export function selectedTransfer(s: UiState): UiState['transfers']['items'][number] | null {
  const t = top(s)
  const infohash = t?.kind === 'transfer' ? t.infohash : !t && s.tab === 'transfers' ? s.transfers.items[s.transfers.selected]?.infohash : undefined
  return s.transfers.items.find((x) => x.infohash === infohash) ?? null
}

/** Rows a page of a list moves, from the terminal height (posts take 3 rows each). */
function page(s: UiState, rowsPerItem: number): number {
  return Math.max(1, Math.floor((s.size.rows - 6) / rowsPerItem))
}

function moved(index: number, length: number, to: Move, pageSize: number): number {
  switch (to) {
    case 'up':
      return clamp(index - 1, length)
    case 'down':
      return clamp(index + 1, length)
    case 'page-up':
      return clamp(index - pageSize, length)
    case 'page-down':
      return clamp(index + pageSize, length)
    case 'first':
      return 0
    case 'last':
      return Math.max(0, length - 1)
    default:
      return checkExhaustive(to)
  }
}

function moveIn(s: UiState, to: Move): UiState {
  const t = top(s)
  if (s.mode === 'setup') return s.setup.step === 'choose' ? { ...s, setup: { ...s.setup, selected: moved(s.setup.selected, 3, to, 1) }, message: null } : s
  if (t?.kind === 'thread') return updateTop(s, 'thread', (x) => ({ ...x, selected: moved(x.selected, threadRows(x.thread).length, to, page(s, 2)) }))
  if (t?.kind === 'profile') return updateTop(s, 'profile', (x) => ({ ...x, selected: moved(x.selected, x.posts.length, to, page(s, 3)) }))
  if (t?.kind === 'topic') return updateTop(s, 'topic', (x) => ({ ...x, selected: moved(x.selected, x.posts.length, to, page(s, 3)) }))
  if (t?.kind === 'transfer') return updateTop(s, 'transfer', (x) => ({ ...x, selected: moved(x.selected, x.peers.length, to, page(s, 1)) }))
  if (t?.kind === 'attachments') return updateTop(s, 'attachments', (x) => ({ ...x, selected: moved(x.selected, x.post.attachments.length, to, page(s, 1)) }))
  if (t?.kind === 'search') return updateTop(s, 'search', (x) => ({ ...x, selected: moved(x.selected, searchRows(x).length, to, page(s, 2)) }))
  if (t) return s
  switch (s.tab) {
    case 'timeline':
      return { ...s, timeline: { ...s.timeline, selected: moved(s.timeline.selected, s.timeline.posts.length, to, page(s, 3)) } }
    case 'people': {
      const p = s.people
      if (p.section === 'discover') return { ...s, people: { ...p, foundSelected: moved(p.foundSelected, p.found.length, to, page(s, 2)) } }
      if (p.section === 'followers') return { ...s, people: { ...p, followerSelected: moved(p.followerSelected, p.followers.length, to, page(s, 1)) } }
      return { ...s, people: { ...p, selected: moved(p.selected, p.following.length, to, page(s, 1)) } }
    }
    case 'notifications':
      return { ...s, notifications: { ...s.notifications, selected: moved(s.notifications.selected, s.notifications.items.length, to, page(s, 3)) } }
    case 'transfers':
      return { ...s, transfers: { ...s.transfers, selected: moved(s.transfers.selected, s.transfers.items.length, to, page(s, 3)) } }
    case 'identity':
      return s
    default:
      return checkExhaustive(s.tab)
  }
}

/** Enter on a list item: its thread, profile or details. */
function open(s: UiState): UiState {
  const t = top(s)
  if (t?.kind === 'profile' || t?.kind === 'topic') {
    const post = t.posts[t.selected]
    return post ? pushThread(s, post.root ?? post.ref, post.root ? post.ref : null) : s
  }
  if (t?.kind === 'search') {
    const row = searchRows(t)[t.selected]
    if (!row) return s
    return 'person' in row ? pushProfile(s, row.person.id) : pushThread(s, row.post.root ?? row.post.ref, row.post.root ? row.post.ref : null)
  }
  if (t) return s
  switch (s.tab) {
    case 'timeline': {
      const post = s.timeline.posts[s.timeline.selected]
      return post ? pushThread(s, post.ref) : s
    }
    case 'people': {
      const p = s.people
      const person = p.section === 'discover' ? p.found[p.foundSelected] : p.section === 'followers' ? p.followers[p.followerSelected] : p.following[p.selected]
      return person ? pushProfile(s, person.id) : s
    }
    case 'notifications': {
      const note = s.notifications.items[s.notifications.selected]
      if (note?.kind === 'follow') return pushProfile(s, note.person.id)
      const post = note?.post
      return post ? pushThread(s, post.root ?? post.ref, post.ref) : s
    }
    case 'transfers': {
      const item = s.transfers.items[s.transfers.selected]
      return item ? { ...push(s, { kind: 'transfer', infohash: item.infohash, magnet: s.magnets[item.infohash] ?? null, peers: [], selected: 0 }), prompt: null } : s
    }
    case 'identity':
      return s
    default:
      return checkExhaustive(s.tab)
  }
}

function setSetup(s: UiState, setup: UiState['setup']): UiState {
  return { ...s, setup, message: null }
}

/** Enter (or Ctrl-S) in a prompt or a form: the state part (the node part is in effects.ts). */
function submit(s: UiState, say: (text: string) => UiState): UiState {
  const ctx = contextOf(s)
  if (s.prompt) {
    const p = s.prompt
    const value = p.field.value.trim()
    if ((p.kind === 'topic' || p.kind === 'topic-view') && value.replace(/^#+/, '') === '') return { ...say('Type a topic, like vintage-manuals.'), prompt: null }
    if (p.kind === 'topic-view') return pushTopic({ ...s, prompt: null }, value.replace(/^#+/, ''))
    if (p.kind === 'search') {
      if (value === '') return { ...say('Type a word to search for, like kaypro.'), prompt: null }
      return push({ ...s, prompt: null }, { kind: 'search', query: value, people: [], posts: [], selected: 0, loading: true })
    }
    return { ...s, prompt: null }
  }
  const st = s.setup
  const id = s.identity
  if (ctx === 'setup-create' && st.step === 'create') {
    if (st.focus === 0 && st.name.value.trim() !== '') return setSetup(s, { ...st, focus: 1 })
    return setSetup(s, { ...st, busy: true })
  }
  if (ctx === 'setup-restore-phrase' && st.step === 'restore-phrase') return setSetup(s, { ...st, busy: true })
  if (ctx === 'setup-restore-backup' && st.step === 'restore-backup') return setSetup(s, st.focus === 0 ? { ...st, focus: 1 } : { ...st, busy: true })
  if (ctx === 'identity-backup' && id.backup && id.backup.focus < 2) return { ...s, identity: { ...id, backup: { ...id.backup, focus: (id.backup.focus + 1) as 1 | 2 } } }
  return s
}

/** Esc in a prompt or a form. */
function cancel(s: UiState, say: (text: string) => UiState): UiState {
  if (s.prompt) return { ...s, prompt: null }
  const t = top(s)
  if (t?.kind === 'compose') {
    const draft = t.text.value || t.files.length ? t : null
    const closed = { ...pop(s), draft }
    return draft ? { ...closed, message: say('Draft kept: c opens it again.').message } : closed
  }
  if (s.mode === 'setup') {
    const selected = s.setup.step === 'restore-phrase' ? 1 : s.setup.step === 'restore-backup' ? 2 : 0
    return setSetup(s, { step: 'choose', selected })
  }
  if (s.tab === 'identity') return { ...s, identity: { edit: null, backup: null, phrase: null } }
  return s
}

function nextField(s: UiState, by: 1 | -1): UiState {
  const t = top(s)
  const st = s.setup
  const id = s.identity
  if (s.mode === 'setup' && (st.step === 'create' || st.step === 'restore-backup')) return setSetup(s, { ...st, focus: st.focus ? 0 : 1 })
  if (t?.kind === 'compose') return updateTop(s, 'compose', (x) => ({ ...x, focus: ((x.focus + (by === 1 ? 1 : 2)) % 3) as 0 | 1 | 2, candidates: [] }))
  if (id.edit) return { ...s, identity: { ...id, edit: { ...id.edit, focus: id.edit.focus ? 0 : 1 } } }
  if (id.backup) return { ...s, identity: { ...id, backup: { ...id.backup, focus: ((id.backup.focus + (by === 1 ? 1 : 2)) % 3) as 0 | 1 | 2 } } }
  return s
}

/** Typing, a new line, or the cursor a line up or down, in the field that has the focus. */
function edit(s: UiState, a: Extract<Action, { type: 'newline' | 'line' | 'type' }>): UiState {
  const apply = (f: Field, multiline: boolean): Field | null => {
    if (a.type === 'line') return multiline ? moveLine(f, a.by) : null
    if (a.type === 'newline') return multiline ? newLine(f) : null
    return editField(f, a.input, a.key, { multiline })
  }
  if (s.prompt) {
    const next = apply(s.prompt.field, s.prompt.multiline)
    return next ? { ...s, prompt: { ...s.prompt, field: next, ...(s.prompt.candidates?.length ? { candidates: [] } : {}) } } : s
  }
  const t = top(s)
  if (t?.kind === 'compose') {
    const name = (['text', 'topics', 'attach'] as const)[t.focus]
    const next = apply(t[name], t.focus === 0)
    return next ? updateTop(s, 'compose', (x) => ({ ...x, [name]: next, candidates: [] })) : s
  }
  const st = s.setup
  if (s.mode === 'setup') {
    if (st.step === 'create') return fieldOf(s, st.focus === 0 ? 'name' : 'bio', st, apply)
    if (st.step === 'restore-phrase') return fieldOf(s, 'phrase', st, apply)
    if (st.step === 'restore-backup') return fieldOf(s, st.focus === 0 ? 'file' : 'passphrase', st, apply)
    return s
  }
  const { edit: e, backup } = s.identity
  if (e) {
    const name = e.focus === 0 ? 'name' : 'bio'
    const next = apply(e[name], false)
    return next ? { ...s, identity: { ...s.identity, edit: { ...e, [name]: next } } } : s
  }
  if (backup) {
    const name = (['file', 'passphrase', 'again'] as const)[backup.focus]
    const next = apply(backup[name], false)
    return next ? { ...s, identity: { ...s.identity, backup: { ...backup, [name]: next } } } : s
  }
  return s
}

function fieldOf<S extends UiState['setup'], N extends keyof S & string>(s: UiState, name: N, st: S, apply: (f: Field, multiline: boolean) => Field | null): UiState {
  const next = apply(st[name] as Field, false)
  return next ? setSetup(s, { ...st, [name]: next }) : s
}
