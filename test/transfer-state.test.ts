import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Transfers } from '../src/transfer/transfers.js'
import { tmpDir } from './helpers.js'

// Saved torrent state is read back checked (protocol.md §13.3 "Saved state"): a damaged folder
// is listed as a stopped torrent that says what is wrong, never skipped silently.

test('damaged torrent folders are reported, each with what is wrong; a sound one loads', async (t) => {
  const dir = await tmpDir(t)
  const put = async (key: string, state: unknown): Promise<void> => {
    await fs.mkdir(path.join(dir, key), { recursive: true })
    await fs.writeFile(path.join(dir, key, 'state.json'), typeof state === 'string' ? state : JSON.stringify(state))
  }
  const good = 'a'.repeat(64)
  const sound = { version: 2, infohash: good, role: 'fetched', status: 'paused', out: '/tmp/x', select: [], files: [], addedAt: 1, reason: null }
  await put(good, sound)
  await put('b'.repeat(64), '{ not json')
  await put('c'.repeat(40), { ...sound, infohash: 'c'.repeat(40), role: 'stolen' })
  await put('d'.repeat(64), { ...sound, infohash: 'e'.repeat(64) })
  await put('f'.repeat(64), { ...sound, infohash: 'f'.repeat(64), files: [{ path: 'relative/path', skip: false, done: true, mtimeMs: 1 }] })
  await fs.mkdir(path.join(dir, '0'.repeat(64)))

  const transfers = await Transfers.open(dir)
  t.teardown(() => transfers.close())
  const byKey = new Map(transfers.list().map((v) => [v.infohash, v]))
  t.is(byKey.get(good)?.status, 'paused', 'the sound torrent loads as it was')
  t.is(byKey.get(good)?.reason, null)
  for (const [key, what] of [['b'.repeat(64), 'not JSON'], ['c'.repeat(40), 'role'], ['d'.repeat(64), 'folder name'], ['f'.repeat(64), 'files'], ['0'.repeat(64), 'no state.json']]) {
    const v = byKey.get(key!)
    t.is(v?.status, 'stopped', `${key!.slice(0, 4)}… is listed, stopped`)
    t.ok(v?.reason?.includes('damaged') && v.reason.includes(what!) && !v.reason.includes('\n'), `and says why in one line: ${v?.reason}`)
  }
  // A damaged torrent can be cancelled, which removes its folder.
  await transfers.remove(Buffer.from('b'.repeat(64), 'hex'))
  t.absent(await fs.stat(path.join(dir, 'b'.repeat(64))).catch(() => null), 'cancelled: its folder is gone')
})
