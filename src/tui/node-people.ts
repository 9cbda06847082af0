import type { Controller } from './controller.js'
import { refreshTimeline } from './node-posts.js'
import { clamp, updateTop } from './store.js'
import { oneLine } from './text.js'
import type { NotificationView } from '../node/views.js'

/** What People, profiles and Notifications do through the node. */

/** Following and Followers (a test double without `followers` has none). */
export async function loadFollowing(c: Controller): Promise<void> {
  const node = c.need()
  const [following, followers] = await Promise.all([node.followingList(), node.followers ? node.followers({ limit: 500 }) : []])
  c.update((s) => ({
    ...s,
    people: { ...s.people, following, selected: clamp(s.people.selected, following.length), followers, followerSelected: clamp(s.people.followerSelected, followers.length) }
  }))
}

/** Watch a topic: people appear on Discover as they are found. */
export async function discover(c: Controller, topic: string): Promise<void> {
  const node = c.need()
  c.stopWatch?.()
  c.stopWatch = null
  c.update((s) => ({ ...s, people: { ...s.people, section: 'discover', topic: topic.trim().replace(/^#/, ''), found: [], foundSelected: 0 } }))
  c.stopWatch = await node.watchTopic(topic, (person) => {
    c.update((s) => (s.people.found.some((p) => p.id === person.id) ? s : { ...s, people: { ...s.people, found: [...s.people.found, person] } }))
  })
}

export async function setFollow(c: Controller, id: string, follow: boolean): Promise<void> {
  const node = c.need()
  const person = follow ? await node.follow(id) : await node.unfollow(id)
  c.update((s) => ({ ...s, people: { ...s.people, found: s.people.found.map((p) => (p.id === id ? { ...p, following: follow } : p)) } }))
  // "followed you" rows say whether you follow them back.
  const back = (n: NotificationView): NotificationView => (n.kind === 'follow' && n.person.id === id ? { ...n, person: { ...n.person, following: follow } } : n)
  c.update((s) => ({ ...s, notifications: { ...s.notifications, items: s.notifications.items.map(back) } }))
  c.update((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, following: follow } : p)))
  await loadFollowing(c)
  // A feed not synced yet has no name here: the name they said hello with will do.
  const name = person.name ?? c.state.people.found.find((p) => p.id === id)?.name ?? person.fingerprint
  c.info(`${follow ? 'Following' : 'Stopped following'} ${name}.${follow ? ' Their posts arrive on the Timeline.' : ''}`)
  await refreshTimeline(c)
}

export async function setBlock(c: Controller, id: string, block: boolean): Promise<void> {
  const node = c.need()
  const person = block ? await node.block(id) : await node.unblock(id)
  c.update((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, blocked: block, following: block ? false : p.following } : p)))
  await loadFollowing(c)
  await refreshTimeline(c)
  c.info(`${block ? 'Blocked' : 'Unblocked'} ${person.name ?? person.fingerprint}.`)
}

/**
 * A profile: what this node holds at once, then (look before you follow) their name, bio, newest
 * posts and follows read from whoever has their feed, without following them.
 */
export async function loadProfile(c: Controller, id: string): Promise<void> {
  const node = c.need()
  const [profile, following, blocked] = await Promise.all([node.profile(id), node.followingList(), node.blockedList()])
  c.update((s) =>
    updateTop(s, 'profile', (p) =>
      p.id === id ? { ...p, profile: profile.name === null && p.profile ? p.profile : profile, following: following.some((f) => f.id === id), blocked: blocked.some((b) => b.id === id) } : p
    )
  )
  if (node.look) {
    const seen = await node.look(id, { limit: 50 })
    c.update((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, profile: seen.profile.name === null && p.profile ? p.profile : seen.profile, posts: seen.posts, follows: seen.follows, loading: false } : p)))
    return
  }
  const [posts, follows] = await Promise.all([node.feed(id, { limit: 50 }), node.followsOf(id)])
  c.update((s) => updateTop(s, 'profile', (p) => (p.id === id ? { ...p, posts, follows, loading: false } : p)))
}

/** The notifications; `fresh` when one just arrived: counted as unread and said in the message line. */
export async function loadNotifications(c: Controller, fresh: boolean): Promise<void> {
  const items = await c.need().notifications({ limit: 200 })
  c.update((s) => {
    const added = Math.max(0, items.length - s.notifications.items.length)
    const unread = s.tab === 'notifications' && s.stack.length === 0 ? 0 : s.notifications.unread + (fresh ? added : 0)
    return { ...s, notifications: { items, selected: clamp(s.notifications.selected, items.length), unread } }
  })
  const newest = items[0]
  if (fresh && newest?.kind === 'follow') {
    const back = newest.person.following ? 'you follow them too' : 'f there follows back'
    c.info(`${newest.person.name ?? newest.person.fingerprint} followed you (3 shows it; ${back}).`)
    if (c.state.tab === 'people') await loadFollowing(c)
  } else if (fresh && newest && newest.kind !== 'follow' && newest.post) {
    const p = newest.post
    c.info(`${newest.kind === 'comment' ? 'New comment' : 'Mention'} from ${p.authorName ?? p.fingerprint}: ${oneLine(p.text, 60)} (3 shows it)`)
  }
  // A comment on our post, by someone we may not follow: the open thread shows it too.
  if (fresh) c.reloadSoon()
}
