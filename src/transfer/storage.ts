import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { exists } from '../fs.js'
import { type Metainfo, fileOfPiece, pieceSize } from './metainfo.js'

/** One bit per piece, most significant bit first (the BitTorrent layout). */
export class Bitfield {
  readonly size: number
  readonly bytes: Buffer
  private ones = 0

  constructor(size: number, bytes?: Uint8Array) {
    this.size = size
    this.bytes = Buffer.alloc(Math.ceil(size / 8))
    if (bytes) {
      Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, this.bytes.length)).copy(this.bytes)
      // Bits past the end are not pieces: clear them.
      if (size % 8 !== 0 && this.bytes.length > 0) this.bytes[this.bytes.length - 1]! &= (0xff << (8 - (size % 8))) & 0xff
      for (let i = 0; i < size; i++) if (this.get(i)) this.ones++
    }
  }

  get(i: number): boolean {
    return (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0
  }

  set(i: number): boolean {
    if (i < 0 || i >= this.size || this.get(i)) return false
    this.bytes[i >> 3]! |= 0x80 >> (i & 7)
    this.ones++
    return true
  }

  get count(): number {
    return this.ones
  }

  get full(): boolean {
    return this.ones === this.size
  }
}

/** Where a file of the torrent lives on disk, and whether we hold it. */
export interface FileSlot {
  /** Absolute path of the complete file. */
  path: string
  /** Not part of the selection: neither fetched nor served. */
  skip: boolean
  /** Complete and verified at `path` (else its pieces so far are in `path + PART`). */
  done: boolean
  /** When done: the mtime we recorded, to notice the file changing on disk. */
  mtimeMs: number | null
}

export const PART = '.chrysalis-part'

export class FileChangedError extends ChrysalisError {
  constructor(file: string) {
    super('FILE_CHANGED', `${file} changed on disk since it was shared or fetched; it is no longer seeded (share or fetch it again)`)
  }
}

/**
 * The pieces of one torrent on disk: complete files where they are (shared files are served
 * from their original location, never copied), incomplete ones as `NAME.chrysalis-part` beside
 * their final path. Verified pieces are appended to a log (4-byte little-endian indexes) after
 * their bytes are written, so a crash at any moment loses at most the pieces in flight, and a
 * file is renamed to its final name only once every piece of it is verified.
 */
export class PieceStore {
  readonly meta: Metainfo
  readonly slots: FileSlot[]
  readonly have: Bitfield
  private readonly logFile: string
  private log: Promise<fs.FileHandle> | null = null
  private readonly handles = new Map<string, Promise<fs.FileHandle>>()
  private readonly checked = new Map<number, number>()
  private readonly finishing = new Set<number>()
  private closed = false
  /** Verified bytes of the selection (complete files and pieces held), kept as pieces arrive. */
  haveBytes = 0

  constructor(meta: Metainfo, slots: FileSlot[], logFile: string) {
    this.meta = meta
    this.slots = slots
    this.logFile = logFile
    this.have = new Bitfield(meta.pieceCount)
    meta.files.forEach((f, i) => {
      if (slots[i]!.done) for (let p = 0; p < f.pieceCount; p++) this.hold(f.firstPiece + p)
    })
  }

  /** Mark a piece held, counting its bytes once. */
  private hold(piece: number): void {
    if (this.have.set(piece)) this.haveBytes += pieceSize(this.meta, piece)
  }

  /** Pieces of the selection, in order. */
  wanted(): Bitfield {
    const bits = new Bitfield(this.meta.pieceCount)
    this.meta.files.forEach((f, i) => {
      if (!this.slots[i]!.skip) for (let p = 0; p < f.pieceCount; p++) bits.set(f.firstPiece + p)
    })
    return bits
  }

  /** Load the resume log: pieces verified before a restart. */
  async open(): Promise<void> {
    const data = await fs.readFile(this.logFile).catch(() => Buffer.alloc(0))
    // A crash in the middle of an append leaves a partial entry: cut it, so later ones align.
    if (data.length % 4 !== 0) await fs.truncate(this.logFile, data.length - (data.length % 4))
    for (let at = 0; at + 4 <= data.length; at += 4) {
      const piece = data.readUInt32LE(at)
      if (piece >= this.meta.pieceCount) continue
      const i = this.meta.files.indexOf(fileOfPiece(this.meta, piece))
      const slot = this.slots[i]!
      // A logged piece counts only while its part file is there to hold it.
      if (!slot.skip && !slot.done && (await exists(slot.path + PART))) this.hold(piece)
    }
  }

  /** Is every selected file complete? */
  complete(): boolean {
    return this.slots.every((s) => s.skip || s.done)
  }

  /** Read bytes of a piece we have; throws FileChangedError when a complete file changed. */
  async read(piece: number, offset: number, length: number): Promise<Buffer> {
    const file = fileOfPiece(this.meta, piece)
    const i = this.meta.files.indexOf(file)
    const slot = this.slots[i]!
    if (slot.done) await this.checkUnchanged(i)
    const fh = await this.handle(slot.done ? slot.path : slot.path + PART, 'r')
    const buf = Buffer.allocUnsafe(length)
    const position = (piece - file.firstPiece) * this.meta.pieceLength + offset
    const { bytesRead } = await fh.read(buf, 0, length, position)
    if (bytesRead !== length) throw new FileChangedError(slot.path)
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

  /** Write a verified piece and log it. Returns the file index when that file just completed. */
  async write(piece: number, data: Buffer): Promise<number | null> {
    const file = fileOfPiece(this.meta, piece)
    const i = this.meta.files.indexOf(file)
    const slot = this.slots[i]!
    if (slot.done || slot.skip || this.have.get(piece)) return null
    if (data.length !== pieceSize(this.meta, piece)) throw new Error(`piece ${piece} has ${data.length} bytes`)
    const part = slot.path + PART
    const fh = await this.handle(part, 'w')
    await fh.write(data, 0, data.length, (piece - file.firstPiece) * this.meta.pieceLength)
    if (this.closed) throw new ChrysalisError('TRANSFER_FAILED', 'the torrent was stopped')
    this.log ??= fs.open(this.logFile, 'a')
    const entry = Buffer.alloc(4)
    entry.writeUInt32LE(piece)
    await (await this.log).write(entry)
    this.hold(piece)
    for (let p = 0; p < file.pieceCount; p++) if (!this.have.get(file.firstPiece + p)) return null
    // Two last writes can finish together: one of them finishes the file.
    if (this.finishing.has(i)) return null
    this.finishing.add(i)
    await this.finishFile(i)
    return i
  }

  /** Sync a complete part file and move it to its final name (never over an existing file). */
  private async finishFile(i: number): Promise<void> {
    const slot = this.slots[i]!
    const part = slot.path + PART
    const fh = await this.handle(part, 'w')
    await fh.sync()
    await this.closeHandle(part)
    if (await exists(slot.path)) throw new ChrysalisError('TRANSFER_FAILED', `${slot.path} already exists; the download is kept as ${part} (move the other file away, then fetch again)`)
    await fs.rename(part, slot.path)
    slot.mtimeMs = (await fs.stat(slot.path)).mtimeMs
    slot.done = true
  }

  /** Create empty files of the selection (they own no pieces) and the part files' directories. */
  async prepare(): Promise<void> {
    for (const [i, f] of this.meta.files.entries()) {
      const slot = this.slots[i]!
      if (slot.skip || slot.done) continue
      await fs.mkdir(path.dirname(slot.path), { recursive: true })
      if (f.length === 0) {
        if (!(await exists(slot.path))) await fs.writeFile(slot.path, '')
        slot.mtimeMs = (await fs.stat(slot.path)).mtimeMs
        slot.done = true
      }
    }
  }

  private handle(file: string, mode: 'r' | 'w'): Promise<fs.FileHandle> {
    if (this.closed) return Promise.reject(new ChrysalisError('TRANSFER_FAILED', 'the torrent was stopped'))
    const k = `${mode}:${file}`
    let h = this.handles.get(k)
    if (!h) {
      // 'r+' keeps what is written already; create the file first if it is not there.
      h = mode === 'r' ? fs.open(file, 'r') : fs.open(file, 'a').then((f) => f.close()).then(() => fs.open(file, 'r+'))
      h.catch(() => this.handles.delete(k))
      this.handles.set(k, h)
    }
    return h
  }

  private async closeHandle(file: string): Promise<void> {
    for (const mode of ['r', 'w']) {
      const h = this.handles.get(`${mode}:${file}`)
      this.handles.delete(`${mode}:${file}`)
      if (h) await (await h.catch(() => null))?.close()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    const all = [...this.handles.values()]
    this.handles.clear()
    for (const h of all) await (await h.catch(() => null))?.close()
    const log = this.log
    this.log = null
    await (await log?.catch(() => null))?.close()
  }
}

/** Modification times compared to the millisecond (what every filesystem and `touch` keep). */
export function sameTime(a: number, b: number | null): boolean {
  return b !== null && Math.floor(a) === Math.floor(b)
}
