import type { Metainfo } from '../metainfo.js'
import { WebSeed, type WebSeedLayout } from '../discovery/webseed.js'
import type { PieceMap } from '../pieces.js'
import type { BlockSource } from './downloader.js'
import type { Torrent } from './torrent.js'

/**
 * A BEP 19 web seed as a source of blocks: it takes a whole piece from the picker at a time,
 * reads it with HTTP range requests (discovery/webseed.ts) and hands its blocks to the torrent,
 * which checks the piece like any other. A piece that fails its check counts against the seed
 * (reportBadPiece); a seed that keeps failing is dropped.
 *
 *   const ws = new WebSeedSource(torrent, map, 'http://127.0.0.1:8080/files/')
 *   ws.start()
 */
export const WEBSEED_SOURCE = {
  /** Pieces read at once from one web seed. */
  parallel: 2
} as const

export function webSeedLayout(meta: Metainfo): WebSeedLayout {
  if (meta.v1) {
    return { name: meta.name, multi: meta.multi, pieceLength: meta.pieceLength, files: meta.v1.files.map((f) => ({ path: f.path, length: f.length, offset: f.offset, pad: f.pad })) }
  }
  return {
    name: meta.name,
    multi: meta.multi,
    pieceLength: meta.pieceLength,
    aligned: true,
    files: meta.files.map((f) => ({ path: f.path, length: f.length, offset: f.firstPiece * meta.pieceLength }))
  }
}

/** A web seed as a block source of one download: a whole piece at a time from the picker. */
export class WebSeedSource implements BlockSource {
  readonly id: string
  readonly url: string
  private readonly seed: WebSeed
  private readonly torrent: Torrent
  private readonly map: PieceMap
  private running = 0
  private stopped = false
  private readonly abort = new AbortController()
  downloaded = 0

  constructor(torrent: Torrent, map: PieceMap, url: string) {
    this.torrent = torrent
    this.map = map
    this.url = url
    this.id = `webseed:${url}`
    this.seed = new WebSeed(url, webSeedLayout(map.meta))
  }

  get dropped(): boolean {
    return this.seed.state() === 'dropped'
  }

  /** Called when there may be work: keeps up to `parallel` reads in flight, whole pieces. */
  pump(): void {
    const perPiece = Math.ceil(this.map.meta.pieceLength / 16384)
    while (!this.stopped && this.running < WEBSEED_SOURCE.parallel && this.seed.state() === 'ok') {
      const blocks = this.torrent.nextBlocks(this, perPiece)
      if (blocks.length === 0) return
      const pieces = new Map<number, typeof blocks>()
      for (const b of blocks) pieces.set(b.piece, [...(pieces.get(b.piece) ?? []), b])
      for (const [piece, mine] of pieces) {
        this.running++
        void this.read(piece, mine).finally(() => {
          this.running--
          this.pump()
        })
      }
    }
  }

  private async read(piece: number, blocks: Array<{ piece: number; offset: number; length: number }>): Promise<void> {
    const start = blocks[0]!.offset
    const last = blocks[blocks.length - 1]!
    const end = last.offset + last.length
    let data: Buffer
    try {
      data = await this.seed.read(piece * this.map.meta.pieceLength + start, end - start, this.abort.signal)
    } catch {
      this.torrent.releaseBlocks(this)
      return
    }
    if (this.stopped) return
    this.downloaded += data.length
    for (const b of blocks) this.torrent.onBlock(this, b.piece, b.offset, data.subarray(b.offset - start, b.offset - start + b.length))
  }

  /** The torrent found a piece from this seed bad. */
  bad(): void {
    this.seed.reportBadPiece()
  }

  stop(): void {
    this.stopped = true
    this.abort.abort()
    this.seed.close()
    this.torrent.releaseBlocks(this)
  }
}
