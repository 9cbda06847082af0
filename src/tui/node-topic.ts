import type { TopicUpdate } from '../node/node.js'
import type { Controller } from './controller.js'
import { lookAvailability } from './node-posts.js'
import { clamp, type UiState } from './store.js'

/**
 * The topic view through the node: each topic screen on the stack is watched live
 * (`node.watchTopicPosts`) while it is there, known by its place on the stack; a screen left
 * (Esc, another tab) stops its watch.
 */

/** One watch: the topic of the screen at its place, and how to stop it (null while starting). */
export interface TopicWatch {
  topic: string
  stop: (() => void) | null
}

const isTopicAt = (s: UiState, at: number, topic: string): boolean => {
  const t = s.stack[at]
  return t?.kind === 'topic' && t.topic === topic
}

/** Watch the topic of the screen just pushed at `at`: what is here at once, then each person found there. */
export async function watchTopic(c: Controller, at: number, topic: string): Promise<void> {
  const node = c.need()
  c.topicWatches.get(at)?.stop?.()
  const watch: TopicWatch = { topic, stop: null }
  c.topicWatches.set(at, watch)
  const onUpdate = (u: TopicUpdate): void => {
    c.update((s) => showUpdate(s, at, topic, u))
    lookAvailability(c, u.posts.slice(0, 20))
  }
  let stop: () => void
  try {
    stop = await node.watchTopicPosts(topic, onUpdate)
  } catch (err) {
    if (c.topicWatches.get(at) === watch) c.topicWatches.delete(at)
    // A topic the node refuses (its error says why): the screen goes again.
    c.update((s) => (s.stack.length === at + 1 && isTopicAt(s, at, topic) ? { ...s, stack: s.stack.slice(0, at) } : s))
    throw err
  }
  if (c.topicWatches.get(at) === watch) watch.stop = stop
  else stop() // the screen was left while the watch started
}

/** After each action: the watches of topic screens no longer on the stack stop. */
export function stopLeftWatches(c: Controller, s: UiState): void {
  for (const [at, w] of c.topicWatches) {
    if (isTopicAt(s, at, w.topic)) continue
    w.stop?.()
    c.topicWatches.delete(at)
  }
}

/** A report of the node on the screen at `at`: the posts, newest first, the selection kept on its post. */
function showUpdate(s: UiState, at: number, topic: string, u: TopicUpdate): UiState {
  const t = s.stack[at]
  if (t?.kind !== 'topic' || t.topic !== topic) return s
  const ref = t.posts[t.selected]?.ref
  const i = ref ? u.posts.findIndex((p) => p.ref === ref) : -1
  const next = { ...t, name: u.topic, posts: u.posts, people: u.people.length, online: u.online, reading: u.reading, loading: false, selected: i >= 0 ? i : clamp(t.selected, u.posts.length) }
  return { ...s, stack: s.stack.map((x, j) => (j === at ? next : x)) }
}
