import type { PostView } from '../node/views.js'
import type { Controller } from './controller.js'
import { lookAvailability } from './node-posts.js'
import { clamp, type ProfileState, type UiState } from './store.js'

/**
 * Your own profile through the node: your name and bio, whom you follow, and every post and
 * comment of your feed, newest first, read a page at a time as the list is scrolled
 * (`node.feed(undefined, { limit, before })`), never the whole feed at once.
 */

/** Posts read from your feed at a time. */
export const OWN_PAGE = 50

/** The oldest post's id to read on from, or null when the page was the last one. */
const nextOf = (page: PostView[]): string | null => (page.length === OWN_PAGE ? page[page.length - 1]!.id : null)

const isOwn = (s: UiState, p: { kind: string; id?: string }): p is ProfileState => p.kind === 'profile' && p.id === s.me?.id

/** Your profile wherever it is on the stack (a thread opened from it may be on top). */
export function ownProfile(s: UiState): ProfileState | null {
  return s.stack.findLast((p): p is ProfileState => isOwn(s, p)) ?? null
}

function updateOwn(s: UiState, fn: (p: ProfileState) => ProfileState): UiState {
  if (!ownProfile(s)) return s
  return { ...s, stack: s.stack.map((p) => (isOwn(s, p) ? fn(p) : p)) }
}

/**
 * Load your profile, or load it again (u, back from a thread, after a change): the newest page
 * is read and put over what is loaded, older pages already read are kept, and the selection
 * stays on the same post.
 */
export async function loadOwnProfile(c: Controller): Promise<void> {
  const node = c.need()
  const [me, following, fresh] = await Promise.all([node.whoami(), node.followingList(), node.feed(undefined, { limit: OWN_PAGE })])
  // Followers: once the node can count them (node.followers(), issue 13's people part), the
  // count goes in `followers` here and the screen shows it beside "Following".
  c.update((s) =>
    updateOwn(s, (p) => {
      const ref = p.posts[p.selected]?.ref
      let posts = fresh
      let next = nextOf(fresh)
      if (p.posts.length > fresh.length) {
        // More is loaded than one page: the fresh page, then the older pages already read.
        const known = new Set(fresh.map((x) => x.ref))
        const oldest = fresh[fresh.length - 1]
        posts = [...fresh, ...p.posts.filter((x) => !known.has(x.ref) && (!oldest || x.id < oldest.id))]
        next = p.next
      }
      const i = ref ? posts.findIndex((x) => x.ref === ref) : -1
      return { ...p, profile: me, follows: following, posts, next, loading: false, selected: i >= 0 ? i : clamp(p.selected, posts.length) }
    })
  )
  lookAvailability(c, fresh.slice(0, 20))
}

/** The next older page, once the selection nears the end of what is loaded. */
export async function loadMoreOwn(c: Controller): Promise<void> {
  const p = ownProfile(c.state)
  if (!p || p.loading || p.loadingMore || p.next === null) return
  const node = c.need()
  const before = p.next
  c.update((s) => updateOwn(s, (x) => ({ ...x, loadingMore: true })))
  let older: PostView[]
  try {
    older = await node.feed(undefined, { limit: OWN_PAGE, before })
  } finally {
    c.update((s) => updateOwn(s, (x) => ({ ...x, loadingMore: false })))
  }
  c.update((s) =>
    updateOwn(s, (x) => {
      if (x.next !== before) return x // loaded again meanwhile
      const known = new Set(x.posts.map((y) => y.ref))
      return { ...x, posts: [...x.posts, ...older.filter((y) => !known.has(y.ref))], next: nextOf(older) }
    })
  )
}

/** A post of yours was edited or deleted: your profile shows it as it is now, at once. */
export async function updateOwnPost(c: Controller, ref: string): Promise<void> {
  const p = ownProfile(c.state)
  if (!p?.posts.some((x) => x.ref === ref)) return
  const post = await c.need().getPost(ref)
  if (!post) return
  c.update((s) => updateOwn(s, (x) => ({ ...x, posts: x.posts.map((y) => (y.ref === ref ? post : y)) })))
}
