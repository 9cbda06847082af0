import type { Feed } from '../feeds/feed.js'

/** Resolve with the promise's value, or with null once the deadline (ms since epoch) passes. */
export async function untilDeadline<T>(p: Promise<T>, deadline: number): Promise<T | null> {
  const ms = deadline - Date.now()
  if (ms <= 0) return null
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once the feed's core has a replicating peer (hypercore's update() does not wait for one). */
export async function firstPeer(feed: Feed): Promise<void> {
  await feed.core.ready()
  if (feed.core.peers.length > 0) return
  await new Promise<void>((resolve) => feed.core.once('peer-add', () => resolve()))
}
