import { BLOCK, HASH, log2, nextPow2, padHash, rootFromLayer, sha256, subtreeRoot } from './merkle.js'
import { expectedHash, fileOfPiece, type Metainfo, type TorrentFile } from './metainfo.js'
import { LIMITS as WIRE_LIMITS, uncleCount, type HashRef } from './wire/messages.js'

/**
 * BEP 52 hash messages (hash request 21, hashes 22, hash reject 23) as libtorrent 2.0.8 speaks
 * them (hash_picker.cpp, merkle_tree.cpp): checking a request, answering it from the piece layers
 * and the blocks we hold, fetching the piece layers of a torrent that came from a magnet, and
 * asking for a failed piece's block hashes. No sockets, no storage: the engine moves the bytes.
 * The rules and limits: protocol.md §15.6.
 *
 *   if (!validateHashRequest(meta, m)) peer.hashReject(m)
 *   const reply = answerHashRequest(meta, m, (piece) => store.leafHashes(piece))
 *   reply ? peer.hashes(m, reply) : peer.hashReject(m)
 *
 *   const fetcher = new LayerFetcher(meta)                  // meta from a magnet: no layers yet
 *   const ref = fetcher.next((piece) => peerBits.has(piece)) // then peer.hashRequest(ref)
 *   peer.on('hashes', (m) => { if (!fetcher.onHashes(m, m.hashes)) peer.destroy() })
 */

/** Named bounds (protocol.md §15.6); cacheBytes may be lowered (tests, small devices). */
export const HASH_LIMITS: { readonly chunk: number; readonly outstanding: number; readonly retryMs: number; cacheBytes: number } = {
  /** Piece hashes asked for at once (libtorrent's 512-piece chunks). */
  chunk: 512,
  /** Piece-layer requests in flight per torrent (libtorrent: 2 per connection). */
  outstanding: 2,
  /** A request not answered after this long may be sent again (libtorrent: min_request_interval). */
  retryMs: 3000,
  /** Trees above the piece layer kept for answering (bytes of hashes, all torrents together). */
  cacheBytes: 64 * 1024 * 1024
}

// ---------------------------------------------------------------------------------------------
// The shape of a file's tree

interface FileTree {
  file: TorrentFile
  /** Blocks (leaves) of the file; the tree has nextPow2(blocks) leaves. */
  blocks: number
  /** Layers below the root: log2(nextPow2(blocks)); valid bases are 0 … layers − 1. */
  layers: number
  /** The piece layer: log2(piece length / 16 KiB). */
  pieceLayer: number
}

const rootIndex = new WeakMap<Metainfo, Map<string, TorrentFile>>()

function fileOfRoot(meta: Metainfo, root: Uint8Array): TorrentFile | null {
  let index = rootIndex.get(meta)
  if (!index) {
    index = new Map()
    for (const f of meta.files) if (f.piecesRoot && f.length > 0 && !index.has(f.piecesRoot.toString('hex'))) index.set(f.piecesRoot.toString('hex'), f)
    rootIndex.set(meta, index)
  }
  if (root.byteLength !== HASH) return null
  return index.get(Buffer.from(root.buffer, root.byteOffset, root.byteLength).toString('hex')) ?? null
}

function treeOf(meta: Metainfo, file: TorrentFile): FileTree {
  const blocks = Math.ceil(file.length / BLOCK)
  return { file, blocks, layers: log2(nextPow2(blocks)), pieceLayer: log2(meta.pieceLength / BLOCK) }
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0
}

function u32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff
}

/**
 * A request we answer (or, for hashes received, accept): libtorrent's validate_hash_request —
 * 1 ≤ count ≤ 8192, base < layers, index + count ≤ the layer's width, proof_layers < layers − base
 * — plus BEP 52's count a power of two and index a multiple of count, for a `pieces root` of one
 * of this torrent's (non-empty) files.
 */
export function validateHashRequest(meta: Metainfo, ref: HashRef): boolean {
  if (meta.version === 'v1') return false
  const file = fileOfRoot(meta, ref.root)
  if (!file) return false
  const { base, index, count, proofLayers } = ref
  if (!u32(base) || !u32(index) || !u32(proofLayers) || !isPow2(count) || count > WIRE_LIMITS.hashCount) return false
  if (index % count !== 0) return false
  const tree = treeOf(meta, file)
  if (base >= tree.layers) return false
  const width = 2 ** (tree.layers - base)
  if (index + count > width) return false
  return proofLayers < tree.layers - base
}

// ---------------------------------------------------------------------------------------------
// Answering

/** The tree above the piece layer of one file, each level one contiguous buffer, pads implied. */
class UpperTree {
  readonly levels: Buffer[]
  readonly bytes: number
  constructor(
    readonly source: Buffer[],
    readonly pieceLayer: number
  ) {
    const levels = [Buffer.concat(source)]
    let bytes = levels[0]!.length
    while (levels[levels.length - 1]!.length > HASH) {
      const below = levels[levels.length - 1]!
      const n = below.length / HASH
      const next = Buffer.allocUnsafe(Math.ceil(n / 2) * HASH)
      const pad = padHash(pieceLayer + levels.length - 1)
      for (let i = 0; i < n; i += 2) {
        const left = below.subarray(i * HASH, i * HASH + HASH)
        const right = i + 1 < n ? below.subarray(i * HASH + HASH, i * HASH + 2 * HASH) : pad
        sha256(Buffer.concat([left, right], 2 * HASH)).copy(next, (i / 2) * HASH)
      }
      levels.push(next)
      bytes += next.length
    }
    this.levels = levels
    this.bytes = bytes
  }

  /** Node `i` of the level `level` layers above the piece layer (past the end: a pad). */
  node(level: number, i: number): Buffer {
    const row = this.levels[level]
    if (row && i * HASH < row.length) return row.subarray(i * HASH, i * HASH + HASH)
    return padHash(this.pieceLayer + level)
  }
}

/** Built trees, least recently used first, within HASH_LIMITS.cacheBytes. */
const trees = new Map<string, UpperTree>()
let treeBytes = 0

function upperTree(meta: Metainfo, file: TorrentFile, pieceLayer: number): UpperTree | null {
  const hex = file.piecesRoot!.toString('hex')
  const source = meta.layers.get(hex)
  if (!source || source.length !== file.pieceCount) return null
  const key = `${meta.infohash.toString('hex')}/${hex}`
  const cached = trees.get(key)
  if (cached) {
    trees.delete(key)
    if (cached.source === source) {
      trees.set(key, cached)
      return cached
    }
    treeBytes -= cached.bytes
  }
  const tree = new UpperTree(source, pieceLayer)
  trees.set(key, tree)
  treeBytes += tree.bytes
  for (const [k, t] of trees) {
    if (treeBytes <= HASH_LIMITS.cacheBytes || k === key) break
    trees.delete(k)
    treeBytes -= t.bytes
  }
  return tree
}

/** Forget every cached tree (tests; a node dropping all its torrents). */
export function clearHashCache(): void {
  trees.clear()
  treeBytes = 0
}

/** What the cache of built trees holds now. */
export function hashCacheStats(): { trees: number; bytes: number } {
  return { trees: trees.size, bytes: treeBytes }
}

/**
 * The levels of one piece's subtree from its leaf hashes, checked against the piece's known
 * hash; null when the leaves are unknown, malformed, or do not hash to it.
 */
function pieceLevels(meta: Metainfo, tree: FileTree, local: number, width: number, blockHashes?: (piece: number) => Buffer[] | null): Buffer[][] | null {
  const piece = tree.file.firstPiece + local
  const want = expectedHash(meta, piece)
  if (!want || !blockHashes) return null
  const leaves = blockHashes(piece)
  const real = Math.min(width, tree.blocks - local * (meta.pieceLength / BLOCK))
  if (!leaves || leaves.length !== real || leaves.some((h) => h.length !== HASH)) return null
  const levels: Buffer[][] = [[...leaves, ...Array<Buffer>(width - real).fill(padHash(0))]]
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!
    const next: Buffer[] = []
    for (let i = 0; i < below.length; i += 2) next.push(sha256(Buffer.concat([below[i]!, below[i + 1]!], 2 * HASH)))
    levels.push(next)
  }
  return levels[levels.length - 1]![0]!.equals(want.hash) ? levels : null
}

/**
 * The payload of a `hashes` reply (after its 48-byte header) to `ref`, or null: answer with a
 * hash reject. The `count` hashes of layer `base` from `index` (past the file's end: the pad
 * hash of that layer), then uncleCount(count, proofLayers) uncle hashes bottom-up, exactly as
 * libtorrent's merkle_tree::get_hashes. The piece layer and above come from `meta.layers`; the
 * layers below it from `blockHashes(piece)` (torrent-wide piece index → the 16 KiB block hashes
 * of a piece we hold and have verified, the short last block hashed as it is; null when we do
 * not hold it). A request below the piece layer must lie within one piece (libtorrent asks for
 * one piece's blocks at a time): so answering one costs at most one piece's hashes.
 */
export function answerHashRequest(meta: Metainfo, ref: HashRef, blockHashes?: (piece: number) => Buffer[] | null): Buffer | null {
  if (!validateHashRequest(meta, ref)) return null
  const tree = treeOf(meta, fileOfRoot(meta, ref.root)!)
  const { base, index, count, proofLayers } = ref
  const single = tree.file.pieceCount === 1
  // Below the piece layer, one piece's subtree (a one-piece file: its whole tree).
  const span = single ? 2 ** tree.layers : meta.pieceLength / BLOCK
  const spanLayers = log2(span)
  if (base < spanLayers && count * 2 ** base > span) return null
  let upper: UpperTree | null | undefined
  let lower: Buffer[][] | null | undefined
  const local = Math.floor((index * 2 ** base) / span)
  const node = (layer: number, i: number): Buffer | null => {
    if (layer >= spanLayers && !single) {
      upper ??= upperTree(meta, tree.file, tree.pieceLayer)
      return upper ? upper.node(layer - spanLayers, i) : null
    }
    // A node below the piece layer: in piece `local` (uncles of the range stay in its piece).
    if (local >= tree.file.pieceCount) return padHash(layer)
    lower ??= pieceLevels(meta, tree, local, span, blockHashes)
    return lower ? lower[layer]![i - local * (span >> layer)]! : null
  }
  const out: Buffer[] = []
  for (let i = index; i < index + count; i++) {
    const h = node(base, i)
    if (!h) return null
    out.push(h)
  }
  // get_hashes climbs proof_layers parents from the first node and, once above the subtree the
  // count nodes span, adds each parent's sibling: layers base + max(log2 count, 1) … base + proof_layers.
  const first = base + Math.max(log2(count), 1)
  const uncles = uncleCount(count, proofLayers)
  for (let j = 0; j < uncles; j++) {
    const layer = first + j
    const h = node(layer, (index >> (layer - base)) ^ 1)
    if (!h) return null
    out.push(h)
  }
  return Buffer.concat(out, out.length * HASH)
}

// ---------------------------------------------------------------------------------------------
// Checking hashes received

/**
 * Climb from `count` base-layer hashes with the uncles after them; the node reached and its layer.
 * Null when there are none to start a climb (count 1 with uncles: libtorrent's get_hashes leaves
 * out the base layer's sibling then, so such a reply proves nothing).
 */
function climb(ref: HashRef, hashes: Buffer): { node: Buffer; layer: number } | null {
  const { base, index, count, proofLayers } = ref
  const uncles = uncleCount(count, proofLayers)
  if (hashes.length !== (count + uncles) * HASH) return null
  const k = log2(count)
  if (k === 0 && uncles > 0) return null
  const nodes: Buffer[] = []
  for (let i = 0; i < count; i++) nodes.push(hashes.subarray(i * HASH, i * HASH + HASH))
  let node = subtreeRoot(nodes, count, base)
  let pos = index >> k
  let layer = base + k
  for (let j = 0; j < uncles; j++) {
    const uncle = hashes.subarray((count + j) * HASH, (count + j + 1) * HASH)
    node = sha256(Buffer.concat(pos & 1 ? [uncle, node] : [node, uncle], 2 * HASH))
    pos >>= 1
    layer++
  }
  return { node, layer }
}

/**
 * The request for a piece's leaf (16 KiB block) hashes, to find which block of a piece that
 * failed its check was bad: base 0, the piece's blocks (a one-piece file: its whole padded leaf
 * layer), proof layers up to the piece hash we know, so no uncle is sent. Null when the piece is
 * one block (its hash is the block's) or its file has no tree.
 */
export function blockHashRequest(meta: Metainfo, piece: number): HashRef | null {
  if (meta.version === 'v1' || !Number.isInteger(piece) || piece < 0 || piece >= meta.pieceCount) return null
  const file = fileOfPiece(meta, piece)
  if (!file.piecesRoot) return null
  const tree = treeOf(meta, file)
  if (tree.layers === 0) return null // one block: the block hash is the root
  const single = file.pieceCount === 1
  const count = single ? 2 ** tree.layers : meta.pieceLength / BLOCK
  const ref = { root: file.piecesRoot, base: 0, index: single ? 0 : (piece - file.firstPiece) * count, count, proofLayers: Math.max(0, log2(count) - 1) }
  return validateHashRequest(meta, ref) ? ref : null
}

/**
 * The leaf hashes of `piece` from a `hashes` reply to blockHashRequest(meta, piece), checked
 * against the piece's known hash: one hash per block the piece really has (the padding leaves
 * dropped), or null when the reply is not for that request or does not hash to the piece.
 */
export function checkBlockHashes(meta: Metainfo, piece: number, ref: HashRef, hashes: Buffer): Buffer[] | null {
  const want = blockHashRequest(meta, piece)
  if (!want || !want.root.equals(ref.root) || ref.base !== 0 || ref.index !== want.index || ref.count !== want.count) return null
  const expected = expectedHash(meta, piece)
  if (!expected) return null
  if (hashes.length !== (ref.count + uncleCount(ref.count, ref.proofLayers)) * HASH) return null
  const leaves: Buffer[] = []
  for (let i = 0; i < ref.count; i++) leaves.push(hashes.subarray(i * HASH, i * HASH + HASH))
  if (!subtreeRoot(leaves, ref.count).equals(expected.hash)) return null
  const real = Math.min(ref.count, Math.ceil(expected.file.length / BLOCK) - ref.index)
  return leaves.slice(0, real).map((h) => Buffer.from(h))
}

// ---------------------------------------------------------------------------------------------
// Fetching piece layers (a torrent from a magnet)

interface Chunk {
  file: LayerFile
  /** First piece of the chunk, in the file. */
  index: number
  /** Pieces asked for: 512, or the rest rounded up to a power of two (at least 2). */
  count: number
  done: boolean
}

interface LayerFile {
  file: TorrentFile
  tree: FileTree
  hashes: Array<Buffer | null>
  missing: number
  chunks: Chunk[]
}

export interface LayerFetcherOptions {
  /** Milliseconds, for the retry interval (tests inject a clock). */
  now?: () => number
}

/**
 * The piece layers a torrent from a magnet lacks (its info dictionary carries only each file's
 * `pieces root`), asked of v2 peers as libtorrent's hash_picker does: each file's piece layer in
 * chunks of 512 pieces, only chunks where the peer has a piece, with proof layers up to the
 * pieces root so every answer is checked on its own; at most HASH_LIMITS.outstanding requests in
 * flight, a chunk asked again after HASH_LIMITS.retryMs. A completed layer goes into meta.layers.
 */
export class LayerFetcher {
  private readonly files: LayerFile[] = []
  private readonly byRoot = new Map<string, LayerFile>()
  private inFlight: Array<{ chunk: Chunk; at: number }> = []
  private readonly now: () => number

  constructor(
    readonly meta: Metainfo,
    opts: LayerFetcherOptions = {}
  ) {
    this.now = opts.now ?? Date.now
    if (meta.version === 'v1') return
    for (const file of meta.files) {
      if (!file.piecesRoot || file.pieceCount <= 1) continue
      const hex = file.piecesRoot.toString('hex')
      if (meta.layers.has(hex) || this.byRoot.has(hex)) continue
      const lf: LayerFile = { file, tree: treeOf(meta, file), hashes: Array<Buffer | null>(file.pieceCount).fill(null), missing: file.pieceCount, chunks: [] }
      for (let index = 0; index < file.pieceCount; index += HASH_LIMITS.chunk) {
        const rest = file.pieceCount - index
        lf.chunks.push({ file: lf, index, count: Math.min(HASH_LIMITS.chunk, Math.max(2, nextPow2(rest))), done: false })
      }
      this.files.push(lf)
      this.byRoot.set(hex, lf)
    }
  }

  /** Every file's piece layer is known (in meta.layers). */
  get complete(): boolean {
    this.sync()
    return this.files.every((f) => f.missing === 0)
  }

  /** Layers that reached meta.layers another way (the .torrent arrived) are not asked for. */
  private sync(): void {
    for (const lf of this.files) {
      if (lf.missing === 0 || !this.meta.layers.has(lf.file.piecesRoot!.toString('hex'))) continue
      lf.missing = 0
      for (const chunk of lf.chunks) chunk.done = true
    }
  }

  /**
   * The next request to send to a v2 peer, or null (nothing this peer can answer, or enough in
   * flight). `peerHas(piece)`: the peer announced that torrent-wide piece. To keep a chunk away
   * from a peer that rejected it, answer false for its pieces.
   */
  next(peerHas: (piece: number) => boolean): HashRef | null {
    const now = this.now()
    this.sync()
    this.inFlight = this.inFlight.filter((r) => !r.chunk.done && now - r.at < HASH_LIMITS.retryMs)
    if (this.inFlight.length >= HASH_LIMITS.outstanding) return null
    for (const lf of this.files) {
      if (lf.missing === 0) continue
      for (const chunk of lf.chunks) {
        if (chunk.done || this.inFlight.some((r) => r.chunk === chunk)) continue
        const end = Math.min(chunk.index + HASH_LIMITS.chunk, lf.file.pieceCount)
        let has = false
        for (let p = chunk.index; p < end && !has; p++) has = peerHas(lf.file.firstPiece + p)
        if (!has) continue
        this.inFlight.push({ chunk, at: now })
        return this.refOf(chunk)
      }
    }
    return null
  }

  private refOf(chunk: Chunk): HashRef {
    const { tree } = chunk.file
    // Proof layers up to the root: the chunk's subtree, then an uncle per layer above it.
    return { root: chunk.file.file.piecesRoot!, base: tree.pieceLayer, index: chunk.index, count: chunk.count, proofLayers: tree.layers - tree.pieceLayer - 1 }
  }

  /**
   * A `hashes` reply (`hashes`: the payload after the header). True: the hashes climb with their
   * uncles to the file's pieces root (kept; the layer goes into meta.layers once whole), also
   * when nobody asked for them. False: they are wrong, or not a piece-layer reply that reaches
   * the root (for a file of this torrent): the sender misbehaves (libtorrent disconnects it).
   */
  onHashes(ref: HashRef, hashes: Buffer): boolean {
    const file = fileOfRoot(this.meta, ref.root)
    if (!file || file.pieceCount <= 1 || !validateHashRequest(this.meta, ref)) return false
    const tree = treeOf(this.meta, file)
    if (ref.base !== tree.pieceLayer || ref.index >= file.pieceCount) return false
    const top = climb(ref, hashes)
    if (!top || top.layer !== tree.layers || !top.node.equals(file.piecesRoot!)) return false
    const lf = this.byRoot.get(file.piecesRoot!.toString('hex'))
    if (!lf || lf.missing === 0) return true
    const end = Math.min(ref.index + ref.count, file.pieceCount)
    for (let p = ref.index; p < end; p++) {
      if (lf.hashes[p]) continue
      lf.hashes[p] = Buffer.from(hashes.subarray((p - ref.index) * HASH, (p - ref.index + 1) * HASH))
      lf.missing--
    }
    for (const chunk of lf.chunks) {
      if (chunk.done) continue
      const last = Math.min(chunk.index + HASH_LIMITS.chunk, file.pieceCount)
      let all = true
      for (let p = chunk.index; p < last && all; p++) all = lf.hashes[p] !== null
      chunk.done = all
    }
    this.forget(lf, ref)
    if (lf.missing === 0) {
      const layer = lf.hashes as Buffer[]
      // Every part was proven against the root; one more check of the whole costs little.
      if (!rootFromLayer(layer, this.meta.pieceLength).equals(file.piecesRoot!)) throw new Error('a piece layer assembled from proven parts does not match its root')
      this.meta.layers.set(file.piecesRoot!.toString('hex'), layer)
    }
    return true
  }

  /** A hash reject for one of our requests: the chunk may be asked again (of another peer) at once. */
  onReject(ref: HashRef): void {
    const lf = this.byRoot.get(ref.root.toString('hex'))
    if (lf) this.forget(lf, ref)
  }

  /** The peer a request went to is gone: the chunk may be asked again at once. */
  release(ref: HashRef): void {
    this.onReject(ref)
  }

  private forget(lf: LayerFile, ref: HashRef): void {
    const i = this.inFlight.findIndex((r) => r.chunk.file === lf && r.chunk.index === ref.index && r.chunk.count === ref.count)
    if (i >= 0) this.inFlight.splice(i, 1)
  }
}
