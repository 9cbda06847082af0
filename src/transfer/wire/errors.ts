/**
 * Why a peer connection ended. A peer never meets these as a person would: the engine logs the
 * code, counts it against the peer, and goes on serving others. `code` is stable (tests match
 * on it); `message` says what the peer did.
 *
 *   peer.on('close', (err) => { if (err?.code === 'MESSAGE_TOO_LONG') ban(peer) })
 */
export type WireErrorCode =
  /** A frame length above the limit for its message id (checked before buffering). */
  | 'MESSAGE_TOO_LONG'
  /** A message of the wrong length for its id, or with fields out of range. */
  | 'BAD_MESSAGE'
  /** Not a BitTorrent handshake, or the connection ended inside it. */
  | 'BAD_HANDSHAKE'
  /** The handshake names a torrent we do not serve, or not the one we asked for. */
  | 'UNKNOWN_TORRENT'
  /** BEP 52 hash messages from a peer that did not negotiate v2. */
  | 'NOT_V2'
  /** An extended message for an extension we never announced. */
  | 'BAD_EXTENSION'
  /** Nothing received for the idle timeout, or no handshake in time (handshakeMs). */
  | 'TIMEOUT'
  /** Metadata (BEP 9) that is too large, inconsistent or does not match the infohash. */
  | 'BAD_METADATA'
  /** The socket failed or closed under us. */
  | 'SOCKET'
  /** One of our own message handlers threw: a bug on our side, not the peer's fault. */
  | 'INTERNAL'
  /** The engine's choices: the peer is banned (bad data), is ourselves, is already connected, */
  | 'BANNED'
  | 'SELF'
  | 'DUPLICATE'
  /** the torrent (or the node) has as many connections as it keeps, */
  | 'TOO_MANY'
  /** or the peer floods us with requests it could not have meant. */
  | 'FLOOD'

/** Why a peer connection ended, with a stable code. */
export class WireError extends Error {
  readonly code: WireErrorCode
  constructor(code: WireErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'WireError'
    this.code = code
  }
}
