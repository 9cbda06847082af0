import crypto from 'node:crypto'

/**
 * The BEP 52 merkle tree: SHA-256 over 16 KiB blocks, the short last block hashed as it is,
 * interior node = SHA-256(left ‖ right), leaves past the end = 32 zero bytes up to the next power
 * of two. Bulk hashing uses node:crypto (4× faster than libsodium's SHA-256 here).
 *
 *   const leaves = blockHashes(piece)                      // one hash per 16 KiB block
 *   const root = subtreeRoot(leaves, blocksPerPiece)       // a piece-layer entry
 */
export const BLOCK = 16 * 1024
export const HASH = 32

export function sha256(data: Uint8Array): Buffer {
  return crypto.hash('sha256', data, 'buffer')
}

const ZERO = Buffer.alloc(HASH)
const padCache: Buffer[] = [ZERO]

/** Root of an all-zero subtree with 2^level leaves (level 0: 32 zero bytes). */
export function padHash(level: number): Buffer {
  while (padCache.length <= level) {
    const below = padCache[padCache.length - 1]!
    padCache.push(sha256(Buffer.concat([below, below])))
  }
  return padCache[level]!
}

export function log2(n: number): number {
  return 31 - Math.clz32(n)
}

export function nextPow2(n: number): number {
  if (n <= 1) return 1
  return 2 ** Math.ceil(Math.log2(n))
}

/** Hashes of each 16 KiB block of `data` (the last may be short). */
export function blockHashes(data: Uint8Array): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < data.byteLength; at += BLOCK) out.push(sha256(data.subarray(at, Math.min(at + BLOCK, data.byteLength))))
  return out
}

/**
 * Root over `nodes` padded to `width` nodes (a power of two ≥ nodes.length) with all-zero subtrees
 * whose nodes sit `level` levels above the leaves.
 */
export function subtreeRoot(nodes: Buffer[], width: number, level = 0): Buffer {
  if (nodes.length > width) throw new RangeError(`${nodes.length} nodes do not fit a tree of width ${width}`)
  let layer = nodes
  let w = width
  let lvl = level
  if (layer.length === 0) return padHash(lvl + log2(w))
  while (w > 1) {
    const next: Buffer[] = []
    const pad = padHash(lvl)
    for (let i = 0; i < layer.length; i += 2) {
      const right = i + 1 < layer.length ? layer[i + 1]! : pad
      next.push(sha256(Buffer.concat([layer[i]!, right], HASH * 2)))
    }
    layer = next
    w /= 2
    lvl++
  }
  return layer[0]!
}

/** Blocks per piece for a piece length. */
export function blocksPerPiece(pieceLength: number): number {
  return pieceLength / BLOCK
}

/**
 * The hash a piece must have: for a file of at most one piece, its `pieces root` (tree padded to
 * the next power of two of its block count); otherwise its piece-layer entry (tree of
 * pieceLength/16 KiB leaves, the last piece's missing blocks as zero leaves).
 */
export function pieceRoot(data: Uint8Array, pieceLength: number, fileLength: number): Buffer {
  const leaves = blockHashes(data)
  const width = fileLength <= pieceLength ? nextPow2(Math.max(1, leaves.length)) : blocksPerPiece(pieceLength)
  return subtreeRoot(leaves, width)
}

/** The file's `pieces root` from its piece layer (files larger than one piece). */
export function rootFromLayer(layer: Buffer[], pieceLength: number): Buffer {
  return subtreeRoot(layer, nextPow2(layer.length), log2(blocksPerPiece(pieceLength)))
}

/** Split a concatenated piece layer into 32-byte hashes. */
export function splitLayer(bytes: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < bytes.length; at += HASH) out.push(bytes.subarray(at, at + HASH))
  return out
}
