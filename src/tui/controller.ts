import { ChrysalisError, isChrysalisError } from '../errors.js'
import type { ChrysalisNode, NodeStatus } from '../node/node.js'
import { hasIdentity } from '../node/setup.js'
import type { Action } from './actions.js'
import type { Copied } from './clipboard.js'
import { effect } from './effects.js'
import { errorLine, userError } from './errors.js'
import { loadFollowing, loadNotifications } from './node-people.js'
import { loadThread, loadTimeline, lookAvailability, refreshTimeline } from './node-posts.js'
import type { TopicWatch } from './node-topic.js'
import { reduce } from './reducer.js'
import { readSaved, writeSaved } from './saved.js'
import { clamp, threadRows, top, updateTop, type Store, type UiState } from './store.js'

/**
 * The part of the node the TUI uses: the typed API and events, nothing below it. Tests and the
 * benchmark may hand in any object of this shape.
 */
export type TuiNode = Pick<
  ChrysalisNode,
  | 'home'
  | 'whoami'
  | 'setProfile'
  | 'profile'
  | 'post'
  | 'comment'
  | 'edit'
  | 'delete'
  | 'follow'
  | 'unfollow'
  | 'block'
  | 'unblock'
  | 'followingList'
  | 'blockedList'
  | 'followsOf'
  | 'timeline'
  | 'feed'
  | 'getPost'
  | 'thread'
  | 'notifications'
  | 'watchTopic'
  | 'watchTopicPosts'
  | 'confirmNeverPosted'
  | 'on'
  | 'off'
> & {
  /** Look before you follow (a profile read from the network); test doubles may leave it out. */
  look?: ChrysalisNode['look']
  /** Who follows you; test doubles may leave it out. */
  followers?: ChrysalisNode['followers']
  /** Search what is indexed here; test doubles may leave it out. */
  search?: ChrysalisNode['search']
  /** `bt` is the BitTorrent side (BtStatus); read only when there. */
  status(): NodeStatus & { bt?: TuiBtStatus }
  files: Pick<ChrysalisNode['files'], 'share' | 'fetchAll' | 'list' | 'pause' | 'resume' | 'remove' | 'magnet' | 'exportTorrent' | 'availability'> & {
    /** A torrent's peers (Transfers.peerStats): the fields beyond id/pieces/bytes are read only when there. */
    peers(infohash: string): TuiPeerInfo[]
  }
}

/** What the TUI reads of a peer of a torrent (TorrentPeerInfo). */
export interface TuiPeerInfo {
  id: string
  pieces: number
  downloaded: number
  uploaded: number
  /** HOST:PORT (or the URL of a web seed), when known. */
  address?: string | null
  /** The client's name from its BEP 10 handshake ("v"), when it said one. */
  client?: string | null
  kind?: 'chrysalis' | 'bittorrent' | 'webseed'
  transport?: 'tcp' | 'hyperswarm' | 'http'
}

/** What the TUI reads of BtStatus. */
export interface TuiBtStatus {
  /** TCP port for incoming BitTorrent peers; null when none. */
  port: number | null
  encryptedOnly: boolean
}

/** The node, open; going online may still be under way. */
export interface OpenedNode {
  node: TuiNode
  /**
   * Settles once the node is online (rejects when it could not go online: it stays open,
   * offline). Until then the status bar says "going online…". Absent: online already.
   */
  online?: Promise<void>
  /** How many DHT nodes the node knows now (0: the DHT is not reachable). Absent: not known. */
  dhtNodes?: () => number
}

export interface ControllerOptions {
  home: string
  /**
   * Open the node for the home (then online, live, serving other CLI commands, in the
   * background); called once an identity exists. The UI shows what is saved once it resolves.
   */
  openNode: () => Promise<OpenedNode>
  /** Where fetched files go. */
  downloads: string
  /** Paths typed by the user are relative to this. */
  cwd: string
  /** Put text on the clipboard (clipboard.ts), saying how it went; the text is also shown. */
  copy?: (text: string) => Promise<Copied>
  /** Ask the app to exit (after close()). */
  exit: () => void
  /** Timers: the status and transfers refresh period (default 1000 ms). */
  tickMs?: number
}

/** How long a piece of information stays in the message line. */
const INFO_MS = 10_000

/**
 * The one place that changes the state: keys dispatch actions here; the reducer changes the
 * state, then effects.ts calls the node. It also owns the lifecycle (open, timers, node events,
 * close). Every failure a user can meet becomes one line in the message bar; nothing here
 * throws into React.
 */
export class Controller {
  node: TuiNode | null = null
  readonly store: Store
  readonly opts: ControllerOptions
  /** Stops watching the topic of Discover. */
  stopWatch: (() => void) | null = null
  /** The live topic views, by their place on the stack (node-topic.ts). */
  readonly topicWatches = new Map<number, TopicWatch>()
  private timer: NodeJS.Timeout | null = null
  private reloadTimer: NodeJS.Timeout | null = null
  private dhtNodes: (() => number) | null = null
  private readonly unsubscribe: Array<() => void> = []
  private closed = false
  /** The saved view being written (saveView), which closing waits for. */
  private pendingSave: Promise<void> | null = null

  constructor(store: Store, opts: ControllerOptions) {
    this.store = store
    this.opts = opts
    store.update((s) => ({ ...s, downloads: opts.downloads }))
  }

  get state(): UiState {
    return this.store.get()
  }

  /** Apply an action: the reducer's state change, then what it does through the node. */
  dispatch(a: Action): void {
    if (this.closed) return
    const before = this.state
    this.store.update((s) => reduce(s, a))
    effect(this, a, before, this.state)
  }

  /** A change of state from a result of the node (ignored once closed). */
  update(fn: (s: UiState) => UiState): void {
    if (!this.closed) this.store.update(fn)
  }

  fail(err: unknown): void {
    // Going online, what needs the network is refused: said plainly (the node's words name an API call).
    const going = this.state.status.net === 'going' && isChrysalisError(err, 'OFFLINE')
    const text = going ? 'not online yet (going online…); try again once the status bar says online' : errorLine(err)
    this.update((s) => ({ ...s, message: { kind: 'error', text, at: Date.now() } }))
  }

  info(text: string): void {
    this.update((s) => ({ ...s, message: { kind: 'info', text, at: Date.now() } }))
  }

  /** Run an action; its error goes to the message bar. */
  run(action: () => Promise<unknown>): void {
    action().catch((err: unknown) => this.fail(err))
  }

  need(): TuiNode {
    if (!this.node) throw userError('the node is not open yet; wait a moment')
    return this.node
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  async start(): Promise<void> {
    if (await hasIdentity(this.opts.home)) await this.open()
    else this.update((s) => ({ ...s, mode: 'setup' }))
  }

  /** Open the node (once an identity exists), follow its events, load the screens. */
  async open(): Promise<void> {
    this.update((s) => ({ ...s, mode: 'opening' }))
    // What the UI showed last time, at once: the node takes a few hundred milliseconds more.
    const saved = readSaved(this.opts.home)
    if (saved) {
      this.update((s) => ({ ...s, mode: 'main', me: saved.me, timeline: { ...s.timeline, posts: saved.posts, loaded: true }, status: { ...s.status, net: 'going' } }))
    }
    let opened: OpenedNode
    try {
      opened = await this.opts.openNode()
    } catch (err) {
      this.fail(err)
      this.update((s) => ({ ...s, mode: 'failed' }))
      return
    }
    if (this.closed) return
    const node = opened.node
    this.node = node
    this.dhtNodes = opened.dhtNodes ?? null
    if (opened.online) this.whenOnline(opened.online)
    const onUpdate = (): void => this.reloadSoon()
    const onNotification = (): void => this.run(() => loadNotifications(this, true))
    node.on('feed-update', onUpdate)
    node.on('notification', onNotification)
    this.unsubscribe.push(() => node.off('feed-update', onUpdate), () => node.off('notification', onNotification))
    const me = await node.whoami()
    this.update((s) => ({ ...s, mode: 'main', me }))
    this.tick()
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000)
    await Promise.all([loadTimeline(this), loadFollowing(this), loadNotifications(this, false)])
  }

  /** Going online in the background: the status bar says so until it is done (or failed). */
  private whenOnline(online: Promise<void>): void {
    const net = (to: UiState['status']['net']): void => this.update((s) => ({ ...s, status: { ...s.status, net: to } }))
    net('going')
    online.then(
      () => {
        net('online')
        this.tick()
        // Who has the attachments shown could not be asked offline: ask now.
        const t = top(this.state)
        lookAvailability(this, t?.kind === 'thread' ? threadRows(t.thread).map((r) => r.post) : this.state.timeline.posts.slice(0, 20))
      },
      (err: unknown) => {
        net('offline')
        this.fail(new ChrysalisError('OFFLINE', `could not go online: ${errorLine(err)}; what is saved here is shown (quit and start again to retry)`))
      }
    )
  }

  /** q and Ctrl-C: leave now (the node closes after the UI is gone). */
  /** Save who you are and the timeline's first page, for the next start's first frame (saved.ts). */
  saveView(): void {
    const { me, timeline } = this.state
    if (!this.node || !me || !timeline.loaded) return
    this.pendingSave = writeSaved(this.opts.home, { me, posts: timeline.posts }).catch(() => {}) // not saved: the next start waits for the node, as without it
  }

  quit(): void {
    void this.close().then(() => this.opts.exit())
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.saveView()
    this.update((s) => ({ ...s, mode: 'closing' }))
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    if (this.reloadTimer) clearTimeout(this.reloadTimer)
    this.stopWatch?.()
    for (const w of this.topicWatches.values()) w.stop?.()
    this.topicWatches.clear()
    for (const u of this.unsubscribe) u()
    return this.pendingSave ?? Promise.resolve()
  }

  /** Status, transfers and the time, every tickMs. */
  tick(): void {
    const node = this.node
    if (!node || this.closed) return
    const st = node.status()
    const items = node.files.list()
    const down = items.reduce((a, t) => a + t.downloadRate, 0)
    const up = items.reduce((a, t) => a + t.uploadRate, 0)
    const now = Date.now()
    const bt = btOf(st.bt)
    this.update((s) => ({
      ...s,
      now,
      message: s.message?.kind === 'info' && now - s.message.at > INFO_MS ? null : s.message,
      status: { ...s.status, online: st.online, peers: st.peers, feeds: st.feeds, feedsReachable: st.feedsReachable, down, up, recovering: st.recovering, bt, dhtNodes: this.dhtNodes?.() ?? null },
      transfers: { ...s.transfers, items, selected: clamp(s.transfers.selected, items.length) }
    }))
    this.refreshPeers()
  }

  /** The peers of the transfer whose details are open. */
  refreshPeers(): void {
    const t = top(this.state)
    if (t?.kind !== 'transfer' || !this.node) return
    let peers: TuiPeerInfo[]
    try {
      peers = this.node.files.peers(t.infohash)
    } catch {
      peers = []
    }
    this.update((s) => updateTop(s, 'transfer', (x) => (x.infohash === t.infohash ? { ...x, peers, selected: clamp(x.selected, peers.length) } : x)))
  }

  /**
   * Something arrived (a followed feed grew, a notification came): reload what is shown — the
   * timeline, People's names, the open thread — keeping each selection on the same item. Feed
   * updates come in bursts while a feed syncs: at most one reload every 150 ms.
   */
  reloadSoon(): void {
    if (this.reloadTimer) return
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null
      this.run(async () => {
        await refreshTimeline(this)
        if (this.state.tab === 'people') await loadFollowing(this) // names arrive with the feeds
        const t = top(this.state)
        if (t?.kind === 'thread') await loadThread(this, t.ref)
      })
    }, 150)
  }
}

function btOf(bt: TuiBtStatus | undefined): TuiBtStatus | null {
  if (!bt || typeof bt !== 'object') return null
  return { port: typeof bt.port === 'number' ? bt.port : null, encryptedOnly: bt.encryptedOnly === true }
}
