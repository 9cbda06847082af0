import crypto from 'node:crypto'
import { WireError } from './errors.js'
import { UT_METADATA, type ExtendedHandshake, type MetadataMessage } from './extension.js'
import { LIMITS } from './messages.js'
import type { PeerWire } from './peer.js'

/**
 * BEP 9 ut_metadata on a PeerWire: fetch a torrent's info dictionary from a peer in 16 KiB
 * pieces, bounded by the size the peer announced (≤ LIMITS.metadataBytes, as a whole .torrent),
 * and verified against every infohash the caller knows (SHA-1 for v1, SHA-256 for v2, the
 * truncated 20-byte v2 hash accepted as a prefix); and serve ours (protocol.md §15 "Peer wire").
 *
 *   const info = await fetchMetadata(peer, { v1: magnet.v1, v2: magnet.v2 })
 *   serveMetadata(peer, meta.info)
 */
export interface MetadataCheck {
  /** 20-byte v1 infohash: SHA-1 of the info dictionary must equal it. */
  v1?: Buffer | null
  /** v2 infohash, 32 bytes or truncated to 20: SHA-256 of the info dictionary must start with it. */
  v2?: Buffer | null
}

/** True when `info` matches every hash given (at least one must be). */
export function verifyMetadata(info: Uint8Array, check: MetadataCheck): boolean {
  if (!check.v1 && !check.v2) throw new RangeError('verifyMetadata needs a v1 or a v2 infohash')
  if (check.v1 && !crypto.hash('sha1', info, 'buffer').equals(check.v1)) return false
  if (check.v2) {
    const h = crypto.hash('sha256', info, 'buffer')
    if (check.v2.length !== 20 && check.v2.length !== 32) return false
    if (!h.subarray(0, check.v2.length).equals(check.v2)) return false
  }
  return true
}

export interface FetchMetadataOptions extends MetadataCheck {
  /** Largest metadata accepted (defaults to LIMITS.metadataBytes, never above it). */
  maxBytes?: number
  /** Pieces asked for at once. */
  window?: number
}

/**
 * Asks the peer for the metadata and resolves with the verified info dictionary. Rejects with a
 * WireError: BAD_METADATA when the peer has none, rejects, or sends pieces that are inconsistent
 * or do not hash to the infohash (the peer is then disconnected: it lied); the peer's own close
 * error when it goes away first.
 */
export function fetchMetadata(peer: PeerWire, opts: FetchMetadataOptions): Promise<Buffer> {
  const max = Math.min(opts.maxBytes ?? LIMITS.metadataBytes, LIMITS.metadataBytes)
  const window = opts.window ?? 4
  if (peer.destroyed) return Promise.reject(peer.error ?? new WireError('SOCKET', 'the peer is already disconnected'))
  return new Promise<Buffer>((resolve, reject) => {
    let out: Buffer | null = null
    let got: Uint8Array = new Uint8Array(0)
    let pieces = 0
    let next = 0
    let done = 0
    const finish = (err: WireError | null, lied = false): void => {
      peer.off('extendedHandshake', onHandshake)
      peer.off('metadata', onMetadata)
      peer.off('close', onClose)
      if (err) {
        if (lied) peer.destroy(err)
        reject(err)
      } else resolve(out!)
    }
    const ask = (): void => {
      while (next < pieces && next - done < window) peer.metadata({ msgType: 'request', piece: next++ })
    }
    const onHandshake = (h: ExtendedHandshake): void => {
      if (out) return
      const size = h.metadataSize
      if (!h.m.get(UT_METADATA) || size === undefined) return finish(new WireError('BAD_METADATA', 'the peer does not offer the metadata (no ut_metadata or metadata_size)'))
      if (size > max) return finish(new WireError('BAD_METADATA', `the peer announces ${size} bytes of metadata, above the ${max}-byte limit`), true)
      out = Buffer.alloc(size)
      pieces = Math.ceil(size / LIMITS.metadataPiece)
      got = new Uint8Array(pieces)
      ask()
    }
    const onMetadata = (m: MetadataMessage): void => {
      if (!out) return
      if (m.msgType === 'reject') return finish(new WireError('BAD_METADATA', `the peer refused metadata piece ${m.piece}`))
      if (m.msgType !== 'data') return
      if (m.totalSize !== out.length || m.piece >= pieces || got[m.piece] === 1 || m.piece >= next) {
        return finish(new WireError('BAD_METADATA', `metadata piece ${m.piece} we did not ask for, or of another size`), true)
      }
      m.data.copy(out, m.piece * LIMITS.metadataPiece)
      got[m.piece] = 1
      if (++done < pieces) return ask()
      if (!verifyMetadata(out, opts)) return finish(new WireError('BAD_METADATA', 'the metadata does not match the infohash'), true)
      finish(null)
    }
    const onClose = (err: WireError | null): void => {
      finish(err ?? new WireError('SOCKET', 'the peer closed the connection before sending the metadata'))
    }
    peer.on('extendedHandshake', onHandshake)
    peer.on('metadata', onMetadata)
    peer.on('close', onClose)
    if (peer.remoteExtended) onHandshake(peer.remoteExtended)
  })
}

/** Answers the peer's ut_metadata requests from `info` (announce metadata_size = info.length). */
export function serveMetadata(peer: PeerWire, info: Buffer): void {
  peer.on('metadata', (m) => {
    if (m.msgType === 'request') answerMetadata(peer, info, m.piece)
  })
}

/** One ut_metadata request answered: that 16 KiB piece of `info`, or a reject (no info, or no such piece). */
export function answerMetadata(peer: PeerWire, info: Buffer | null, piece: number): void {
  if (!info || piece * LIMITS.metadataPiece >= info.length) {
    peer.metadata({ msgType: 'reject', piece })
    return
  }
  const at = piece * LIMITS.metadataPiece
  peer.metadata({ msgType: 'data', piece, totalSize: info.length, data: info.subarray(at, Math.min(at + LIMITS.metadataPiece, info.length)) })
}
