import type { DiscoveredPerson, SearchResult } from '../node/node.js'
import type { FollowerView, NotificationView, PersonView, PostView, ProfileView, ThreadView } from '../node/views.js'
import type { TransferView } from '../transfer/transfers.js'
import { field, type Field } from './field.js'
import type { TuiBtStatus, TuiPeerInfo } from './controller.js'

/**
 * Everything the TUI shows, in one immutable state held outside React. Key handlers read the
 * current state synchronously (store.get()), so keys arriving in one burst each see the result
 * of the one before — React state read from a stale closure would not (ink.md, "key bursts").
 */
export type Tab = 'timeline' | 'people' | 'notifications' | 'transfers' | 'identity'
export const TABS: Tab[] = ['timeline', 'people', 'notifications', 'transfers', 'identity']
export const TAB_TITLES: Record<Tab, string> = {
  timeline: 'Timeline',
  people: 'People',
  notifications: 'Notifications',
  transfers: 'Transfers',
  identity: 'Identity'
}

/** The People screen's panes, in ←→ order. */
export const PEOPLE_SECTIONS = ['following', 'followers', 'discover'] as const

export interface Message {
  kind: 'error' | 'info'
  text: string
  /** When it was said: information fades after a while, errors stay until the next one. */
  at: number
}

/** A yes/no question that holds every other key until answered. */
export interface Confirm {
  question: string
  action: 'delete-post' | 'cancel-transfer' | 'show-phrase'
  target: string
}

/** A one-line (or multi-line) prompt over the current screen. */
export interface Prompt {
  kind: 'reply' | 'edit' | 'follow-id' | 'topic' | 'topic-view' | 'export-torrent' | 'add-fetch' | 'search'
  title: string
  field: Field
  /** What the prompt acts on: a post ref, an infohash. */
  target: string
  multiline: boolean
  /** Paths that match what is typed, after Tab (prompts that take a path). */
  candidates?: string[]
}

export type SetupStep =
  | { step: 'choose'; selected: number }
  | { step: 'create'; name: Field; bio: Field; focus: 0 | 1; busy: boolean }
  /** The profile typed on 'create' is published once the node is open. */
  | { step: 'phrase'; phrase: string; id: string; fingerprint: string; profile: { name: string; bio: string } }
  | { step: 'restore-phrase'; phrase: Field; busy: boolean }
  | { step: 'restore-backup'; file: Field; passphrase: Field; focus: 0 | 1; busy: boolean }

export interface ThreadState {
  kind: 'thread'
  ref: string
  thread: ThreadView | null
  /** Index into the flattened thread (0 = the root post). */
  selected: number
  loading: boolean
  /** A post to select once the thread has loaded (a notification's comment). */
  want: string | null
}

export interface ProfileState {
  kind: 'profile'
  id: string
  profile: ProfileView | null
  posts: PostView[]
  follows: PersonView[]
  following: boolean
  blocked: boolean
  selected: number
  loading: boolean
  /**
   * Your own profile only (node-profile.ts): its posts are paged from your feed; the id of the
   * oldest one loaded, to read older ones from, or null once all are loaded. Others' stay null.
   */
  next: string | null
  /** An older page is being read. */
  loadingMore: boolean
  /** People following you, when the node can say (not yet: see node-profile.ts); null: not shown. */
  followers: number | null
}

export interface ComposeState {
  kind: 'compose'
  text: Field
  topics: Field
  attach: Field
  focus: 0 | 1 | 2
  /** Files shared for this post: hashing (done < total) or ready. */
  files: Array<{ path: string; name: string; size: number; done: number; infohash: string | null; error: string | null }>
  candidates: string[]
  busy: boolean
}

/** One transfer's details: its magnet, whole, and its peers. */
export interface TransferState {
  kind: 'transfer'
  infohash: string
  /** From the node once it has the metadata, else the magnet the user pasted; null while unknown. */
  magnet: string | null
  peers: TuiPeerInfo[]
  selected: number
}

/** A post's attached files: for the selected one, its name, size, peers, infohash and whole magnet. */
export interface AttachmentsState {
  kind: 'attachments'
  post: PostView
  selected: number
  /** Magnets by infohash: the node's when it knows the torrent, else made from the infohash and name. */
  magnets: Record<string, string>
}

/**
 * A topic as a place: the newest posts on it from everyone found there, followed or not, live
 * (node-topic.ts watches it while the screen is on the stack).
 */
export interface TopicState {
  kind: 'topic'
  /** As asked for (a post's topic, the discovered one, or typed). */
  topic: string
  /** As the node normalised it; null until its first report. */
  name: string | null
  posts: PostView[]
  /** People found on the topic so far. */
  people: number
  /** False: the node is offline and shows only what is here. */
  online: boolean
  /** Found people's feeds still being read. */
  reading: number
  selected: number
  loading: boolean
}

/** Search results: people first, then posts; one list to move through. */
export interface SearchState {
  kind: 'search'
  query: string
  people: SearchResult['people']
  posts: PostView[]
  selected: number
  loading: boolean
}

/** The rows of a search screen, in the order they are shown and selected. */
export function searchRows(t: SearchState): Array<{ person: SearchResult['people'][number] } | { post: PostView }> {
  return [...t.people.map((person) => ({ person })), ...t.posts.map((post) => ({ post }))]
}

export type Pushed = ThreadState | ProfileState | ComposeState | TransferState | AttachmentsState | SearchState | TopicState

export interface UiState {
  mode: 'starting' | 'setup' | 'opening' | 'failed' | 'main' | 'closing'
  setup: SetupStep
  tab: Tab
  stack: Pushed[]
  help: boolean
  prompt: Prompt | null
  confirm: Confirm | null
  message: Message | null
  now: number
  status: {
    /** Going online in the background, online, or offline because going online failed. */
    net: 'going' | 'online' | 'offline'
    /** DHT nodes known (0: the DHT is not reachable); null when not known. */
    dhtNodes: number | null
    online: boolean
    peers: number
    feeds: number
    feedsReachable: number
    down: number
    up: number
    recovering: boolean
    /** The BitTorrent side, when the node reports it. */
    bt: TuiBtStatus | null
  }
  me: ProfileView | null
  timeline: { posts: PostView[]; next: string | null; loading: boolean; selected: number; loaded: boolean }
  people: {
    /** The pane shown: ←→ goes through PEOPLE_SECTIONS. */
    section: (typeof PEOPLE_SECTIONS)[number]
    following: PersonView[]
    selected: number
    followers: FollowerView[]
    followerSelected: number
    topic: string | null
    found: DiscoveredPerson[]
    foundSelected: number
  }
  notifications: { items: NotificationView[]; selected: number; unread: number }
  transfers: { items: TransferView[]; selected: number }
  identity: {
    edit: { name: Field; bio: Field; focus: 0 | 1 } | null
    backup: { file: Field; passphrase: Field; again: Field; focus: 0 | 1 | 2 } | null
    /** The recovery phrase, shown after a y/n confirm until the next key. */
    phrase: string | null
  }
  /** Peers announcing each attachment, by infohash (null while looking). */
  availability: Record<string, number | null>
  /** A closed compose, kept until posted (c opens it again). */
  draft: ComposeState | null
  /** Magnets the user pasted, by infohash: shown in a transfer's details until the node knows the metadata. */
  magnets: Record<string, string>
  size: { columns: number; rows: number }
  /** Where fetched files go, and the folder that files written for the user (.torrent, backup) default to. */
  downloads: string
}

export function initialState(size = { columns: 80, rows: 24 }, now = Date.now()): UiState {
  return {
    mode: 'starting',
    setup: { step: 'choose', selected: 0 },
    tab: 'timeline',
    stack: [],
    help: false,
    prompt: null,
    confirm: null,
    message: null,
    now,
    status: { net: 'online', dhtNodes: null, online: false, peers: 0, feeds: 0, feedsReachable: 0, down: 0, up: 0, recovering: false, bt: null },
    me: null,
    timeline: { posts: [], next: null, loading: false, selected: 0, loaded: false },
    people: { section: 'following', following: [], selected: 0, followers: [], followerSelected: 0, topic: null, found: [], foundSelected: 0 },
    notifications: { items: [], selected: 0, unread: 0 },
    transfers: { items: [], selected: 0 },
    identity: { edit: null, backup: null, phrase: null },
    availability: {},
    draft: null,
    magnets: {},
    size,
    downloads: ''
  }
}

export function newCompose(): ComposeState {
  return { kind: 'compose', text: field(), topics: field(), attach: field(), focus: 0, files: [], candidates: [], busy: false }
}

type Listener = () => void

/** The state and its subscribers (React reads it through useSyncExternalStore). */
export class Store {
  private state: UiState
  private readonly listeners = new Set<Listener>()

  constructor(state: UiState) {
    this.state = state
  }

  get = (): UiState => this.state

  update(fn: (s: UiState) => UiState): void {
    const next = fn(this.state)
    if (next === this.state) return
    this.state = next
    for (const l of this.listeners) l()
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

/** The screen on top: the last pushed one, else the current tab. */
export function top(s: UiState): Pushed | null {
  return s.stack.length ? s.stack[s.stack.length - 1]! : null
}

/** Replace the top pushed screen of a kind (no change when the top is another screen). */
export function updateTop<K extends Pushed['kind']>(s: UiState, kind: K, fn: (p: Extract<Pushed, { kind: K }>) => Extract<Pushed, { kind: K }>): UiState {
  const t = top(s)
  if (!t || t.kind !== kind) return s
  return { ...s, stack: [...s.stack.slice(0, -1), fn(t as Extract<Pushed, { kind: K }>)] }
}

/** The thread flattened into rows: the root (depth 0), then comments depth-first. */
export interface ThreadRow {
  post: PostView | null
  depth: number
}

export function threadRows(thread: ThreadView | null): ThreadRow[] {
  if (!thread) return []
  const rows: ThreadRow[] = [{ post: thread.root, depth: 0 }]
  const walk = (nodes: ThreadView['comments'], depth: number): void => {
    for (const n of nodes) {
      rows.push({ post: n, depth })
      walk(n.children, depth + 1)
    }
  }
  walk(thread.comments, 1)
  return rows
}

export function clamp(n: number, length: number): number {
  return Math.max(0, Math.min(n, length - 1))
}
