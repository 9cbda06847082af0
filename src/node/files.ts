import path from 'node:path'
import { ChrysalisError, isChrysalisError } from '../errors.js'
import { toHex } from '../identity/encoding.js'
import type { Feed, OwnFeed, StoredPost } from '../feeds/feed.js'
import { parseRef } from '../feeds/layout.js'
import type { FileRef, PostRef } from '../feeds/records.js'
import type { Network } from '../net/network.js'
import { type Metainfo, magnetOf, parseMagnet, parseTorrent, torrentBytes } from '../transfer/metainfo.js'
import type { Transfers, TransferView } from '../transfer/transfers.js'
import { torrentTopic } from '../net/topics.js'
import { targetFromHash } from '../transfer/target.js'
import { exists, writeFileAtomic } from '../fs.js'

/**
 * Files on the node: sharing (hash, publish the metadata in the own feed, seed from where the
 * file is) and fetching by post ref, magnet or infohash, with the metadata taken from the
 * author's feed when the post names one, else from peers.
 */
export interface SharedView {
  infohash: string
  infohashV1: string | null
  magnet: string
  name: string
  size: number
  pieceLength: number
  files: number
  path: string
}

export interface FetchTarget {
  infohash: Buffer
  name: string | null
  /** The post's author, whose feed holds the metadata. */
  author: Buffer | null
}

export class NodeFiles {
  private readonly transfers: Transfers
  private readonly own: OwnFeed
  private readonly feedOf: (author: Buffer) => Feed
  private readonly getPost: (ref: PostRef) => Promise<StoredPost | null>
  private readonly network: () => Network | null

  constructor(opts: {
    transfers: Transfers
    own: OwnFeed
    feedOf: (author: Buffer) => Feed
    getPost: (ref: PostRef) => Promise<StoredPost | null>
    network: () => Network | null
  }) {
    this.transfers = opts.transfers
    this.own = opts.own
    this.feedOf = opts.feedOf
    this.getPost = opts.getPost
    this.network = opts.network
  }

  /** Hash a file or directory, publish its metadata in the own feed, and seed it. */
  async share(input: string, opts: { hybrid?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<SharedView> {
    const { meta } = await this.transfers.share(input, opts)
    await this.own.putTorrent(meta.infohash, torrentBytes(meta))
    return sharedView(meta, path.resolve(input))
  }

  async attachment(input: string, opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<FileRef> {
    const shared = await this.share(input, opts)
    return { infohash: Buffer.from(shared.infohash, 'hex'), name: shared.name, size: shared.size }
  }

  /** What a fetch argument names: a post's attachments, a magnet, or an infohash. */
  async resolve(target: string): Promise<FetchTarget[]> {
    const parsed = parseFetchTarget(target)
    if ('infohash' in parsed) return [parsed]
    const ref = parsed.ref
    const post = await this.getPost(ref)
    if (!post) throw new ChrysalisError('NOT_FOUND', 'that post is not available here or from reachable peers; follow its author and sync, then try again')
    if (post.record.attachments.length === 0) throw new ChrysalisError('NOT_FOUND', 'that post has no attachments to fetch')
    return post.record.attachments.map((a) => ({ infohash: a.infohash, name: a.name, author: ref.author }))
  }

  /** The metadata of a torrent: ours, else its author's feed (verified against the infohash). */
  async metainfo(t: FetchTarget): Promise<Metainfo | null> {
    const known = this.transfers.metadata(t.infohash)
    if (known) return known
    const feeds = [this.own, ...(t.author ? [this.feedOf(t.author)] : [])]
    for (const feed of feeds) {
      const raw = await feed.torrent(t.infohash)
      if (!raw) continue
      try {
        return parseTorrent(raw, { infohash: t.infohash })
      } catch (err) {
        if (!isChrysalisError(err, 'BAD_TORRENT')) throw err
        feed.skip(`torrent ${toHex(t.infohash).slice(0, 16)}: ${err.message}`)
      }
    }
    return null
  }

  /** Fetch into `out` (all files, or those under `files`); resolves once verified and complete. */
  async fetch(t: FetchTarget, opts: { out: string; files?: string[] }): Promise<TransferView> {
    const network = this.network()
    if (!network) throw new ChrysalisError('BAD_INPUT', 'the node is not online; call online() first')
    // The author is a likely seeder: connect directly, beside the torrent's topic.
    if (t.author) network.joinPeer(t.author)
    try {
      const meta = await this.metainfo(t)
      return await this.transfers.fetch({ ...targetFromHash(t.infohash), name: t.name, meta }, { out: opts.out, files: opts.files })
    } finally {
      if (t.author) network.leavePeer(t.author)
    }
  }

  /**
   * Fetch everything a post ref, magnet or infohash names into `out`; `onStart` hears each
   * torrent's infohash once it is under way (its progress is then in list()).
   */
  async fetchAll(target: string, opts: { out: string; onStart?: (infohash: string) => void }): Promise<TransferView[]> {
    const done: TransferView[] = []
    for (const t of await this.resolve(target)) {
      opts.onStart?.(toHex(t.infohash))
      done.push(await this.fetch(t, { out: opts.out }))
    }
    return done
  }

  /** The magnet link of a torrent whose metadata this node has. */
  async magnet(infohash: string): Promise<string> {
    const meta = await this.metainfo({ infohash: parseInfohash(infohash), name: null, author: null })
    if (!meta) throw new ChrysalisError('NOT_FOUND', `no metadata for ${infohash.slice(0, 16)}… here yet; wait until the fetch has started`)
    return magnetOf(meta)
  }

  /** Write the standard .torrent of a torrent to `file` (never over an existing file). */
  async exportTorrent(infohash: string, file: string): Promise<string> {
    const bytes = await this.torrentFile(parseInfohash(infohash))
    if (await exists(file)) throw new ChrysalisError('BAD_INPUT', `${file} already exists; choose another file`)
    await writeFileAtomic(file, bytes, 0o644)
    return file
  }

  /** How many peers announce a torrent now (have it, or part of it): one DHT lookup. */
  async availability(infohash: string, timeoutMs = 3000): Promise<number> {
    const network = this.network()
    if (!network) return 0
    return network.countAnnouncers(torrentTopic(parseInfohash(infohash)), Date.now() + timeoutMs)
  }

  list(): TransferView[] {
    return this.transfers.list()
  }

  /** The peers of a torrent now (by its 40- or 64-hex key, as list() names it); none when unknown. */
  peers(infohash: string): ReturnType<Transfers['peerStats']> {
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(infohash)) return []
    return this.transfers.peerStats(Buffer.from(infohash, 'hex'))
  }

  /** A standard .torrent for an infohash whose metadata this node has (or its feeds hold). */
  async torrentFile(infohash: Buffer): Promise<Buffer> {
    const meta = await this.metainfo({ infohash, name: null, author: null })
    if (!meta) throw new ChrysalisError('NOT_FOUND', `no metadata for ${toHex(infohash).slice(0, 16)}… here; fetch it first, or see \`chrysalis seeding\``)
    return torrentBytes(meta)
  }

  pause(infohash: Buffer | string): Promise<TransferView> {
    return this.transfers.pause(typeof infohash === 'string' ? parseInfohash(infohash) : infohash)
  }

  resume(infohash: Buffer | string): Promise<TransferView> {
    return this.transfers.resume(typeof infohash === 'string' ? parseInfohash(infohash) : infohash)
  }

  remove(infohash: Buffer | string): Promise<void> {
    return this.transfers.remove(typeof infohash === 'string' ? parseInfohash(infohash) : infohash)
  }
}

/** Check a fetch argument's form without touching the network. */
export function parseFetchTarget(target: string): FetchTarget | { ref: PostRef } {
  const magnet = parseMagnet(target)
  if (magnet) return { infohash: magnet.infohash, name: magnet.name, author: null }
  try {
    return { ref: parseRef(target) }
  } catch {
    throw new ChrysalisError('USAGE', `"${target.slice(0, 40)}" is not a post ref, a magnet link or a 64-hex infohash`)
  }
}

function parseInfohash(hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new ChrysalisError('USAGE', `"${hex.slice(0, 40)}" is not a 64-hex infohash`)
  return Buffer.from(hex, 'hex')
}

export function sharedView(meta: Metainfo, where: string): SharedView {
  return {
    infohash: meta.infohash.toString('hex'),
    infohashV1: meta.infohashV1?.toString('hex') ?? null,
    magnet: magnetOf(meta),
    name: meta.name,
    size: meta.totalLength,
    pieceLength: meta.pieceLength,
    files: meta.files.length,
    path: where
  }
}
