import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { ChrysalisNode, NodeStatus } from '../node/node.js'
import { hasIdentity, beginInit, finishInit, recoveryPhrase, restoreIdentity, exportBackup, checkProfile } from '../node/setup.js'
import { ChrysalisError, isChrysalisError } from '../errors.js'
import type { PostView } from '../node/views.js'
import { field } from './field.js'
import { userPath } from './complete.js'
import { oneLine, truncate } from './text.js'
import { clamp, newCompose, threadRows, top, updateTop, type Store, type Tab, type UiState } from './store.js'

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
  | 'thread'
  | 'notifications'
  | 'watchTopic'
  | 'confirmNeverPosted'
  | 'on'
  | 'off'
> & {
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

export interface ControllerOptions {
  home: string
  /** Open the node for the home (online, live, serving other CLI commands); called once an identity exists. */
  openNode: () => Promise<TuiNode>
  /** Where fetched files go. */
  downloads: string
  /** Paths typed by the user are relative to this. */
  cwd: string
  /** Put text on the system clipboard (OSC 52); the text is also shown. */
  copy?: (text: string) => void
  /** Ask the app to exit (after close()). */
  exit: () => void
  /** Timers: the status and transfers refresh period (default 1000 ms). */
  tickMs?: number
}

const PAGE = 200
/** How long a piece of information stays in the message line. */
const INFO_MS = 10_000

/**
 * Does what the keys ask: calls the node, puts results and errors in the store. Every failure a
 * user can meet becomes one line in the message bar; nothing here throws into React.
 */
export class Controller {
  node: TuiNode | null = null
  readonly store: Store
  private readonly opts: ControllerOptions
  private timer: NodeJS.Timeout | null = null
  private stopWatch: (() => void) | null = null
  private reloadTimer: NodeJS.Timeout | null = null
  private readonly unsubscribe: Array<() => void> = []
  private closed = false

  constructor(store: Store, opts: ControllerOptions) {
    this.store = store
    this.opts = opts
  }

  get state(): UiState {
    return this.store.get()
  }

  private set(fn: (s: UiState) => UiState): void {
    if (!this.closed) this.store.update(fn)
  }

  /** One line for the user: a ChrysalisError's own words, else a plain summary. */
  fail(err: unknown): void {
    const text = isChrysalisError(err) ? err.message : err instanceof Error ? `unexpected error: ${err.message.split('\n')[0]}` : String(err)
    this.set((s) => ({ ...s, message: { kind: 'error', text, at: Date.now() } }))
  }

  info(text: string): void {
    this.set((s) => ({ ...s, message: { kind: 'info', text, at: Date.now() } }))
  }

  /** Run an action; its error goes to the message bar. */
  run(action: () => Promise<unknown>): void {
    action().catch((err: unknown) => this.fail(err))
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  async start(): Promise<void> {
    if (await hasIdentity(this.opts.home)) await this.open()
    else this.set((s) => ({ ...s, mode: 'setup' }))
  }

  private async open(): Promise<void> {
    this.set((s) => ({ ...s, mode: 'opening' }))
    let node: TuiNode
    try {
      node = await this.opts.openNode()
    } catch (err) {
      this.fail(err)
      this.set((s) => ({ ...s, mode: 'failed' }))
      return
    }
    if (this.closed) return
    this.node = node
    const onUpdate = (): void => this.scheduleReload()
    const onNotification = (): void => this.run(() => this.loadNotifications(true))
    node.on('feed-update', onUpdate)
    node.on('notification', onNotification)
    this.unsubscribe.push(() => node.off('feed-update', onUpdate), () => node.off('notification', onNotification))
    const me = await node.whoami()
    this.set((s) => ({ ...s, mode: 'main', me }))
    this.tick()
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000)
    await Promise.all([this.loadTimeline(), this.loadFollowing(), this.loadNotifications(false)])
  }

  get cwd(): string {
    return this.opts.cwd
  }

  /** q and Ctrl-C: leave now (the node closes after the UI is gone). */
  requestQuit(): void {
    this.quit()
  }

  quit(): void {
    void this.close().then(() => this.opts.exit())
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.set((s) => ({ ...s, mode: 'closing' }))
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    if (this.reloadTimer) clearTimeout(this.reloadTimer)
    this.stopWatch?.()
    for (const u of this.unsubscribe) u()
    return Promise.resolve()
  }

  private tick(): void {
    const node = this.node
    if (!node || this.closed) return
    const st = node.status()
    const items = node.files.list()
    const down = items.reduce((a, t) => a + t.downloadRate, 0)
    const up = items.reduce((a, t) => a + t.uploadRate, 0)
    const now = Date.now()
    const bt = btOf(st.bt)
    this.set((s) => ({
      ...s,
      now,
      message: s.message?.kind === 'info' && now - s.message.at > INFO_MS ? null : s.message,
      status: { online: st.online, peers: st.peers, feeds: st.feeds, feedsReachable: st.feedsReachable, down, up, recovering: st.recovering, bt },
      transfers: { ...s.transfers, items, selected: clamp(s.transfers.selected, items.length) }
    }))
    this.refreshPeers()
  }

  /** The peers of the transfer whose details are open. */
  private refreshPeers(): void {
    const t = top(this.state)
    if (t?.kind !== 'transfer' || !this.node) return
    let peers: TuiPeerInfo[]
    try {
      peers = this.node.files.peers(t.infohash)
    } catch {
      peers = []
    }
    this.set((s) => updateTop(s, 'transfer', (x) => (x.infohash === t.infohash ? { ...x, peers, selected: clamp(x.selected, peers.length) } : x)))
  }

  /** Feed updates arrive in bursts while a feed syncs: reload at most every 150 ms. */
  private scheduleReload(): void {
    if (this.reloadTimer) return
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null
      this.run(async () => {
        await this.refreshTimeline()
        if (this.state.tab === 'people') await this.loadFollowing() // names arrive with the feeds
        const t = top(this.state)
        if (t?.kind === 'thread') await this.loadThread(t.ref)
      })
    }, 150)
  }

  // -------------------------------------------------------------------------------------------
  // First run

  async createIdentity(name: string, bio: string): Promise<void> {
    checkProfile(name, bio)
    const created = await beginInit(this.opts.home) // marked until the phrase is confirmed: `chrysalis init` resumes it
    this.pendingProfile = { name, bio }
    this.set((s) => ({ ...s, setup: { step: 'phrase', phrase: created.phrase, id: created.id, fingerprint: created.fingerprint } }))
  }

  private pendingProfile: { name: string; bio: string } | null = null

  /** The user confirmed the phrase is written down: forget it and go on. */
  async phraseSaved(): Promise<void> {
    this.set((s) => ({ ...s, setup: { step: 'choose', selected: 0 } }))
    await this.open()
    if (this.node && this.pendingProfile) {
      const me = await this.node.setProfile(this.pendingProfile)
      this.pendingProfile = null
      await finishInit(this.opts.home)
      this.set((s) => ({ ...s, me }))
      this.info(`Welcome, ${me.name ?? ''}. Press 2 for People, then d to discover collectors by topic.`)
    }
  }

  async restore(from: { phrase: string } | { file: string; passphrase: string }): Promise<void> {
    if ('phrase' in from) {
      await restoreIdentity(this.opts.home, { phrase: from.phrase })
    } else {
      let text: string
      try {
        text = await readFile(userPath(from.file, this.opts.cwd), 'utf-8')
      } catch {
        throw userError(`cannot read ${from.file}; check the path`)
      }
      await restoreIdentity(this.opts.home, { backup: text, passphrase: from.passphrase })
    }
    await this.open()
    this.info('Restored. Posting stays off until your feed is found on a peer (or say on Identity that it never posted).')
  }

  // -------------------------------------------------------------------------------------------
  // Timeline

  async loadTimeline(): Promise<void> {
    const node = this.need()
    this.set((s) => ({ ...s, timeline: { ...s.timeline, loading: true } }))
    const page = await node.timeline({ limit: PAGE })
    this.set((s) => ({ ...s, timeline: { posts: page.posts, next: page.next, loading: false, selected: clamp(s.timeline.selected, page.posts.length), loaded: true } }))
    this.lookAvailability(page.posts.slice(0, 20))
  }

  /** New and changed posts at the top; the selection stays on the same post. */
  async refreshTimeline(): Promise<void> {
    const node = this.need()
    const page = await node.timeline({ limit: PAGE })
    this.lookAvailability(page.posts.slice(0, 20))
    this.set((s) => {
      const old = s.timeline.posts
      if (old.length <= page.posts.length) {
        const ref = old[s.timeline.selected]?.ref
        const i = ref ? page.posts.findIndex((p) => p.ref === ref) : 0
        return { ...s, timeline: { ...s.timeline, posts: page.posts, next: page.next, selected: Math.max(0, i), loaded: true } }
      }
      // More is loaded than one page: merge the fresh page over the older pages.
      const fresh = new Set(page.posts.map((p) => p.ref))
      const oldest = page.posts[page.posts.length - 1]
      const rest = old.filter((p) => !fresh.has(p.ref) && (!oldest || p.createdAt <= oldest.createdAt))
      const posts = [...page.posts, ...rest]
      const ref = old[s.timeline.selected]?.ref
      const i = ref ? posts.findIndex((p) => p.ref === ref) : 0
      return { ...s, timeline: { ...s.timeline, posts, selected: Math.max(0, i), loaded: true } }
    })
  }

  async loadMore(): Promise<void> {
    const t = this.state.timeline
    if (t.loading || !t.next) return
    const node = this.need()
    this.set((s) => ({ ...s, timeline: { ...s.timeline, loading: true } }))
    const page = await node.timeline({ limit: PAGE, before: t.next })
    this.set((s) => {
      const known = new Set(s.timeline.posts.map((p) => p.ref))
      return { ...s, timeline: { ...s.timeline, posts: [...s.timeline.posts, ...page.posts.filter((p) => !known.has(p.ref))], next: page.next, loading: false } }
    })
  }

  /** How many peers have each attachment: looked up once per infohash, in the background. */
  lookAvailability(posts: Array<PostView | null>): void {
    const node = this.node
    if (!node) return
    const wanted = posts.flatMap((p) => p?.attachments ?? []).filter((a) => !(a.infohash in this.state.availability))
    if (wanted.length === 0) return
    this.set((s) => ({ ...s, availability: { ...s.availability, ...Object.fromEntries(wanted.map((a) => [a.infohash, null])) } }))
    for (const a of wanted) {
      node.files.availability(a.infohash).then(
        (n) => this.set((s) => ({ ...s, availability: { ...s.availability, [a.infohash]: n } })),
        () => this.set((s) => ({ ...s, availability: { ...s.availability, [a.infohash]: 0 } }))
      )
    }
  }

  // -------------------------------------------------------------------------------------------
  // Threads and posts

  openThread(ref: string, opts: { reply?: boolean } = {}): void {
    this.set((s) => ({
      ...s,
      stack: [...s.stack, { kind: 'thread', ref, thread: null, selected: 0, loading: true }],
      prompt: opts.reply ? { kind: 'reply', title: 'Reply to the post', field: field(), target: ref, multiline: true } : s.prompt
    }))
    this.run(() => this.loadThread(ref))
  }

  async loadThread(ref: string): Promise<void> {
    const thread = await this.need().thread(ref)
    this.set((s) =>
      updateTop(s, 'thread', (t) => (t.ref === ref ? { ...t, thread, loading: false, selected: clamp(t.selected, threadRows(thread).length) } : t))
    )
    this.lookAvailability(threadRows(thread).map((r) => r.post))
  }

  async comment(ref: string, text: string): Promise<void> {
    if (text.trim() === '') throw userError('an empty comment was not sent; write something first')
    const posted = await this.need().comment(ref, text)
    const t = top(this.state)
    if (t?.kind === 'thread') await this.loadThread(t.ref)
    this.selectInThread(posted.ref)
    this.info('Commented. The author is told when they are online.')
  }

  private selectInThread(ref: string): void {
    this.set((s) => updateTop(s, 'thread', (t) => {
      const i = threadRows(t.thread).findIndex((r) => r.post?.ref === ref)
      return i >= 0 ? { ...t, selected: i } : t
    }))
  }

  async edit(ref: string, text: string): Promise<void> {
    if (text.trim() === '') throw userError('a post cannot be empty; delete it instead (d)')
    await this.need().edit(ref, text)
    await this.afterChange()
    this.info('Edited.')
  }

  async deletePost(ref: string): Promise<void> {
    await this.need().delete(ref)
    await this.afterChange()
    this.info('Deleted. Readers see it as deleted; the signed history keeps it.')
  }

  private async afterChange(): Promise<void> {
    const t = top(this.state)
    if (t?.kind === 'thread') await this.loadThread(t.ref)
    await this.refreshTimeline()
  }

  async fetch(post: PostView): Promise<void> {
    if (post.attachments.length === 0) throw userError('this post has no attachments to fetch')
    const node = this.need()
    this.info(`Fetching ${post.attachments.map((a) => a.name).join(', ')} into ${this.opts.downloads}… (4 Transfers shows progress)`)
    const done = await node.files.fetchAll(post.ref, { out: this.opts.downloads, onStart: () => this.tick() })
    this.tick()
    this.info(`Fetched ${done.map((d) => `${d.name} → ${d.path ?? this.opts.downloads}`).join(', ')}`)
  }

  // -------------------------------------------------------------------------------------------
  // Compose

  openCompose(): void {
    this.set((s) => (top(s)?.kind === 'compose' ? s : { ...s, stack: [...s.stack, this.draft ?? newCompose()], prompt: null }))
  }

  /** A closed compose keeps its draft until posted. */
  private draft: ReturnType<typeof newCompose> | null = null

  closeCompose(): void {
    const t = top(this.state)
    if (t?.kind === 'compose') this.draft = t.text.value || t.files.length ? t : null
    this.pop()
    if (this.draft) this.info('Draft kept: c opens it again.')
  }

  async attach(input: string): Promise<void> {
    const file = userPath(input, this.opts.cwd)
    const name = path.basename(file)
    const set = (fn: (f: ReturnType<typeof newCompose>['files'][number]) => ReturnType<typeof newCompose>['files'][number]): void =>
      this.set((s) => updateTop(s, 'compose', (c) => ({ ...c, files: c.files.map((f) => (f.path === file ? fn(f) : f)) })))
    if (top(this.state)?.kind === 'compose') {
      const c = top(this.state) as ReturnType<typeof newCompose>
      if (c.files.some((f) => f.path === file)) throw userError(`${name} is attached already`)
    }
    this.set((s) => updateTop(s, 'compose', (c) => ({ ...c, attach: field(), candidates: [], files: [...c.files, { path: file, name, size: 0, done: 0, infohash: null, error: null }] })))
    try {
      const shared = await this.need().files.share(file, { onProgress: (done, total) => set((f) => ({ ...f, done, size: total })) })
      set((f) => ({ ...f, name: shared.name, size: shared.size, done: shared.size, infohash: shared.infohash }))
    } catch (err) {
      const text = isChrysalisError(err) ? err.message : err instanceof Error ? err.message : String(err)
      set((f) => ({ ...f, error: text }))
    }
  }

  async submitPost(): Promise<void> {
    const c = top(this.state)
    if (c?.kind !== 'compose' || c.busy) return
    if (c.text.value.trim() === '') throw userError('write something first: an empty post is not published')
    if (c.files.some((f) => f.infohash === null && f.error === null)) throw userError('still hashing an attachment; post once it is ready')
    const shared = c.files.filter((f) => f.infohash !== null).map((f) => ({ infohash: f.infohash!, name: f.name, size: f.size }))
    const topics = c.topics.value.split(/[\s,]+/).map((t) => t.replace(/^#/, '')).filter(Boolean)
    this.set((s) => updateTop(s, 'compose', (x) => ({ ...x, busy: true })))
    try {
      await this.need().post({ text: c.text.value, topics, shared })
    } catch (err) {
      this.set((s) => updateTop(s, 'compose', (x) => ({ ...x, busy: false })))
      throw err
    }
    this.draft = null
    this.pop()
    this.set((s) => ({ ...s, tab: 'timeline', timeline: { ...s.timeline, selected: 0 } }))
    await this.refreshTimeline()
    this.info(shared.length ? `Posted, with ${shared.length} file(s) seeded while Chrysalis runs.` : 'Posted.')
  }

  // -------------------------------------------------------------------------------------------
  // People

  async loadFollowing(): Promise<void> {
    const following = await this.need().followingList()
    this.set((s) => ({ ...s, people: { ...s.people, following, selected: clamp(s.people.selected, following.length) } }))
  }

  async discover(topic: string): Promise<void> {
    const node = this.need()
    this.stopWatch?.()
    this.stopWatch = null
    this.set((s) => ({ ...s, people: { ...s.people, section: 'discover', topic: topic.trim().replace(/^#/, ''), found: [], foundSelected: 0 } }))
    this.stopWatch = await node.watchTopic(topic, (person) => {
      this.set((s) => (s.people.found.some((p) => p.id === person.id) ? s : { ...s, people: { ...s.people, found: [...s.people.found, person] } }))
    })
  }

  async setFollow(id: string, follow: boolean): Promise<void> {
    const node = this.need()
    const person = follow ? await node.follow(id) : await node.unfollow(id)
    this.set((s) => ({
      ...s,
      people: { ...s.people, found: s.people.found.map((p) => (p.id === id ? { ...p, following: follow } : p)) }
    }))
    this.set((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, following: follow } : p)))
    await this.loadFollowing()
    // A feed not synced yet has no name here: the name they said hello with will do.
    const name = person.name ?? this.state.people.found.find((p) => p.id === id)?.name ?? person.fingerprint
    this.info(`${follow ? 'Following' : 'Stopped following'} ${name}.${follow ? ' Their posts arrive on the Timeline.' : ''}`)
    await this.refreshTimeline()
  }

  async setBlock(id: string, block: boolean): Promise<void> {
    const node = this.need()
    const person = block ? await node.block(id) : await node.unblock(id)
    this.set((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, blocked: block, following: block ? false : p.following } : p)))
    await this.loadFollowing()
    await this.refreshTimeline()
    this.info(`${block ? 'Blocked' : 'Unblocked'} ${person.name ?? person.fingerprint}.`)
  }

  openProfile(id: string): void {
    this.set((s) => ({
      ...s,
      stack: [...s.stack, { kind: 'profile', id, profile: null, posts: [], follows: [], following: false, blocked: false, selected: 0, loading: true }]
    }))
    this.run(() => this.loadProfile(id))
  }

  async loadProfile(id: string): Promise<void> {
    const node = this.need()
    const [profile, following, blocked] = await Promise.all([node.profile(id), node.followingList(), node.blockedList()])
    this.set((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, profile, following: following.some((f) => f.id === id), blocked: blocked.some((b) => b.id === id) } : p)))
    const [posts, follows] = await Promise.all([node.feed(id, { limit: 50 }), node.followsOf(id)])
    this.set((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, posts, follows, loading: false } : p)))
  }

  // -------------------------------------------------------------------------------------------
  // Notifications

  async loadNotifications(fresh: boolean): Promise<void> {
    const items = await this.need().notifications({ limit: 200 })
    this.set((s) => {
      const added = Math.max(0, items.length - s.notifications.items.length)
      const unread = s.tab === 'notifications' && s.stack.length === 0 ? 0 : s.notifications.unread + (fresh ? added : 0)
      return { ...s, notifications: { items, selected: clamp(s.notifications.selected, items.length), unread } }
    })
    if (fresh && items[0]?.post) {
      const p = items[0].post
      this.info(`${items[0].kind === 'comment' ? 'New comment' : 'Mention'} from ${p.authorName ?? p.fingerprint}: ${oneLine(p.text, 60)} (3 shows it)`)
    }
    const t = top(this.state)
    if (fresh && t?.kind === 'thread') await this.loadThread(t.ref)
  }

  // -------------------------------------------------------------------------------------------
  // Transfers

  /**
   * Fetch what the user pasted on the Transfers screen: a magnet (v1, v2, hybrid), a 40- or 64-hex
   * infohash, a post ref, or a .torrent file's path. Only the form is checked here (the node says
   * what is wrong with a magnet or a file); bad input starts nothing.
   */
  async addFetch(input: string): Promise<void> {
    const target = await fetchTargetOf(input, this.opts.cwd)
    const node = this.need()
    this.info(`Fetching ${truncate(input.trim(), 60)} into ${this.opts.downloads}…`)
    const magnet = /^magnet:/i.test(target) ? target : null
    const done = await node.files.fetchAll(target, {
      out: this.opts.downloads,
      onStart: (infohash) => {
        if (magnet) this.typedMagnets.set(infohash, magnet)
        this.tick()
      }
    })
    this.tick()
    this.info(`Fetched ${done.map((d) => `${d.name} → ${d.path ?? this.opts.downloads}`).join(', ')}`)
  }

  /** Magnets the user pasted, by infohash: shown in the details until the node knows the metadata. */
  private readonly typedMagnets = new Map<string, string>()

  /** The details of a transfer: its magnet, infohashes and peers (refreshed with the list). */
  openTransfer(infohash: string): void {
    this.set((s) => ({ ...s, stack: [...s.stack, { kind: 'transfer', infohash, magnet: this.typedMagnets.get(infohash) ?? null, peers: [], selected: 0 }], prompt: null }))
    this.refreshPeers()
    const node = this.node
    if (!node) return
    node.files.magnet(infohash).then(
      (magnet) => this.set((s) => updateTop(s, 'transfer', (x) => (x.infohash === infohash ? { ...x, magnet } : x))),
      () => {} // no metadata yet: the pasted magnet, if any, stays
    )
  }

  async togglePause(infohash: string): Promise<void> {
    const item = this.state.transfers.items.find((t) => t.infohash === infohash)
    if (!item) return
    const node = this.need()
    const view = item.status === 'paused' ? await node.files.resume(infohash) : await node.files.pause(infohash)
    this.tick()
    this.info(`${view.name}: ${view.status}`)
  }

  async cancelTransfer(infohash: string): Promise<void> {
    const item = this.state.transfers.items.find((t) => t.infohash === infohash)
    await this.need().files.remove(infohash)
    this.set((s) => (top(s)?.kind === 'transfer' ? { ...s, stack: s.stack.filter((x) => x.kind !== 'transfer' || x.infohash !== infohash) } : s))
    this.tick()
    this.info(`Stopped ${item?.name ?? infohash.slice(0, 12)}; files already complete stay where they are.`)
  }

  async copyMagnet(infohash: string): Promise<void> {
    const magnet = await this.need().files.magnet(infohash)
    this.opts.copy?.(magnet)
    this.info(`Copied: ${magnet}`)
  }

  async exportTorrent(infohash: string, file: string): Promise<void> {
    const written = await this.need().files.exportTorrent(infohash, userPath(file, this.opts.cwd))
    this.info(`Wrote ${written}`)
  }

  defaultTorrentPath(name: string): string {
    return `${name.replace(/[/\\]/g, '_')}.torrent`
  }

  // -------------------------------------------------------------------------------------------
  // Identity

  async saveProfile(name: string, bio: string): Promise<void> {
    checkProfile(name, bio)
    const me = await this.need().setProfile({ name, bio })
    this.set((s) => ({ ...s, me, identity: { ...s.identity, edit: null } }))
    this.info('Profile saved; followers see it when they next sync.')
  }

  async backup(file: string, passphrase: string, again: string): Promise<void> {
    if (passphrase !== again) {
      this.set((s) => (s.identity.backup ? { ...s, identity: { ...s.identity, backup: { ...s.identity.backup, passphrase: field(), again: field(), focus: 1 } } } : s))
      throw userError('the two passphrases differ; type the same one twice')
    }
    const written = await exportBackup(this.opts.home, userPath(file, this.opts.cwd), passphrase)
    this.set((s) => ({ ...s, identity: { ...s.identity, backup: null } }))
    this.info(`Wrote an encrypted backup to ${written.file}. Keep the passphrase apart from it.`)
  }

  /** After the y/n confirm: the recovery phrase, derived again from the identity's seed. */
  async showPhrase(): Promise<void> {
    const { phrase } = await recoveryPhrase(this.opts.home)
    this.set((s) => ({ ...s, identity: { ...s.identity, phrase } }))
  }

  hidePhrase(): void {
    this.set((s) => ({ ...s, identity: { ...s.identity, phrase: null } }))
  }

  async neverPosted(): Promise<void> {
    await this.need().confirmNeverPosted()
    this.set((s) => ({ ...s, status: { ...s.status, recovering: false } }))
    this.info('Noted: this identity starts a new feed here. You can post now.')
  }

  // -------------------------------------------------------------------------------------------
  // Navigation

  setTab(tab: Tab): void {
    this.set((s) => ({
      ...s,
      tab,
      stack: [],
      prompt: null,
      notifications: tab === 'notifications' ? { ...s.notifications, unread: 0 } : s.notifications
    }))
    if (tab === 'people') this.run(() => this.loadFollowing())
    if (tab === 'transfers') this.tick()
  }

  pop(): void {
    this.set((s) => ({ ...s, stack: s.stack.slice(0, -1), prompt: null }))
  }

  private need(): TuiNode {
    if (!this.node) throw userError('the node is not open yet; wait a moment')
    return this.node
  }
}

function btOf(bt: TuiBtStatus | undefined): TuiBtStatus | null {
  if (!bt || typeof bt !== 'object') return null
  return { port: typeof bt.port === 'number' ? bt.port : null, encryptedOnly: bt.encryptedOnly === true }
}

/**
 * What to hand the node's fetchAll for a pasted line: magnets, infohashes and post refs as they
 * are, a file path made absolute. Anything else is refused here, before anything starts.
 */
export async function fetchTargetOf(input: string, cwd: string): Promise<string> {
  const v = input.trim()
  if (v === '') throw userError('paste a magnet link, an infohash or a .torrent path first')
  if (/^magnet:\?/i.test(v)) return v
  if (/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(v)) return v.toLowerCase()
  if (/^[^\s/]+\/[0-9a-f]{1,12}$/i.test(v)) return v // a post ref: AUTHOR-ID/POST-ID
  const file = userPath(v, cwd)
  const st = await stat(file).catch(() => null)
  if (st?.isFile()) return file
  const shown = truncate(v, 40)
  if (st || /\.torrent$/i.test(v) || v.includes('/')) throw userError(`cannot read ${shown} as a .torrent file; check the path (Tab completes)`)
  throw userError(`"${shown}" is not a magnet link, a 40- or 64-hex infohash or a .torrent file; paste one of those`)
}

/** A refusal the user can fix: said as it is, without "unexpected error". */
function userError(message: string): ChrysalisError {
  return new ChrysalisError('BAD_INPUT', message)
}
