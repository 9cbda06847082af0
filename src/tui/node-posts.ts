import path from 'node:path'
import { isChrysalisError } from '../errors.js'
import type { PostView } from '../node/views.js'
import { completePath, userPath } from './complete.js'
import type { Controller } from './controller.js'
import { userError } from './errors.js'
import { field } from './field.js'
import { clamp, threadRows, top, updateTop, type ComposeState } from './store.js'

/** What the timeline, threads and compose do through the node. */

const PAGE = 200

export async function loadTimeline(c: Controller): Promise<void> {
  const node = c.need()
  c.update((s) => ({ ...s, timeline: { ...s.timeline, loading: true } }))
  const page = await node.timeline({ limit: PAGE })
  c.update((s) => ({ ...s, timeline: { posts: page.posts, next: page.next, loading: false, selected: clamp(s.timeline.selected, page.posts.length), loaded: true } }))
  c.saveView()
  lookAvailability(c, page.posts.slice(0, 20))
}

/** New and changed posts at the top; the selection stays on the same post. */
export async function refreshTimeline(c: Controller): Promise<void> {
  const page = await c.need().timeline({ limit: PAGE })
  lookAvailability(c, page.posts.slice(0, 20))
  c.update((s) => {
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

export async function loadMore(c: Controller): Promise<void> {
  const t = c.state.timeline
  if (t.loading || !t.next) return
  const node = c.need()
  c.update((s) => ({ ...s, timeline: { ...s.timeline, loading: true } }))
  const page = await node.timeline({ limit: PAGE, before: t.next })
  c.update((s) => {
    const known = new Set(s.timeline.posts.map((p) => p.ref))
    return { ...s, timeline: { ...s.timeline, posts: [...s.timeline.posts, ...page.posts.filter((p) => !known.has(p.ref))], next: page.next, loading: false } }
  })
}

/** How many peers have each attachment: looked up once per infohash, in the background. */
export function lookAvailability(c: Controller, posts: Array<PostView | null>): void {
  const node = c.node
  // Offline, every answer would be 0 peers, and kept: asked again once online (Controller).
  if (!node || c.state.status.net !== 'online') return
  const wanted = posts.flatMap((p) => p?.attachments ?? []).filter((a) => !(a.infohash in c.state.availability))
  if (wanted.length === 0) return
  c.update((s) => ({ ...s, availability: { ...s.availability, ...Object.fromEntries(wanted.map((a) => [a.infohash, null])) } }))
  for (const a of wanted) {
    node.files.availability(a.infohash).then(
      (n) => c.update((s) => ({ ...s, availability: { ...s.availability, [a.infohash]: n } })),
      () => c.update((s) => ({ ...s, availability: { ...s.availability, [a.infohash]: 0 } }))
    )
  }
}

/** Search results for the screen the reducer pushed (node.search: posts and people indexed here). */
export async function search(c: Controller, query: string): Promise<void> {
  const node = c.need()
  if (!node.search) return c.update((s) => updateTop(s, 'search', (x) => ({ ...x, loading: false })))
  const found = await node.search(query, { limit: 50 })
  c.update((s) => updateTop(s, 'search', (x) => (x.query === query ? { ...x, people: found.people, posts: found.posts, selected: 0, loading: false } : x)))
}

/**
 * A thread's posts; once loaded, the post it was opened for (a notification's comment) is
 * selected. Loaded again (a comment arrived), the selection stays on the post it was on.
 */
export async function loadThread(c: Controller, ref: string): Promise<void> {
  const thread = await c.need().thread(ref)
  c.update((s) =>
    updateTop(s, 'thread', (t) => {
      if (t.ref !== ref) return t
      const rows = threadRows(thread)
      const indexOf = (want: string | null | undefined): number => (want ? rows.findIndex((r) => r.post?.ref === want) : -1)
      const wanted = indexOf(t.want)
      const kept = indexOf(threadRows(t.thread)[t.selected]?.post?.ref)
      return { ...t, thread, loading: false, want: null, selected: wanted >= 0 ? wanted : kept >= 0 ? kept : clamp(t.selected, rows.length) }
    })
  )
  lookAvailability(c, threadRows(thread).map((r) => r.post))
}

export async function comment(c: Controller, ref: string, text: string): Promise<void> {
  if (text.trim() === '') throw userError('an empty comment was not sent; write something first')
  const posted = await c.need().comment(ref, text)
  const t = top(c.state)
  if (t?.kind === 'thread') await loadThread(c, t.ref)
  c.update((s) =>
    updateTop(s, 'thread', (x) => {
      const i = threadRows(x.thread).findIndex((r) => r.post?.ref === posted.ref)
      return i >= 0 ? { ...x, selected: i } : x
    })
  )
  c.info('Commented. The author is told when they are online.')
}

export async function editPost(c: Controller, ref: string, text: string): Promise<void> {
  if (text.trim() === '') throw userError('a post cannot be empty; delete it instead (d)')
  await c.need().edit(ref, text)
  await afterChange(c)
  c.info('Edited.')
}

export async function deletePost(c: Controller, ref: string): Promise<void> {
  await c.need().delete(ref)
  await afterChange(c)
  c.info('Deleted. Readers see it as deleted; the signed history keeps it.')
}

async function afterChange(c: Controller): Promise<void> {
  const t = top(c.state)
  if (t?.kind === 'thread') await loadThread(c, t.ref)
  await refreshTimeline(c)
}

/** A post's attachments, fetched into the downloads folder. */
export async function fetchFiles(c: Controller, post: PostView): Promise<void> {
  if (post.attachments.length === 0) throw userError('this post has no attachments to fetch')
  const node = c.need()
  const out = c.opts.downloads
  c.info(`Fetching ${post.attachments.map((a) => a.name).join(', ')} into ${out}… (4 Transfers shows progress)`)
  const done = await node.files.fetchAll(post.ref, { out, onStart: () => c.tick() })
  c.tick()
  c.info(`Fetched ${done.map((d) => `${d.name} → ${d.path ?? out}`).join(', ')}`)
}

type Attached = ComposeState['files'][number]

/** Share a file for the post being written: it hashes with progress, then is ready to post. */
export async function attach(c: Controller, input: string): Promise<void> {
  const file = userPath(input, c.opts.cwd)
  const name = path.basename(file)
  const set = (fn: (f: Attached) => Attached): void => c.update((s) => updateTop(s, 'compose', (x) => ({ ...x, files: x.files.map((f) => (f.path === file ? fn(f) : f)) })))
  const t = top(c.state)
  if (t?.kind === 'compose' && t.files.some((f) => f.path === file)) throw userError(`${name} is attached already`)
  c.update((s) => updateTop(s, 'compose', (x) => ({ ...x, attach: field(), candidates: [], files: [...x.files, { path: file, name, size: 0, done: 0, infohash: null, error: null }] })))
  try {
    const shared = await c.need().files.share(file, { onProgress: (done, total) => set((f) => ({ ...f, done, size: total })) })
    set((f) => ({ ...f, name: shared.name, size: shared.size, done: shared.size, infohash: shared.infohash }))
  } catch (err) {
    const text = isChrysalisError(err) ? err.message : err instanceof Error ? err.message : String(err)
    set((f) => ({ ...f, error: text }))
  }
}

/** Tab in the Attach field: the path completed as a shell does. */
export async function completeAttach(c: Controller, value: string): Promise<void> {
  const r = await completePath(value, c.opts.cwd)
  c.update((s) => updateTop(s, 'compose', (x) => (x.attach.value === value ? { ...x, attach: field(r.value), candidates: r.candidates } : x)))
}

export async function submitPost(c: Controller): Promise<void> {
  const t = top(c.state)
  if (t?.kind !== 'compose' || t.busy) return
  if (t.text.value.trim() === '') throw userError('write something first: an empty post is not published')
  if (t.files.some((f) => f.infohash === null && f.error === null)) throw userError('still hashing an attachment; post once it is ready')
  const shared = t.files.filter((f) => f.infohash !== null).map((f) => ({ infohash: f.infohash!, name: f.name, size: f.size }))
  const topics = t.topics.value.split(/[\s,]+/).map((x) => x.replace(/^#/, '')).filter(Boolean)
  c.update((s) => updateTop(s, 'compose', (x) => ({ ...x, busy: true })))
  try {
    await c.need().post({ text: t.text.value, topics, shared })
  } catch (err) {
    c.update((s) => updateTop(s, 'compose', (x) => ({ ...x, busy: false })))
    throw err
  }
  c.update((s) => ({ ...s, draft: null, stack: s.stack.slice(0, -1), prompt: null, tab: 'timeline', timeline: { ...s.timeline, selected: 0 } }))
  await refreshTimeline(c)
  c.info(shared.length ? `Posted, with ${shared.length} file(s) seeded while Chrysalis runs.` : 'Posted.')
}
