// A download never takes over, follows or overwrites what already sits in the download folder
// (issue 11, "Downloads and the filesystem"): partial data lives in a private per-torrent place,
// every path below --out is checked without following symlinks, files are created exclusively.
import test from 'brittle'
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fsCb from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import type { ChrysalisNode } from '../src/node/node.js'
import { isChrysalisError } from '../src/errors.js'
import { createTorrent } from '../src/transfer/create.js'
import { filePath } from '../src/transfer/metainfo.js'
import { PieceStore, STORE_LIMITS, storeFaults } from '../src/transfer/storage.js'
import { makeNode, tmpDir, internals } from './helpers.js'

type T = Parameters<typeof makeNode>[0]

const sha = (data: Buffer): string => crypto.createHash('sha256').update(data).digest('hex')
const shaOf = async (file: string): Promise<string> => sha(await fs.readFile(file))
const gone = async (file: string): Promise<boolean> => (await fs.lstat(file).catch(() => null)) === null

/** A seeder and a fetcher, online on a loopback testnet and connected. */
async function pair(t: T): Promise<{ dir: string; seed: ChrysalisNode; fetcher: ChrysalisNode }> {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const seed = await makeNode(t, 'Seed')
  await seed.online({ dht: testnet.createNode() })
  const fetcher = await makeNode(t, 'Fetch')
  await fetcher.online({ dht: testnet.createNode() })
  internals(fetcher).network!.joinPeer(seed.identity.publicKey)
  if (!(await internals(fetcher).network!.waitForPeer(seed.identity.publicKey, Date.now() + 10_000))) throw new Error('peers did not connect')
  return { dir, seed, fetcher }
}

async function share(seed: ChrysalisNode, file: string): Promise<Buffer> {
  return Buffer.from((await seed.files.share(file)).infohash, 'hex')
}

function fetch(fetcher: ChrysalisNode, infohash: Buffer, out: string): ReturnType<ChrysalisNode['files']['fetch']> {
  return fetcher.files.fetch({ infohash, name: null, author: null }, { out })
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(t: T & { fail(m?: string): void }, p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  t.fail('expected a refusal')
  return new Error('resolved')
}

function oneLine(t: T & { ok(v: unknown, m?: string): void }, err: Error): void {
  t.ok(!err.message.includes('\n') && err.message.length < 400, `one line: ${err.message}`)
}

async function randomFile(file: string, size: number): Promise<Buffer> {
  const data = crypto.randomBytes(size)
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, data)
  return data
}

test('a paused x.bin and another torrent\'s x.bin in the same folder: neither takes over the other', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  const a = await randomFile(path.join(dir, 'a', 'x.bin'), 3 * 1024 * 1024)
  // Smaller than one piece of A: A's partial data reaches past B's end whatever A got first.
  const b = await randomFile(path.join(dir, 'b', 'x.bin'), 5000)
  const ihA = await share(seed, path.join(dir, 'a', 'x.bin'))
  const ihB = await share(seed, path.join(dir, 'b', 'x.bin'))
  const out = path.join(dir, 'out')

  // Pause A as soon as some of it is verified and written.
  const paused = new Promise<void>((resolve) => {
    const onUpdate = (v: { infohash: string; have: number; size: number }): void => {
      if (v.infohash !== ihA.toString('hex') || v.have === 0 || v.have >= v.size) return
      internals(fetcher).transfers.off('update', onUpdate)
      void fetcher.files.pause(ihA).then(() => resolve())
    }
    internals(fetcher).transfers.on('update', onUpdate)
  })
  const first = fetch(fetcher, ihA, out).catch((err: Error) => err)
  await paused
  t.ok(await first instanceof Error, 'the first download was paused before it completed')
  t.is(internals(fetcher).transfers.get(ihA)!.status, 'paused')
  t.ok(await gone(path.join(out, 'x.bin')), 'nothing at the final name yet')

  const view = await fetch(fetcher, ihB, out)
  t.is(view.status, 'seeding')
  t.is(await shaOf(path.join(out, 'x.bin')), sha(b), 'the second torrent\'s x.bin holds exactly its own bytes')

  // Resuming A finds its final name taken: one clear refusal, nothing overwritten, still resumable.
  const err = await rejection(t, fetch(fetcher, ihA, out))
  t.is(err.code, 'FILE_EXISTS')
  oneLine(t, err)
  t.is(await shaOf(path.join(out, 'x.bin')), sha(b), 'the existing x.bin is untouched')
  t.is(internals(fetcher).transfers.get(ihA)!.status, 'stopped')
  t.ok(internals(fetcher).transfers.get(ihA)!.reason?.includes('x.bin'), 'the reason names the file')

  await fs.rename(path.join(out, 'x.bin'), path.join(dir, 'x-of-b.bin'))
  const resumed = await fetch(fetcher, ihA, out)
  t.is(resumed.status, 'seeding')
  t.is(await shaOf(path.join(out, 'x.bin')), sha(a), 'after moving the other file away, A completes with its own bytes')
  t.ok(await gone(path.join(out, '.chrysalis-parts')), 'no partial data is left behind')
})

test('a user\'s own file at the old partial name (x.bin.chrysalis-part) is left alone', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  const data = await randomFile(path.join(dir, 'src', 'x.bin'), 1024 * 1024 + 5)
  const ih = await share(seed, path.join(dir, 'src', 'x.bin'))
  const out = path.join(dir, 'out')
  const mine = await randomFile(path.join(out, 'x.bin.chrysalis-part'), 3 * 1024 * 1024)
  await fetch(fetcher, ih, out)
  t.is(await shaOf(path.join(out, 'x.bin')), sha(data), 'the download is its own bytes')
  t.is(await shaOf(path.join(out, 'x.bin.chrysalis-part')), sha(mine), 'the user\'s file is untouched')
})

test('a symlink at the old partial name does not redirect the download: the file outside is untouched', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  const data = await randomFile(path.join(dir, 'src', 'x.bin'), 1024 * 1024 + 5)
  const ih = await share(seed, path.join(dir, 'src', 'x.bin'))
  const out = path.join(dir, 'out')
  const outside = await randomFile(path.join(dir, 'outside', 'precious.db'), 2 * 1024 * 1024)
  await fs.mkdir(out)
  await fs.symlink(path.join(dir, 'outside', 'precious.db'), path.join(out, 'x.bin.chrysalis-part'))
  await fetch(fetcher, ih, out)
  t.is(await shaOf(path.join(dir, 'outside', 'precious.db')), sha(outside), 'the file outside is untouched')
  t.ok((await fs.lstat(path.join(out, 'x.bin'))).isFile(), 'the final name is a regular file, not a symlink')
  t.is(await shaOf(path.join(out, 'x.bin')), sha(data))
})

test('a torrent folder name that is a symlink to an outside folder is refused; nothing is written there', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  await randomFile(path.join(dir, 'src', 'album', 'one.bin'), 300 * 1024)
  await randomFile(path.join(dir, 'src', 'album', 'sub', 'two.bin'), 200 * 1024)
  const ih = await share(seed, path.join(dir, 'src', 'album'))
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  await fs.mkdir(path.join(dir, 'outside'))
  await fs.symlink(path.join(dir, 'outside'), path.join(out, 'album'))
  const err = await rejection(t, fetch(fetcher, ih, out))
  t.is(err.code, 'UNSAFE_PATH')
  oneLine(t, err)
  t.alike(await fs.readdir(path.join(dir, 'outside')), [], 'nothing was written outside')
  t.is(internals(fetcher).transfers.get(ih)!.status, 'stopped')

  // The same with the symlink one level down (a subfolder of the torrent).
  await fs.rm(path.join(out, 'album'))
  await fs.mkdir(path.join(out, 'album'))
  await fs.symlink(path.join(dir, 'outside'), path.join(out, 'album', 'sub'))
  const err2 = await rejection(t, fetch(fetcher, ih, out))
  t.is(err2.code, 'UNSAFE_PATH')
  t.alike(await fs.readdir(path.join(dir, 'outside')), [], 'still nothing outside')

  // Once the symlink is gone, the same download completes.
  await fs.rm(path.join(out, 'album', 'sub'))
  t.is((await fetch(fetcher, ih, out)).status, 'seeding')
  t.ok((await fs.lstat(path.join(out, 'album', 'sub', 'two.bin'))).isFile())
})

test('a dangling symlink at an empty file\'s path is refused; its target is not created', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  await randomFile(path.join(dir, 'src', 'kit', 'data.bin'), 100 * 1024)
  await fs.writeFile(path.join(dir, 'src', 'kit', 'empty.txt'), '')
  const ih = await share(seed, path.join(dir, 'src', 'kit'))
  const out = path.join(dir, 'out')
  await fs.mkdir(path.join(out, 'kit'), { recursive: true })
  await fs.mkdir(path.join(dir, 'outside'))
  await fs.symlink(path.join(dir, 'outside', 'created.txt'), path.join(out, 'kit', 'empty.txt'))
  const err = await rejection(t, fetch(fetcher, ih, out))
  t.is(err.code, 'UNSAFE_PATH')
  oneLine(t, err)
  t.ok(await gone(path.join(dir, 'outside', 'created.txt')), 'the symlink\'s target was not created')
  t.ok((await fs.lstat(path.join(out, 'kit', 'empty.txt'))).isSymbolicLink(), 'the symlink is left as it was')
})

test('a torrent holding both a and a.chrysalis-part completes', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  const a = await randomFile(path.join(dir, 'src', 'pair', 'a'), 200 * 1024)
  const part = await randomFile(path.join(dir, 'src', 'pair', 'a.chrysalis-part'), 300 * 1024)
  const ih = await share(seed, path.join(dir, 'src', 'pair'))
  const out = path.join(dir, 'out')
  t.is((await fetch(fetcher, ih, out)).status, 'seeding')
  t.is(await shaOf(path.join(out, 'pair', 'a')), sha(a))
  t.is(await shaOf(path.join(out, 'pair', 'a.chrysalis-part')), sha(part))
})

test('a and a.chrysalis-part in one torrent, pieces of the second arriving first: both complete (piece store)', async (t) => {
  // Pieces come in any order when several peers serve them; here file 2 completes while file 1
  // is partial, the order in which the old part names collided.
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src', 'pair')
  const bytes = [await randomFile(path.join(src, 'a'), 100 * 1024), await randomFile(path.join(src, 'a.chrysalis-part'), 50 * 1024)]
  const { meta } = await createTorrent(src)
  await fs.mkdir(path.join(dir, 'out'))
  const out = await fs.realpath(path.join(dir, 'out'))
  const slots = meta.files.map((f) => ({ path: path.join(out, ...filePath(meta, f)), skip: false, done: false, mtimeMs: null }))
  await fs.mkdir(path.join(dir, 'home'))
  const store = new PieceStore(meta, slots, path.join(dir, 'home', 'pieces.log'), out)
  t.teardown(() => store.close())
  await store.open()
  await store.prepare()
  const piece = (i: number, p: number): Buffer => bytes[i]!.subarray(p * meta.pieceLength, (p + 1) * meta.pieceLength)
  const [f0, f1] = meta.files
  await store.write(f0!.firstPiece, piece(0, 0))
  for (let p = 0; p < f1!.pieceCount; p++) await store.write(f1!.firstPiece + p, piece(1, p))
  for (let p = 1; p < f0!.pieceCount; p++) await store.write(f0!.firstPiece + p, piece(0, p))
  t.ok(store.complete())
  t.is(await shaOf(path.join(out, 'pair', 'a')), sha(bytes[0]!))
  t.is(await shaOf(path.join(out, 'pair', 'a.chrysalis-part')), sha(bytes[1]!))
})

test('logged pieces whose part file is gone are forgotten: a part file created afresh never inherits them (piece store)', async (t) => {
  const dir = await tmpDir(t)
  const data = await randomFile(path.join(dir, 'src', 'x.bin'), 200 * 1024)
  const { meta } = await createTorrent(path.join(dir, 'src', 'x.bin'))
  await fs.mkdir(path.join(dir, 'out'))
  await fs.mkdir(path.join(dir, 'home'))
  const out = await fs.realpath(path.join(dir, 'out'))
  const log = path.join(dir, 'home', 'pieces.log')
  const slots = [{ path: path.join(out, 'x.bin'), skip: false, done: false, mtimeMs: null }]
  const piece = (p: number): Buffer => data.subarray(p * meta.pieceLength, (p + 1) * meta.pieceLength)
  const opened = async (): Promise<PieceStore> => {
    const store = new PieceStore(meta, slots, log, out)
    t.teardown(() => store.close())
    await store.open()
    await store.prepare()
    return store
  }
  let store = await opened()
  for (let p = 0; p < 4; p++) await store.write(p, piece(p))
  await store.close()
  // The partial data disappears (removed by hand, or a version-1 state whose part files are
  // no longer read); its four logged pieces must not count again once a new part file exists.
  const parts = path.join(out, '.chrysalis-parts')
  const old = path.join(out, 'x.bin.chrysalis-part')
  await fs.rm(parts, { recursive: true, force: true })
  await fs.rm(old, { force: true })
  store = await opened()
  t.is(store.have.count, 0, 'nothing held without the part file')
  await store.write(5, piece(5))
  await store.close()
  store = await opened()
  t.is(store.have.count, 1, 'only the piece written into the new part file counts')
  for (let p = 0; p < meta.pieceCount; p++) if (!store.have.get(p)) await store.write(p, piece(p))
  t.ok(store.complete())
  t.is(await shaOf(path.join(out, 'x.bin')), sha(data), 'the file is exact')
})

test('--file: only the selected files are written; nothing else appears', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  const one = await randomFile(path.join(dir, 'src', 'album', 'one.bin'), 300 * 1024)
  await randomFile(path.join(dir, 'src', 'album', 'sub', 'two.bin'), 200 * 1024)
  const ih = await share(seed, path.join(dir, 'src', 'album'))
  const out = path.join(dir, 'out')
  const view = await fetcher.files.fetch({ infohash: ih, name: null, author: null }, { out, files: ['one.bin'] })
  t.is(view.status, 'seeding')
  t.is(await shaOf(path.join(out, 'album', 'one.bin')), sha(one))
  t.alike((await fs.readdir(out)).sort(), ['album'], 'no partial data is left')
  t.alike(await fs.readdir(path.join(out, 'album')), ['one.bin'], 'the file not selected is not created')
})

test('cancel removes the torrent\'s partial data, never what it does not own', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  await randomFile(path.join(dir, 'src', 'x.bin'), 3 * 1024 * 1024)
  const ih = await share(seed, path.join(dir, 'src', 'x.bin'))
  const out = path.join(dir, 'out')
  const mine = await randomFile(path.join(out, 'x.bin.chrysalis-part'), 1000)
  const paused = new Promise<void>((resolve) => {
    const onUpdate = (v: { infohash: string; have: number; size: number }): void => {
      if (v.infohash !== ih.toString('hex') || v.have === 0 || v.have >= v.size) return
      internals(fetcher).transfers.off('update', onUpdate)
      void fetcher.files.pause(ih).then(() => resolve())
    }
    internals(fetcher).transfers.on('update', onUpdate)
  })
  const first = fetch(fetcher, ih, out).catch((err: Error) => err)
  await paused
  await first
  const parts = path.join(out, '.chrysalis-parts', ih.toString('hex'))
  t.ok((await fs.lstat(parts)).isDirectory(), 'a paused download keeps its partial data')
  await fetcher.files.remove(ih)
  t.ok(await gone(parts), 'cancel removes it')
  t.ok(await gone(path.join(out, '.chrysalis-parts')), 'and the parts folder, now empty')
  t.is(await shaOf(path.join(out, 'x.bin.chrysalis-part')), sha(mine), 'a file at the old partial name is not the download\'s')
})

/** A 2 MiB tmpfs at `dir`, when this process may mount (root, and the sandbox allows it). */
function smallDisk(t: T, dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    return false
  }
  t.teardown(() => execFileSync('umount', ['-l', dir], { stdio: 'ignore' }), { order: 5 })
  return true
}

test('no space left on device: one clear error, nothing at the final name, and the fetch resumes once there is room', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  const data = await randomFile(path.join(dir, 'src', 'x.bin'), 3 * 1024 * 1024)
  const ih = await share(seed, path.join(dir, 'src', 'x.bin'))
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  // A real full disk where we may mount one; otherwise (not root, CI) a simulated ENOSPC on the
  // piece store's write path once 1 MiB is written.
  const real = smallDisk(t, out)
  if (!real) {
    let written = 0
    storeFaults.write = (_file, length) => {
      if ((written += length) <= 1024 * 1024) return null
      return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    }
    t.teardown(() => (storeFaults.write = null))
  }
  t.comment(real ? 'a 2 MiB tmpfs' : 'a simulated ENOSPC (cannot mount here)')
  const err = await rejection(t, fetch(fetcher, ih, out))
  t.is(err.code, 'DISK_FULL')
  oneLine(t, err)
  t.ok(/no space left on device/.test(err.message) && /resume/.test(err.message), err.message)
  t.is(internals(fetcher).transfers.get(ih)!.status, 'stopped')
  t.is(internals(fetcher).transfers.get(ih)!.reason, err.message)
  t.ok(await gone(path.join(out, 'x.bin')), 'nothing at the final name')

  // Free space, fetch again: it resumes and completes with the right bytes.
  if (real) execFileSync('mount', ['-o', 'remount,size=16m', out], { stdio: 'ignore' })
  else storeFaults.write = null
  const view = await fetch(fetcher, ih, out)
  t.is(view.status, 'seeding')
  t.is(await shaOf(path.join(out, 'x.bin')), sha(data), 'complete and correct after the resume')
  t.ok(await gone(path.join(out, '.chrysalis-parts')), 'no partial data is left behind')
})

test('a reserved name: a torrent whose top-level name is .chrysalis-parts is refused', async (t) => {
  const { dir, seed, fetcher } = await pair(t)
  await randomFile(path.join(dir, 'src', '.chrysalis-parts', 'x'), 1000)
  await randomFile(path.join(dir, 'src', '.chrysalis-parts', 'y'), 1000)
  const ih = await share(seed, path.join(dir, 'src', '.chrysalis-parts'))
  const err = await rejection(t, fetch(fetcher, ih, path.join(dir, 'out')))
  t.ok(isChrysalisError(err, 'BAD_TORRENT'), err.message)
  oneLine(t, err)
})

test('a parts folder that is a symlink, or open to others, is refused; nothing is written through it (piece store)', async (t) => {
  const dir = await tmpDir(t)
  const data = await randomFile(path.join(dir, 'src', 'x.bin'), 64 * 1024)
  const { meta } = await createTorrent(path.join(dir, 'src', 'x.bin'))
  await fs.mkdir(path.join(dir, 'out'))
  await fs.mkdir(path.join(dir, 'outside'))
  await fs.mkdir(path.join(dir, 'home'))
  const out = await fs.realpath(path.join(dir, 'out'))
  const parts = path.join(out, '.chrysalis-parts')
  const open = async (): Promise<Error & { code?: string }> => {
    const slots = [{ path: path.join(out, 'x.bin'), skip: false, done: false, mtimeMs: null }]
    const store = new PieceStore(meta, slots, path.join(dir, 'home', 'pieces.log'), out)
    t.teardown(() => store.close())
    return rejection(t, store.open().then(() => store.prepare()).then(() => store.write(0, data.subarray(0, meta.pieceLength))))
  }
  // Planted by someone who can write to the download folder: a symlink to a folder outside.
  await fs.symlink(path.join(dir, 'outside'), parts)
  let err = await open()
  t.ok(isChrysalisError(err, 'UNSAFE_PATH'), `a symlink: ${err.message}`)
  oneLine(t, err)
  t.alike(await fs.readdir(path.join(dir, 'outside')), [], 'nothing created through it')
  // A real folder others may enter (or write to) is refused too.
  await fs.rm(parts)
  await fs.mkdir(parts, { mode: 0o755 })
  await fs.chmod(parts, 0o755)
  err = await open()
  t.ok(isChrysalisError(err, 'UNSAFE_PATH'), `mode 755: ${err.message}`)
  t.alike(await fs.readdir(parts), [], 'nothing created in it')
  t.ok(await gone(path.join(out, 'x.bin')), 'no final file')
})

test('a part file is flushed in the background every STORE_LIMITS.flushEvery bytes, so finishing it waits only for the rest (piece store)', async (t) => {
  const dir = await tmpDir(t)
  const size = 2 * STORE_LIMITS.flushEvery + 8 * 1024 * 1024
  const data = await randomFile(path.join(dir, 'src', 'x.bin'), size)
  const { meta } = await createTorrent(path.join(dir, 'src', 'x.bin'))
  await fs.mkdir(path.join(dir, 'out'))
  await fs.mkdir(path.join(dir, 'home'))
  const out = await fs.realpath(path.join(dir, 'out'))
  const store = new PieceStore(meta, [{ path: path.join(out, 'x.bin'), skip: false, done: false, mtimeMs: null }], path.join(dir, 'home', 'pieces.log'), out)
  t.teardown(() => store.close())
  await store.open()
  await store.prepare()

  const flushedAt: number[] = []
  let written = 0
  const fdatasync = fsCb.fdatasync
  fsCb.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    flushedAt.push(written)
    fdatasync(fd, cb)
  }) as typeof fsCb.fdatasync
  t.teardown(() => {
    fsCb.fdatasync = fdatasync
  })
  for (let p = 0; p < meta.pieceCount; p++) {
    const piece = data.subarray(p * meta.pieceLength, (p + 1) * meta.pieceLength)
    await store.write(p, piece)
    written += piece.length
  }
  t.ok(store.complete())
  t.is(flushedAt.length, 2, `flushed in the background after ${flushedAt.map((b) => `${b >> 20} MiB`).join(' and ')}`)
  t.ok(flushedAt.every((b, k) => b >= (k + 1) * STORE_LIMITS.flushEvery - meta.pieceLength), 'each after another flushEvery bytes')
  t.is(await shaOf(path.join(out, 'x.bin')), sha(data), 'the finished file is whole')
})
