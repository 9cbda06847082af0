import test from 'brittle'
import { Resource } from '../src/lifecycle.js'
import { isChrysalisError } from '../src/errors.js'

class Counted extends Resource {
  opens = 0
  closes = 0
  failOpen = false
  gate: Promise<void> = Promise.resolve()
  order: string[] = []

  protected async _open(): Promise<void> {
    this.opens++
    this.order.push('open start')
    await this.gate
    if (this.failOpen) throw new Error('disk gone')
    this.order.push('open end')
  }

  protected _close(): Promise<void> {
    this.closes++
    this.order.push('close')
    return Promise.resolve()
  }
}

test('lifecycle: ready() and close() each run once, however often called', async (t) => {
  const r = new Counted()
  t.is(r.opening, null)
  await Promise.all([r.ready(), r.ready(), r.ready()])
  await r.ready()
  t.is(r.opens, 1)
  t.ok(r.opened)
  await Promise.all([r.close(), r.close()])
  await r.close()
  t.is(r.closes, 1)
  t.ok(r.closed)
})

test('lifecycle: close() waits for an open in flight before closing', async (t) => {
  const r = new Counted()
  let release = (): void => {}
  r.gate = new Promise((resolve) => (release = resolve))
  const opening = r.ready()
  const closing = r.close()
  release()
  await opening
  await closing
  t.alike(r.order, ['open start', 'open end', 'close'])
})

test('lifecycle: a failed open is still closed, and its error stays with ready()', async (t) => {
  const r = new Counted()
  r.failOpen = true
  await t.exception(r.ready(), /disk gone/)
  t.absent(r.opened)
  await r.close()
  t.is(r.closes, 1, 'what the half-open resource holds is released')
})

test('lifecycle: ready() after close() is refused with CLOSED', async (t) => {
  const r = new Counted()
  await r.close()
  try {
    await r.ready()
    t.fail('opened after close')
  } catch (err) {
    t.ok(isChrysalisError(err, 'CLOSED'), 'code CLOSED')
  }
  t.is(r.opens, 0)
})
