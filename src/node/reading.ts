import * as b4a from '../bytes.js'
import { encodeId, fingerprint, parseId, toHex } from '../identity/encoding.js'
import { LOCAL_ONLY, answers, type Feed, type StoredPost } from '../feeds/feed.js'
import { formatRef, parseRef } from '../feeds/layout.js'
import type { LocalIndex } from '../feeds/local-index.js'
import type { PostRef } from '../feeds/records.js'
import type { FeedSet } from './feed-set.js'
import type { Relations } from './relations.js'
import { postView, type PostView, type ProfileView, type ThreadNode, type ThreadView } from './views.js'

/**
 * What the node shows from what it holds: the timeline, one identity's feed, a post, a thread and
 * profiles, as JSON-ready views, with blocked people left out. Reads only; never the network.
 *
 *   const { posts, next } = await reading.timeline({ limit: 20 })
 */
export class Reading {
  private readonly feeds: FeedSet
  private readonly index: LocalIndex
  private readonly relations: Relations

  constructor(feeds: FeedSet, index: LocalIndex, relations: Relations) {
    this.feeds = feeds
    this.index = index
    this.relations = relations
  }

  /** The newest top-level posts of you and the people you follow, blocked people excluded. */
  async timeline(opts: { limit?: number; before?: string } = {}): Promise<{ posts: PostView[]; next: string | null }> {
    const limit = opts.limit ?? 20
    const own = this.feeds.own.authorHex
    const include = (hex: string): boolean => this.visible(hex) && (hex === own || this.relations.isFollowing(hex))
    const refs = await this.index.timeline({ limit, include, ...(opts.before !== undefined ? { before: opts.before } : {}) })
    const posts: PostView[] = []
    for (const ref of refs) {
      const stored = await this.feeds.of(ref.author).getPost(ref.id)
      if (!stored) continue
      const view = await this.view(stored)
      view.comments = await this.commentCount(ref)
      posts.push(view)
    }
    return { posts, next: refs.length === limit ? refs[refs.length - 1]!.cursor : null }
  }

  /** One identity's posts and comments, newest first, read from their feed (sparse on remote). */
  async feed(id?: string | Buffer, opts: { limit?: number; before?: string } = {}): Promise<PostView[]> {
    const author = id === undefined ? this.feeds.own.author : typeof id === 'string' ? parseId(id) : id
    const before = opts.before !== undefined ? parseRef(`${encodeId(author)}/${opts.before}`).id : undefined
    const posts = await this.feeds.of(author).posts({ limit: opts.limit ?? 20, ...(before !== undefined ? { before } : {}) })
    return Promise.all(posts.map((p) => this.view(p)))
  }

  async getPost(ref: string | PostRef): Promise<PostView | null> {
    const r = typeof ref === 'string' ? parseRef(ref) : ref
    const stored = await this.feeds.of(r.author).getPost(r.id)
    return stored ? this.view(stored) : null
  }

  /** A post's whole thread: its root, and every known comment as a tree, oldest first. */
  async thread(ref: string | PostRef): Promise<ThreadView> {
    const r = typeof ref === 'string' ? parseRef(ref) : ref
    const start = await this.feeds.of(r.author).getPost(r.id)
    const rootRef = start?.record.reply?.root ?? r
    const rootPost = start?.record.reply ? await this.feeds.of(rootRef.author).getPost(rootRef.id) : start
    const root = rootPost ? await this.view(rootPost) : null

    const nodes = new Map<string, ThreadNode>()
    const entries = await this.index.thread(rootRef)
    // The root author's backlinks, read live: complete even when we do not follow them.
    const known = new Set(entries.map((e) => formatRef(e)))
    for (const link of await this.feeds.of(rootRef.author).backlinks(rootRef.id)) {
      if (!known.has(formatRef(link.comment))) entries.push({ ...link.comment, parent: link.parent, claimed: true })
    }
    for (const entry of entries) {
      if (!this.visible(toHex(entry.author))) continue
      const stored = await this.feeds.of(entry.author).getPost(entry.id)
      if (!stored) continue
      // A backlink only says a comment is here; the comment's own record must say so too.
      if (entry.claimed && !(await this.settleClaim(rootRef, stored))) continue
      nodes.set(formatRef(entry), { ...(await this.view(stored)), children: [] })
    }
    const comments: ThreadNode[] = []
    for (const node of nodes.values()) {
      const parent = node.replyTo ? nodes.get(node.replyTo) : undefined
      if (parent) parent.children.push(node)
      else comments.push(node) // answers the root, or a comment not visible here
    }
    sortTree(comments)
    if (root) root.comments = nodes.size
    return { root, rootRef: formatRef(rootRef), comments, count: nodes.size }
  }

  /**
   * Posts (by words of their text, their topics, their files' names) and people (by name or bio)
   * among everything indexed here, best and newest first; blocked people left out.
   */
  async search(query: string, opts: { limit?: number } = {}): Promise<SearchResult> {
    const limit = opts.limit ?? 20
    const posts: PostView[] = []
    const people: SearchResult['people'] = []
    const read = (ref: PostRef): Promise<StoredPost | null> => this.feeds.of(ref.author).getPost(ref.id, LOCAL_ONLY)
    const exclude = (author: string): boolean => this.relations.isBlocked(author)
    for (const hit of await this.index.find(query, { limit: 2 * limit, exclude, read })) {
      if (hit.kind === 'person') {
        if (people.length >= limit) continue
        const key = b4a.from(hit.id, 'hex')
        const profile = await this.feeds.of(key).profile(LOCAL_ONLY)
        people.push({ id: encodeId(key), fingerprint: fingerprint(key), name: profile?.name ?? null, bio: profile?.bio ?? '', following: this.relations.isFollowing(hit.id) })
      } else if (posts.length < limit) {
        const stored = await this.feeds.ofHex(hit.author).getPost(parseInt(hit.id.slice(65), 16), LOCAL_ONLY)
        if (stored && stored.record.deletedAt === undefined) posts.push(await this.view(stored))
      }
    }
    return { query, posts, people }
  }

  async profile(feed: Feed, extra: { recovering?: boolean } = {}): Promise<ProfileView> {
    const profile = await feed.profile()
    return {
      id: encodeId(feed.author),
      fingerprint: fingerprint(feed.author),
      name: profile?.name ?? null,
      bio: profile?.bio ?? '',
      feedKey: toHex(feed.core.key),
      ...extra
    }
  }

  async view(post: StoredPost): Promise<PostView> {
    const name = (await this.feeds.of(post.author).profile())?.name ?? null
    return postView(post, name)
  }

  /**
   * The comments counted under `root` (protocol.md §9): those the index holds from their own
   * record, and those a backlink claimed once the comment, held here, was checked to answer that
   * thread (the result is kept in the index, so each claim is read once). A claim whose comment
   * is not fetched yet is not counted.
   */
  private async commentCount(root: PostRef): Promise<number> {
    let n = 0
    for (const entry of await this.index.thread(root)) {
      if (!this.visible(toHex(entry.author))) continue
      if (entry.claimed) {
        const stored = await this.feeds.of(entry.author).getPost(entry.id, LOCAL_ONLY)
        if (!stored || !(await this.settleClaim(root, stored))) continue
      }
      n++
    }
    return n
  }

  /** A comment a backlink claimed for `root` counts only if it answers that thread; the index keeps the verdict. */
  async settleClaim(root: PostRef, stored: StoredPost): Promise<boolean> {
    const ok = answers(stored, root)
    await this.index.settleThreadEntry(root, stored, ok)
    return ok
  }

  private visible(hex: string): boolean {
    return !this.relations.isBlocked(hex)
  }
}

export interface SearchResult {
  query: string
  posts: PostView[]
  people: Array<{ id: string; fingerprint: string; name: string | null; bio: string; following: boolean }>
}

function sortTree(list: ThreadNode[]): void {
  list.sort((a, b) => a.createdAt - b.createdAt || a.ref.localeCompare(b.ref))
  for (const n of list) sortTree(n.children)
}
