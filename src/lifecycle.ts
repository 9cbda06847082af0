import { EventEmitter } from 'node:events'
import { ChrysalisError } from './errors.js'

type EventMap<T> = Record<keyof T, unknown[]> | [never]

/**
 * The one lifecycle of everything that holds sockets, cores or files (the node, the network, the
 * transfers, the index), in the style of holepunch's ready-resource: `ready()` opens once and
 * `close()` closes once, however often and however concurrently they are called.
 *
 *   class Index extends Resource {
 *     protected async _open() { await this.db.ready() }
 *     protected async _close() { await this.db.close() }
 *   }
 *   await index.ready() // opens; later calls return the same promise
 *   await index.close() // waits for an open in flight, then closes; later calls return the same promise
 *
 * `close()` runs `_close()` even when opening failed or never started: `_close()` releases whatever
 * exists, so a half-open resource is cleaned up by the same code as an open one.
 */
export abstract class Resource<E extends EventMap<E> = [never]> extends EventEmitter<E> {
  /** The open in flight or done; null before the first `ready()`. */
  opening: Promise<void> | null = null
  /** The close in flight or done; null before the first `close()`. */
  closing: Promise<void> | null = null
  /** True once `_open()` finished without error (and stays true after a close). */
  opened = false
  /** True once `_close()` finished. */
  closed = false

  ready(): Promise<void> {
    if (this.closing) return Promise.reject(new ChrysalisError('CLOSED', `the ${this.constructor.name} was closed; open it again`))
    this.opening ??= this._open().then(() => {
      this.opened = true
    })
    return this.opening
  }

  close(): Promise<void> {
    this.closing ??= this.#close()
    return this.closing
  }

  async #close(): Promise<void> {
    if (this.opening) await this.opening.catch(() => {}) // the open's own caller sees its error
    try {
      await this._close()
    } finally {
      this.closed = true
    }
  }

  protected abstract _open(): Promise<void>
  protected abstract _close(): Promise<void>
}
