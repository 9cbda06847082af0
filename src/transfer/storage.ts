import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { writeFileAtomic } from '../fs.js'
import { Bitfield } from './bitfield.js'
import { datasyncFd, readFd, writeAll } from './fd-io.js'
import { PieceMap } from './pieces.js'
import type { Metainfo } from './metainfo.js'
import { PARTS_DIR, createExclusive, ensureDirs, ensurePrivateDir, openOwn, placeNew, removePrivateDir, unsafe } from './safe-path.js'

/** Where a file of the torrent lives on disk, and whether we hold it. */
export interface FileSlot {
  /** Absolute path of the complete file. */
  path: string
  /** Not part of the selection: neither fetched nor served. */
  skip: boolean
  /** Complete and verified at `path` (else its pieces so far are in the torrent's parts directory). */
  done: boolean
  /** When done: the mtime we recorded, to notice the file changing on disk. */
  mtimeMs: number | null
}

export { PARTS_DIR }

/** A seeded file changed on disk since it was hashed: it is no longer served. */
export class FileChangedError extends ChrysalisError {
  constructor(file: string) {
    super('FILE_CHANGED', `${file} changed on disk since it was shared or fetched; it is no longer seeded (share or fetch it again)`)
  }
}

/**
 * Faults injected on the piece store's write path, for tests that cannot fill a real disk:
 * `write` sees each part-file write (file, bytes) and may return the error to fail it with.
 */
export const STORE_LIMITS = {
  /**
   * A part file is flushed to disk (fdatasync, in the background) each time this much more of it
   * was written: the flush before it takes its final name then waits only for the last of it,
   * not for the whole file (measured here: 0.3 s for 512 MiB, at the end of a 2.5 s download).
   */
  flushEvery: 32 * 1024 * 1024
} as const

export const storeFaults: { write: ((file: string, length: number) => Error | null) | null } = { write: null }

/** The private directory holding a torrent's partial data inside the download folder. */
export function partsDirOf(out: string, infohash: Buffer): string {
  return path.join(out, PARTS_DIR, infohash.toString('hex'))
}

/**
 * The pieces of one torrent on disk: complete files where they are (shared files are served
 * from their original location, never copied); incomplete ones, while downloading, as
 * `OUT/.chrysalis-parts/<infohash>/<file index>` (a directory only this user can enter, created
 * for this torrent: no name in any torrent, and no file of the user, can collide with it).
 * Verified pieces are appended to a log (4-byte little-endian indexes) after their bytes are
 * written, so a crash at any moment loses at most the pieces in flight. A file is moved to its
 * final name (a hard link, never over anything existing, every directory on the way checked
 * without following symlinks) only once its size and every piece of it are right.
 */
export class PieceStore {
  readonly meta: Metainfo
  readonly slots: FileSlot[]
  readonly have: Bitfield
  readonly map: PieceMap
  /** Some files are left out of the selection (then a piece may touch one). */
  private readonly partial: boolean
  /** Pieces held, per file. */
  private readonly heldOf: Uint32Array
  /** The torrent's key (hex), naming its private parts folder. */
  private readonly key: string
  private readonly logFile: string
  /** The download folder (fetched torrents; null for shared ones, whose files are all done). */
  private readonly out: string | null
  private readonly partsDir: string | null
  private log: Promise<fs.FileHandle> | null = null
  private readonly pendingIo = new Set<Promise<unknown>>()
  private readonly logQueue: Array<{ piece: number; resolve: () => void; reject: (err: unknown) => void }> = []
  private logBusy = false
  private readonly handles = new Map<string, Promise<fs.FileHandle>>()
  private readonly checked = new Map<number, number>()
  private readonly finishing = new Set<number>()
  /** Per part file: bytes written since its last background flush, and whether one runs. */
  private readonly unflushed = new Map<number, number>()
  private readonly flushing = new Set<number>()
  private closed = false
  /** Verified bytes of the selection (complete files and pieces held), kept as pieces arrive. */
  haveBytes = 0

  constructor(meta: Metainfo, slots: FileSlot[], logFile: string, out: string | null = null, key: Buffer = meta.infohash) {
    this.meta = meta
    this.slots = slots
    this.logFile = logFile
    this.out = out
    this.key = key.toString('hex')
    this.partsDir = out === null ? null : partsDirOf(out, key)
    this.map = new PieceMap(meta)
    this.partial = slots.some((s) => s.skip)
    this.heldOf = new Uint32Array(meta.files.length)
    this.have = new Bitfield(meta.pieceCount)
    meta.files.forEach((f, i) => {
      if (!slots[i]!.done) return
      // A v1 piece shared with a file not done yet is held only once that file's part is.
      for (let p = 0; p < f.pieceCount; p++) if (this.map.spans(f.firstPiece + p).every((s) => slots[s.file]!.done)) this.hold(f.firstPiece + p)
    })
  }

  /** Mark a piece held, counting its bytes (those of the selection) once. */
  private hold(piece: number): void {
    if (!this.have.set(piece)) return
    for (const s of this.map.spans(piece)) {
      this.heldOf[s.file]!++
      if (!this.slots[s.file]!.skip) this.haveBytes += s.length
    }
  }

  /** Pieces of the selection, in order. */
  wanted(): Bitfield {
    const bits = new Bitfield(this.meta.pieceCount)
    this.meta.files.forEach((f, i) => {
      if (!this.slots[i]!.skip) for (let p = 0; p < f.pieceCount; p++) bits.set(f.firstPiece + p)
    })
    return bits
  }

  /** Can the piece be served? (Held, and none of its bytes in a file left out of the selection.) */
  servable(piece: number): boolean {
    if (!this.have.get(piece)) return false
    return !this.partial || this.map.spans(piece).every((s) => !this.slots[s.file]!.skip)
  }

  /** Where file `i`'s partial data is. */
  private partOf(i: number): string {
    if (this.partsDir === null) throw new ChrysalisError('TRANSFER_FAILED', `${this.slots[i]!.path} is incomplete and this torrent has no download folder; fetch it again`)
    return path.join(this.partsDir, String(i))
  }

  /** Files still to download (selected, not done, not empty). */
  private pending(): number[] {
    const out: number[] = []
    this.meta.files.forEach((f, i) => {
      const s = this.slots[i]!
      if (!s.skip && !s.done && f.length > 0) out.push(i)
    })
    return out
  }

  /**
   * Load the resume log: pieces verified before a restart. A logged piece counts only while its
   * part file is there (a regular file, not a symlink) to hold it; entries that no longer count
   * are dropped from the log, so a part file created afresh never inherits them.
   */
  async open(): Promise<void> {
    const data = await fs.readFile(this.logFile).catch(() => Buffer.alloc(0))
    const pending = new Set(this.pending())
    if (pending.size > 0) await this.preparePartsDir().catch((err: unknown) => Promise.reject(this.writeError(err, `the partial downloads folder ${this.partsDir}`)))
    const present = new Map<number, boolean>()
    let dropped = data.length % 4 !== 0 // a crash in the middle of an append leaves a partial entry
    for (let at = 0; at + 4 <= data.length; at += 4) {
      const piece = data.readUInt32LE(at)
      const files = piece < this.meta.pieceCount ? this.map.spans(piece).map((s) => s.file).filter((i) => pending.has(i)) : []
      if (files.length === 0) {
        dropped = true // its files done or not selected, or no piece of this torrent
        continue
      }
      let ok = true
      for (const i of files) {
        if (!present.has(i)) present.set(i, (await fs.lstat(this.partOf(i)).catch(() => null))?.isFile() === true)
        ok &&= present.get(i)!
      }
      if (ok) this.hold(piece)
      else dropped = true
    }
    if (dropped) await this.rewriteLog()
  }

  /** Keep in the log only the pieces held, whole entries, written atomically. */
  private async rewriteLog(): Promise<void> {
    const held = new Set<number>()
    for (const i of this.pending()) {
      const f = this.meta.files[i]!
      for (let p = 0; p < f.pieceCount; p++) if (this.have.get(f.firstPiece + p)) held.add(f.firstPiece + p)
    }
    const buf = Buffer.alloc(held.size * 4)
    let k = 0
    for (const p of held) buf.writeUInt32LE(p, 4 * k++)
    await writeFileAtomic(this.logFile, buf, 0o600)
  }

  /** OUT/.chrysalis-parts (private, created if missing) and this torrent's directory in it. */
  private async preparePartsDir(): Promise<void> {
    const dir = this.partsDir
    if (dir === null) return
    await fs.mkdir(this.out!, { recursive: true })
    await ensurePrivateDir(path.dirname(dir))
    await ensurePrivateDir(dir)
  }

  /** Is every selected file complete? */
  complete(): boolean {
    return this.slots.every((s) => s.skip || s.done)
  }

  /**
   * Read bytes of a piece we have (into `into`, of `length` bytes, when given); throws
   * FileChangedError when a complete file changed.
   */
  async read(piece: number, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const spans = this.map.spans(piece)
    const one = spans.length === 1 && spans[0]!.at === 0
    // Pads (v1 torrents) read as zeros.
    const buf = into ? (one ? into : into.fill(0)) : one ? Buffer.allocUnsafe(length) : Buffer.alloc(length)
    if (buf.length !== length) throw new RangeError(`read: a buffer of ${buf.length} bytes for ${length}`)
    for (const s of spans) {
      const a = Math.max(offset, s.at)
      const b = Math.min(offset + length, s.at + s.length)
      if (b <= a) continue
      const i = s.file
      const file = this.meta.files[i]!
      const slot = this.slots[i]!
      if (slot.done) await this.checkUnchanged(i)
      const fh = await (slot.done ? this.handle(slot.path, () => fs.open(slot.path, 'r')) : this.handle(`r:${i}`, () => openOwn(this.partOf(i), false, file.length)))
      const bytesRead = await this.io(readFd(fh.fd, buf, a - offset, b - a, s.offset + (a - s.at)))
      if (bytesRead !== b - a) throw new FileChangedError(slot.path)
    }
    return buf
  }

  /** Size and mtime of a complete file, checked at most once a second. */
  private async checkUnchanged(i: number): Promise<void> {
    const now = Date.now()
    if ((this.checked.get(i) ?? 0) > now - 1000) return
    const slot = this.slots[i]!
    const st = await fs.stat(slot.path).catch(() => null)
    if (!st || st.size !== this.meta.files[i]!.length || !sameTime(st.mtimeMs, slot.mtimeMs)) throw new FileChangedError(slot.path)
    this.checked.set(i, now)
  }

  /** The part file of file `i`, open read-write: created exclusively, or ours from before. */
  private partHandle(i: number): Promise<fs.FileHandle> {
    const part = this.partOf(i)
    const length = this.meta.files[i]!.length
    return this.handle(`w:${i}`, () =>
      createExclusive(part).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return openOwn(part, true, length)
        throw err
      })
    )
  }

  /** Write a verified piece and log it. Returns the files it completed (moved into place). */
  async write(piece: number, data: Buffer): Promise<number[]> {
    const spans = this.map.spans(piece).filter((s) => !this.slots[s.file]!.done && !this.slots[s.file]!.skip)
    if (spans.length === 0 || this.have.get(piece)) return []
    if (data.length !== this.map.size(piece)) throw new Error(`piece ${piece} has ${data.length} bytes`)
    for (const s of spans) {
      const slot = this.slots[s.file]!
      try {
        const fh = await this.partHandle(s.file)
        const fault = storeFaults.write?.(this.partOf(s.file), s.length)
        if (fault) throw fault
        await this.io(writeAll(fh, s.at === 0 && s.length === data.length ? data : data.subarray(s.at, s.at + s.length), s.offset))
        this.wrote(s.file, fh, s.length)
      } catch (err) {
        throw this.writeError(err, `${slot.path} (what is downloaded so far is kept)`)
      }
    }
    if (this.closed) throw new ChrysalisError('TRANSFER_FAILED', 'the torrent was stopped')
    try {
      await this.logPiece(piece)
    } catch (err) {
      throw this.writeError(err, `the resume log ${this.logFile}`)
    }
    this.hold(piece)
    const finished: number[] = []
    for (const { file: i } of spans) {
      // Two last writes can finish together: one of them finishes the file.
      if (!this.fileHeld(i) || this.finishing.has(i)) continue
      this.finishing.add(i)
      await this.finishFile(i)
      finished.push(i)
    }
    return finished
  }

  /** Count bytes written to part file `i`; flush it in the background every STORE_LIMITS.flushEvery. */
  private wrote(i: number, fh: fs.FileHandle, bytes: number): void {
    const n = (this.unflushed.get(i) ?? 0) + bytes
    if (n < STORE_LIMITS.flushEvery || this.flushing.has(i)) {
      this.unflushed.set(i, n)
      return
    }
    this.unflushed.set(i, 0)
    this.flushing.add(i)
    // A failure here shows again in the flush before the file is finished, which reports it.
    void this.io(datasyncFd(fh.fd))
      .catch(() => {})
      .finally(() => this.flushing.delete(i))
  }

  private fileHeld(i: number): boolean {
    return this.heldOf[i] === this.meta.files[i]!.pieceCount
  }

  /**
   * Append a verified piece to the resume log. Entries of pieces verified while an append is
   * under way go out together in the next one (one write for many pieces).
   */
  private logPiece(piece: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.logQueue.push({ piece, resolve, reject })
      if (!this.logBusy) void this.flushLog()
    })
  }

  private async flushLog(): Promise<void> {
    this.logBusy = true
    while (this.logQueue.length > 0) {
      const batch = this.logQueue.splice(0)
      const buf = Buffer.alloc(4 * batch.length)
      batch.forEach((e, k) => buf.writeUInt32LE(e.piece, 4 * k))
      try {
        this.log ??= fs.open(this.logFile, 'a')
        await this.io(writeAll(await this.log, buf, null))
        for (const e of batch) e.resolve()
      } catch (err) {
        for (const e of batch) e.reject(err)
      }
    }
    this.logBusy = false
  }

  /** A failed write in words: a full disk says so; the data so far stays, ready to resume. */
  private writeError(err: unknown, what: string): Error {
    if (err instanceof ChrysalisError) return err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return new ChrysalisError('DISK_FULL', `${code === 'ENOSPC' ? 'no space left on device' : 'disk quota exceeded'} while writing ${what}; free space, then run the fetch again to resume`, { cause: err })
    }
    const reason = err instanceof Error ? err.message : String(err)
    return new ChrysalisError('TRANSFER_FAILED', `could not write ${what}: ${reason}; fix that, then run the fetch again to resume`, { cause: err })
  }

  /**
   * Move a complete part file to its final name: only when its size is right and every piece
   * of it is verified, through directories checked without following symlinks, never over
   * anything that exists (the part stays, and the download can finish later).
   */
  private async finishFile(i: number): Promise<void> {
    const slot = this.slots[i]!
    const f = this.meta.files[i]!
    const part = this.partOf(i)
    if (!this.fileHeld(i)) throw new ChrysalisError('TRANSFER_FAILED', `${slot.path} is not complete; run the fetch again`)
    try {
      // Linked into place before a crash that lost the state: it is ours, finish the move.
      const [a, b] = await Promise.all([fs.lstat(part).catch(() => null), fs.lstat(slot.path).catch(() => null)])
      if (a && b && a.isFile() && a.ino === b.ino && a.dev === b.dev) {
        await fs.unlink(part)
      } else {
        const fh = await this.partHandle(i)
        const st = await fh.stat()
        if (st.size !== f.length) throw new ChrysalisError('TRANSFER_FAILED', `the partial data of ${slot.path} has ${st.size} bytes, not ${f.length}; cancel the download and fetch it again`)
        await fh.sync()
        await this.closeHandles(i)
        await ensureDirs(this.out!, this.parents(i))
        await placeNew(part, slot.path)
      }
      slot.mtimeMs = (await fs.lstat(slot.path)).mtimeMs
      slot.done = true
    } catch (err) {
      this.finishing.delete(i)
      throw this.writeError(err, slot.path)
    }
    if (this.complete() && this.out !== null) await removePrivateDir(this.out, this.key).catch(() => {})
  }

  /** The directories between the download folder and file `i`. */
  private parents(i: number): string[] {
    const rel = path.relative(this.out!, this.slots[i]!.path).split(path.sep)
    if (rel.length === 0 || rel[0] === '..' || path.isAbsolute(rel[0]!)) throw new ChrysalisError('BAD_TORRENT', `${this.slots[i]!.path} is outside the download folder ${this.out}; it was refused`)
    return rel.slice(0, -1)
  }

  /**
   * Before downloading: check (and create) the directories of the selection without following
   * symlinks, create its empty files exclusively (they own no pieces), and finish files whose
   * every piece was verified before a stop.
   */
  async prepare(): Promise<void> {
    for (const [i, f] of this.meta.files.entries()) {
      const slot = this.slots[i]!
      if (slot.skip || slot.done) continue
      if (this.out === null) throw new ChrysalisError('TRANSFER_FAILED', `${slot.path} is incomplete and this torrent has no download folder; fetch it again`)
      try {
        await ensureDirs(this.out, this.parents(i))
        if (f.length === 0) await createEmpty(slot.path)
      } catch (err) {
        throw this.writeError(err, slot.path)
      }
      if (f.length === 0) {
        slot.mtimeMs = (await fs.lstat(slot.path)).mtimeMs
        slot.done = true
      } else if (this.fileHeld(i) && !this.finishing.has(i)) {
        this.finishing.add(i)
        await this.finishFile(i)
      }
    }
    if (this.complete() && this.out !== null) await removePrivateDir(this.out, this.key).catch(() => {})
  }

  /** One open handle per key, shared by concurrent callers. */
  private handle(key: string, open: () => Promise<fs.FileHandle>): Promise<fs.FileHandle> {
    if (this.closed) return Promise.reject(new ChrysalisError('TRANSFER_FAILED', 'the torrent was stopped'))
    let h = this.handles.get(key)
    if (!h) {
      h = open()
      h.catch(() => this.handles.delete(key))
      this.handles.set(key, h)
    }
    return h
  }

  /**
   * Reads and writes go to a descriptor (callback fs, cheaper than FileHandle's): a handle is
   * closed only once none is in flight, so a closed descriptor's number, reused by another open,
   * never receives them.
   */
  private io<T>(op: Promise<T>): Promise<T> {
    this.pendingIo.add(op)
    const done = (): void => void this.pendingIo.delete(op)
    op.then(done, done)
    return op
  }

  private async settled(): Promise<void> {
    while (this.pendingIo.size > 0) await Promise.allSettled([...this.pendingIo])
  }

  private async closeHandles(i: number): Promise<void> {
    await this.settled()
    for (const key of [`r:${i}`, `w:${i}`]) {
      const h = this.handles.get(key)
      this.handles.delete(key)
      if (h) await (await h.catch(() => null))?.close()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    await this.settled()
    const all = [...this.handles.values()]
    this.handles.clear()
    for (const h of all) await (await h.catch(() => null))?.close()
    const log = this.log
    this.log = null
    await (await log?.catch(() => null))?.close()
  }
}

/** An empty file of the torrent: created exclusively; an existing empty regular file is accepted. */
async function createEmpty(file: string): Promise<void> {
  try {
    await (await createExclusive(file)).close()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const st = await fs.lstat(file)
    if (st.isSymbolicLink()) throw unsafe(file, 'is a symbolic link')
    if (!st.isFile() || st.size !== 0) throw new ChrysalisError('FILE_EXISTS', `${file} already exists and is not the empty file the torrent holds; move it away, then run the fetch again`)
  }
}

/** Modification times compared to the millisecond (what every filesystem and `touch` keep). */
export function sameTime(a: number, b: number | null): boolean {
  return b !== null && Math.floor(a) === Math.floor(b)
}
