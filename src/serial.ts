/**
 * One call at a time per key: a call waits for the one before it with the same key (however that
 * one ended); other keys run at once. A key is held only while calls for it are pending.
 *
 *   const updates = new SerialByKey<UpdateResult>()
 *   await updates.run(feed.authorHex, () => index(feed))
 */
export class SerialByKey<T> {
  private readonly tails = new Map<string, Promise<T>>()

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const prev: Promise<unknown> = this.tails.get(key) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    this.tails.set(key, next)
    const clear = (): void => {
      if (this.tails.get(key) === next) this.tails.delete(key)
    }
    next.then(clear, clear)
    return next
  }
}
