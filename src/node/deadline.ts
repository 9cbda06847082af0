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

/**
 * True once the feed's core has a replicating peer (hypercore's update() does not wait for one),
 * false at the deadline. Removes its listener either way: long-running nodes call this often.
 */
export async function firstPeer(feed: Feed, deadline: number): Promise<boolean> {
  await feed.core.ready()
  if (feed.core.peers.length > 0) return true
  return new Promise<boolean>((resolve) => {
    const onPeer = (): void => finish(true)
    const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()))
    const finish = (ok: boolean): void => {
      clearTimeout(timer)
      feed.core.off('peer-add', onPeer)
      resolve(ok)
    }
    feed.core.on('peer-add', onPeer)
  })
}
