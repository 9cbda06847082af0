import fs from 'node:fs'
import path from 'node:path'
import { ChrysalisError, isChrysalisError } from '../errors.js'
import { toHex } from '../identity/encoding.js'
import type { StoredPost } from '../feeds/feed.js'
import { parseRef } from '../feeds/layout.js'
import type { FileRef, PostRef } from '../feeds/records.js'
import type { Network } from '../net/network.js'
import { type Metainfo, type TorrentExtras, LIMITS, inspectTorrent, parseTorrent, torrentBytes } from '../transfer/metainfo.js'
import { type MagnetPeer, createMagnet, magnetOf, readMagnet } from '../transfer/magnet.js'
import type { Transfers, TransferView } from '../transfer/transfers.js'
import { torrentTopic } from '../net/topics.js'
import { type TorrentTarget, targetFromHash, targetFromMagnet, targetFromMeta, targetKey } from '../transfer/target.js'
import { infohashShaped, isBase32Hash, parseInfohash } from './infohash.js'
import { exists, writeFileAtomic } from '../fs.js'
import type { FeedSet } from './feed-set.js'

/**
 * Files on the node: sharing (hash, publish the metadata in the own feed, seed from where the
 * file is) and fetching by post ref, magnet, .torrent file or infohash, with the metadata taken
 * from the .torrent, else the author's feed when the post names one, else from peers.
 *
 *   const [t] = await node.files.resolve('magnet:?xt=urn:btih:…', { peers: [{ host, port }] })
 *   const view = await node.files.fetch(t, { out })
 */
export interface SharedView {
  /** The key: the v2 infohash (64 hex). */
  infohash: string
  infohashV1: string | null
  /** Both xt (btih and btmh for a hybrid), dn, and tr for the configured trackers. */
  magnet: string
  name: string
  size: number
  pieceLength: number
  files: number
  path: string
}

export interface FetchTarget {
  /** The key the torrent is kept under: its v2 infohash when known, else its v1 infohash. */
  infohash: Buffer
  name: string | null
  /** The post's author, whose feed holds the metadata. */
  author: Buffer | null
  /** Everything known of the torrent (hashes, metadata, trackers, web seeds, peers); default: targetFromHash(infohash). */
  target?: TorrentTarget
}

/** What a fetch argument names, by its form alone (nothing read, nothing fetched). */
export type FetchArg = { kind: 'torrent'; target: TorrentTarget } | { kind: 'file'; file: string } | { kind: 'ref'; ref: PostRef }

/**
 * The node's torrents, as the CLI and TUI see them: what they share and fetch, by the arguments
 * people give (post refs, magnets, .torrent files, infohashes), as JSON-ready views.
 */
export class NodeFiles {
  private readonly transfers: Transfers
  private readonly feeds: FeedSet
  private readonly presence: { readonly network: Network | null }
  private readonly findPost: (ref: PostRef) => Promise<StoredPost | null>

  constructor(deps: {
    transfers: Transfers
    feeds: FeedSet
    /** Where the network is, once online. */
    presence: { readonly network: Network | null }
    /** A post from here, else from the network. */
    findPost: (ref: PostRef) => Promise<StoredPost | null>
  }) {
    this.transfers = deps.transfers
    this.feeds = deps.feeds
    this.presence = deps.presence
    this.findPost = deps.findPost
  }

  /**
   * Hash a file or directory, publish its metadata in the own feed, and seed it: a hybrid torrent
   * (v1 + v2, so v1-only clients can join, as qBittorrent and libtorrent make) unless
   * `hybrid: false`. `trackers` go into the magnet.
   */
  async share(input: string, opts: { hybrid?: boolean; trackers?: string[]; onProgress?: (done: number, total: number) => void } = {}): Promise<SharedView> {
    const { meta } = await this.transfers.share(input, { hybrid: opts.hybrid ?? true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) })
    await this.feeds.own.putTorrent(meta.infohash, torrentBytes(meta))
    return sharedView(meta, path.resolve(input), opts.trackers)
  }

  /** A file this node shares already (`share` gave its view), as a post attachment. */
  sharedAttachment(a: { infohash: string; name: string }): FileRef {
    const infohash = Buffer.from(a.infohash, 'hex')
    const meta = infohash.byteLength === 32 ? this.transfers.metadata(infohash) : null
    if (!meta) throw new ChrysalisError('NOT_FOUND', `${a.name} is not shared by this node; attach it again`)
    return { infohash, name: meta.name, size: meta.totalLength }
  }

  async attachment(input: string, opts: { hybrid?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<FileRef> {
    const shared = await this.share(input, opts)
    return { infohash: Buffer.from(shared.infohash, 'hex'), name: shared.name, size: shared.size }
  }

  /**
   * What a fetch argument names: a post's attachments, a magnet (v1, v2, hybrid), a .torrent file,
   * or a 40-hex v1 / 64-hex v2 infohash. `peers` (--peer) are added to each torrent's own.
   * `resolvePath` makes a .torrent path absolute (a routed command's working directory).
   */
  async resolve(text: string, opts: { peers?: MagnetPeer[]; resolvePath?: (p: string) => string } = {}): Promise<FetchTarget[]> {
    const arg = parseFetchTarget(text, opts.resolvePath)
    const peers = opts.peers ?? []
    if (arg.kind === 'torrent') return [this.known(withPeers(arg.target, peers), null)]
    if (arg.kind === 'file') {
      const { meta, extras } = await readTorrentFile(arg.file)
      return [this.known(withPeers(targetFromMeta(meta, extras), peers), null)]
    }
    const ref = arg.ref
    const post = await this.findPost(ref)
    if (!post) throw new ChrysalisError('NOT_FOUND', 'that post is not available here or from reachable peers; follow its author and sync, then try again')
    if (post.record.attachments.length === 0) throw new ChrysalisError('NOT_FOUND', 'that post has no attachments to fetch')
    return post.record.attachments.map((a) => this.known(withPeers({ ...targetFromHash(a.infohash), name: a.name }, peers), ref.author))
  }

  /**
   * A target as this node knows it: a v1 hash of a hybrid it already has becomes that torrent
   * (kept under its v2 hash), with its metadata.
   */
  private known(target: TorrentTarget, author: Buffer | null): FetchTarget {
    let t = target
    if (!t.v2 && t.v1) {
      const hex = t.v1.toString('hex')
      const v1Of = (v: TransferView): string | null | undefined =>
        (v as { infohashV1?: string | null }).infohashV1 ?? (v.infohash.length === 64 ? this.transfers.metadata(Buffer.from(v.infohash, 'hex'))?.infohashV1?.toString('hex') : null)
      const same = this.transfers.list().find((v) => v1Of(v) === hex)
      if (same && same.infohash.length === 64) t = { ...t, v2: Buffer.from(same.infohash, 'hex') }
    }
    const infohash = targetKey(t)
    if (!t.meta) {
      const meta = this.transfers.metadata(infohash)
      if (meta) t = { ...t, meta }
    }
    return { infohash, name: t.meta?.name ?? t.name, author, target: t }
  }

  /** The metadata of a torrent: the target's own, ours, else its author's feed (verified against the infohash). */
  async metainfo(t: FetchTarget): Promise<Metainfo | null> {
    if (t.target?.meta) return t.target.meta
    const known = this.transfers.metadata(t.infohash)
    if (known) return known
    if (t.infohash.length !== 32) return null // feeds keep torrents under their v2 infohash
    const feeds = [this.feeds.own, ...(t.author ? [this.feeds.of(t.author)] : [])]
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
    const network = this.presence.network
    if (!network) throw new ChrysalisError('OFFLINE', 'the node is not online; call online() first')
    // The author is a likely seeder: connect directly, beside the torrent's topic.
    if (t.author) network.joinPeer(t.author)
    try {
      const meta = await this.metainfo(t)
      const target = t.target ?? { ...targetFromHash(t.infohash), name: t.name }
      // Metadata checked against the key names the other hash too (a hybrid's v1: more peers to find).
      const v1 = target.v1 ?? meta?.infohashV1 ?? null
      return await this.transfers.fetch({ ...target, v1, meta }, { out: opts.out, ...(opts.files ? { files: opts.files } : {}) })
    } finally {
      if (t.author) network.leavePeer(t.author)
    }
  }

  /**
   * Fetch everything a post ref, magnet, .torrent or infohash names into `out`; `onStart` hears
   * each torrent's key once it is under way (its progress is then in list()).
   */
  async fetchAll(target: string, opts: { out: string; onStart?: (infohash: string) => void }): Promise<TransferView[]> {
    const done: TransferView[] = []
    for (const t of await this.resolve(target)) {
      opts.onStart?.(toHex(t.infohash))
      done.push(await this.fetch(t, { out: opts.out }))
    }
    return done
  }

  /**
   * The magnet link of a torrent (40 or 64 hex), with `trackers` as tr: every infohash when this
   * node has its metadata; else, given the `name` a post says, one made from the hash and name.
   */
  async magnet(infohash: string, opts: { trackers?: string[]; name?: string } = {}): Promise<string> {
    const hash = parseInfohash(infohash)
    const meta = await this.metainfo(this.known(targetFromHash(hash), null))
    if (meta) return magnetOf(meta, opts.trackers ? { trackers: opts.trackers } : {})
    if (opts.name !== undefined) return createMagnet({ ...(hash.length === 20 ? { infohashV1: hash } : { infohashV2: hash }), name: opts.name, ...(opts.trackers ? { trackers: opts.trackers } : {}) })
    throw new ChrysalisError('NOT_FOUND', `no metadata for ${infohash.slice(0, 16)}… here yet; wait until the fetch has started`)
  }

  /**
   * Write the standard .torrent of a torrent to `file`, whole or not at all (its folder made when
   * missing); never over an existing file unless `force`.
   */
  async exportTorrent(infohash: string | Buffer, file: string, opts: { force?: boolean } = {}): Promise<string> {
    const bytes = await this.torrentFile(typeof infohash === 'string' ? parseInfohash(infohash) : infohash)
    if (opts.force !== true && (await exists(file))) throw new ChrysalisError('FILE_EXISTS', `${file} already exists; choose another file or add --force to replace it`)
    await fs.promises.mkdir(path.dirname(file), { recursive: true })
    await writeFileAtomic(file, bytes, 0o644)
    return file
  }

  /** How many peers announce a torrent now (have it, or part of it): one DHT lookup. */
  async availability(infohash: string, timeoutMs = 3000): Promise<number> {
    const network = this.presence.network
    if (!network) return 0
    return network.countAnnouncers(torrentTopic(this.keyOf(parseInfohash(infohash))), Date.now() + timeoutMs)
  }

  list(): TransferView[] {
    return this.transfers.list()
  }

  /** One torrent's view now (either infohash), or null when this node does not hold it. */
  get(infohash: Buffer | string): TransferView | null {
    return this.transfers.get(this.keyOf(infohash))
  }

  /** The peers of a torrent now (by its 40- or 64-hex key, as list() names it); none when unknown. */
  peers(infohash: string): ReturnType<Transfers['peerStats']> {
    if (!infohashShaped(infohash)) return []
    try {
      return this.transfers.peerStats(this.keyOf(infohash))
    } catch (err) {
      if (isChrysalisError(err, 'USAGE')) return [] // shaped like one, but no infohash
      throw err
    }
  }

  /** A standard .torrent for an infohash (v1 or v2) whose metadata this node has (or its feeds hold). */
  async torrentFile(infohash: Buffer): Promise<Buffer> {
    const meta = await this.metainfo(this.known(targetFromHash(infohash), null))
    if (!meta) throw new ChrysalisError('NOT_FOUND', `no metadata for ${toHex(infohash).slice(0, 16)}… here; fetch it first, or see \`chrysalis seeding\``)
    return torrentBytes(meta)
  }

  pause(infohash: Buffer | string): Promise<TransferView> {
    return this.transfers.pause(this.keyOf(infohash))
  }

  resume(infohash: Buffer | string): Promise<TransferView> {
    return this.transfers.resume(this.keyOf(infohash))
  }

  remove(infohash: Buffer | string): Promise<void> {
    return this.transfers.remove(this.keyOf(infohash))
  }

  /** The key a torrent is kept under, from either of its infohashes. */
  private keyOf(infohash: Buffer | string): Buffer {
    return this.known(targetFromHash(typeof infohash === 'string' ? parseInfohash(infohash) : infohash), null).infohash
  }
}

/**
 * The one parser of fetch arguments, by form, touching neither disk nor network: a magnet (v1,
 * v2 or hybrid, with tr, ws and x.pe), a 40-hex v1 or 64-hex v2 infohash, a post ref, or a
 * .torrent file (a name ending in .torrent, or an existing file). Refuses anything else with
 * one line (USAGE: exit 2).
 */
export function parseFetchTarget(text: string, resolvePath: (p: string) => string = (p) => path.resolve(p)): FetchArg {
  if (/^magnet:/i.test(text)) {
    try {
      return { kind: 'torrent', target: targetFromMagnet(readMagnet(text)) }
    } catch (err) {
      if (isChrysalisError(err, 'BAD_INPUT')) throw new ChrysalisError('USAGE', `${err.message}; give a magnet link as a BitTorrent client or \`chrysalis share\` prints it`)
      throw err
    }
  }
  // A file named like a base32 hash is that file.
  if (infohashShaped(text) && !(isBase32Hash(text) && isFile(resolvePath(text)))) return { kind: 'torrent', target: targetFromHash(parseInfohash(text)) }
  let ref: PostRef | null = null
  try {
    ref = parseRef(text)
  } catch {
    // not a ref: maybe a file
  }
  if (ref) return { kind: 'ref', ref }
  const file = resolvePath(text)
  if (/\.torrent$/i.test(text) || isFile(file)) return { kind: 'file', file }
  throw new ChrysalisError('USAGE', `"${text.slice(0, 40)}" is not a post ref, a magnet link, a .torrent file or an infohash (40 or 64 hex digits)`)
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** A target with more peers to try (deduplicated). */
function withPeers(t: TorrentTarget, peers: MagnetPeer[]): TorrentTarget {
  const all = [...t.peers]
  for (const p of peers) if (!all.some((q) => q.host === p.host && q.port === p.port)) all.push(p)
  return { ...t, peers: all }
}

/**
 * Read a .torrent from disk for fetching: at most LIMITS.torrentBytes whatever its size says or
 * becomes while read; any kind libtorrent loads (inspectTorrent). Errors name the file; `forms`
 * says what the command takes instead, when there is no such file.
 */
export async function readTorrentFile(file: string, opts: { forms?: string } = {}): Promise<{ meta: Metainfo; extras: TorrentExtras }> {
  const forms = opts.forms ?? 'the path of a .torrent file, a magnet link, an infohash or a post ref'
  const fh = await fs.promises.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new ChrysalisError('NOT_FOUND', `${file}: no such file; give ${forms}`)
    throw new ChrysalisError('IO', `${file} cannot be read (${err.code ?? err.message}); check the path and its permissions`)
  })
  let bytes: Buffer
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw new ChrysalisError('BAD_INPUT', `${file} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}; give the path of a .torrent file`)
    if (st.size > LIMITS.torrentBytes) throw new ChrysalisError('BAD_TORRENT', `${file} is ${st.size} bytes, above the ${LIMITS.torrentBytes}-byte limit for a .torrent; it was refused`)
    // One byte more than the size said: a file that grows while read is noticed, never read unbounded.
    const buf = Buffer.alloc(st.size + 1)
    let got = 0
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    if (got > st.size) throw new ChrysalisError('BAD_TORRENT', `${file} changed while it was read; try again once it is complete`)
    bytes = buf.subarray(0, got)
  } finally {
    await fh.close()
  }
  try {
    return inspectTorrent(bytes)
  } catch (err) {
    if (err instanceof ChrysalisError) throw new ChrysalisError(err.code, `${file}: ${err.message}`)
    throw err
  }
}

export function sharedView(meta: Metainfo, where: string, trackers: string[] = []): SharedView {
  return {
    infohash: meta.infohash.toString('hex'),
    infohashV1: meta.infohashV1?.toString('hex') ?? null,
    magnet: magnetOf(meta, trackers.length ? { trackers } : {}),
    name: meta.name,
    size: meta.totalLength,
    pieceLength: meta.pieceLength,
    files: meta.files.length,
    path: where
  }
}
