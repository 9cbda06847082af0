import { type Metainfo, expectedHash, fileOfPiece, pieceSize } from './metainfo.js'
import { pieceDigests, type PieceDigests, type PieceHashJob } from './piece-hash.js'
import { lastAtOrBefore } from './sorted.js'

/**
 * Where each piece's bytes live, for every kind of torrent. v2 and hybrid torrents start every
 * file on a piece (hybrids through BEP 47 pad files), so a piece is part of one file. A v1-only
 * torrent is one stream of bytes cut into pieces across its files; a piece may cover the end of
 * one file, a pad, and the start of the next.
 *
 * A piece's `size` is what is requested on the wire: its bytes up to the end of its last file
 * data (pads that end a piece are never requested, as libtorrent does). Bytes inside that range
 * that belong to a pad are zeros.
 *
 *   const map = new PieceMap(meta)
 *   for (const s of map.spans(7)) write(s.file, s.offset, data.subarray(s.at, s.at + s.length))
 *   map.check(7, data)   // 'ok' | 'bad' | 'unknown' (a v2 piece layer not known yet)
 */
export interface Span {
  /** Index into meta.files. */
  file: number
  /** Byte offset in that file. */
  offset: number
  /** Byte offset in the piece. */
  at: number
  length: number
}

/** Maps each piece of a torrent to the file bytes it covers, for every kind of torrent. */
export class PieceMap {
  readonly meta: Metainfo
  /** v1-only: each file's first byte in the piece stream (pads included). */
  private readonly starts: number[] | null
  private readonly fileIndex = new Map<object, number>()

  constructor(meta: Metainfo) {
    this.meta = meta
    meta.files.forEach((f, i) => this.fileIndex.set(f, i))
    if (meta.version === 'v1') {
      const data = meta.v1!.files.filter((f) => !f.pad)
      this.starts = data.map((f) => f.offset)
    } else {
      this.starts = null
    }
  }

  get pieceCount(): number {
    return this.meta.pieceCount
  }

  /** Bytes of piece `i` that are requested and verified (see above). */
  size(piece: number): number {
    if (!this.starts) return pieceSize(this.meta, piece)
    const spans = this.spans(piece)
    const last = spans[spans.length - 1]
    return last ? last.at + last.length : 0
  }

  /** The file data in piece `i`, in order (no pads, no empty files). */
  spans(piece: number): Span[] {
    const meta = this.meta
    if (!this.starts) {
      const file = fileOfPiece(meta, piece)
      const local = piece - file.firstPiece
      return [{ file: this.fileIndex.get(file)!, offset: local * meta.pieceLength, at: 0, length: pieceSize(meta, piece) }]
    }
    const from = piece * meta.pieceLength
    const to = Math.min(from + meta.pieceLength, meta.v1!.streamLength)
    const out: Span[] = []
    // The last file starting at or before `from`, then on while files start before `to`.
    const starts = this.starts
    for (let i = lastAtOrBefore(starts.length, (k) => starts[k]!, from); i < starts.length && starts[i]! < to; i++) {
      const f = meta.files[i]!
      const start = starts[i]!
      const a = Math.max(from, start)
      const b = Math.min(to, start + f.length)
      if (b > a && !f.symlink) out.push({ file: i, offset: a - start, at: a - from, length: b - a })
    }
    return out
  }

  /**
   * Bytes of piece `i` a peer may request: its v1 stream size (pads are zeros), and for a v2
   * torrent the whole piece length — libtorrent asks for a file's last piece whole and expects
   * zeros past the file's end.
   */
  wireSize(piece: number): number {
    if (this.meta.version === 'v2') return this.meta.pieceLength
    return this.v1Size(piece)
  }

  /** Bytes of piece `i` in the v1 piece stream (its SHA-1 covers them; pads are zeros). */
  private v1Size(piece: number): number {
    const v1 = this.meta.v1!
    return Math.min(this.meta.pieceLength, v1.streamLength - piece * this.meta.pieceLength)
  }

  /** Does the piece's v2 hash need a piece layer we do not have yet? */
  needsLayer(piece: number): boolean {
    // A hybrid's pieces are checked by SHA-1 meanwhile (its layers are still asked for, to serve v2 peers).
    if (this.meta.version !== 'v2') return false
    return expectedHash(this.meta, piece) === null
  }

  /**
   * Check a piece: 'ok', 'bad', or 'unknown' when only a v2 hash could check it and its layer is
   * not known yet. Hybrids are checked against both their SHA-1 and their merkle hash (when known).
   */
  check(piece: number, data: Buffer): 'ok' | 'bad' | 'unknown' {
    return this.verdict(piece, pieceDigests(data, this.hashJob(piece, data.length)))
  }

  /** What checking piece `piece` of `length` bytes takes (computed by pieceDigests, maybe elsewhere). */
  hashJob(piece: number, length: number): PieceHashJob {
    const meta = this.meta
    const expected = meta.version !== 'v1' ? expectedHash(meta, piece) : null
    return {
      v1Pad: meta.v1 ? this.v1Size(piece) - length : null,
      v2: expected ? { pieceLength: meta.pieceLength, fileLength: expected.file.length } : null
    }
  }

  /** The check's outcome from the digests of hashJob(piece): see check(). */
  verdict(piece: number, digests: PieceDigests): 'ok' | 'bad' | 'unknown' {
    const meta = this.meta
    let checked = false
    if (meta.v1 && digests.sha1) {
      if (!digests.sha1.equals(meta.v1.pieces.subarray(piece * 20, piece * 20 + 20))) return 'bad'
      checked = true
    }
    if (meta.version !== 'v1' && digests.root) {
      const expected = expectedHash(meta, piece)
      if (!expected || !digests.root.equals(expected.hash)) return 'bad'
      checked = true
    }
    return checked ? 'ok' : 'unknown'
  }
}
