/**
 * The one error type Chrysalis raises on purpose. `code` is stable (tests and scripts match on
 * it); `message` is one line a person can act on: what happened, then what to do.
 *
 *   throw new ChrysalisError('IDENTITY_EXISTS', `${home} already has an identity; ...`)
 */
export type ErrorCode =
  // usage
  | 'USAGE'
  | 'BAD_ID'
  | 'BAD_REF'
  | 'BAD_INPUT'
  // the node's state
  | 'OFFLINE'
  | 'CLOSED'
  // anything else
  | 'IO'
  | 'INTERNAL'
  // identity
  | 'IDENTITY_EXISTS'
  | 'NO_IDENTITY'
  | 'HOME_NOT_EMPTY'
  | 'BAD_PHRASE'
  | 'BAD_BACKUP'
  | 'WRONG_PASSPHRASE'
  | 'NO_PASSPHRASE'
  // storage and feeds
  | 'HOME_LOCKED'
  | 'SOCKET_UNSAFE'
  | 'NOT_FOUND'
  | 'NOT_YOURS'
  | 'DELETED'
  | 'RECOVERING'
  // transfer
  | 'BAD_TORRENT'
  | 'NOTHING_TO_SHARE'
  | 'FILE_CHANGED'
  | 'NO_PEERS'
  | 'TRANSFER_FAILED'
  | 'BAD_STATE'
  // trackers and web seeds (src/transfer/discovery/)
  | 'TRACKER_FAILED'
  | 'WEBSEED_FAILED'
  | 'DHT_FAILED'
  // downloads and the filesystem
  | 'UNSAFE_PATH'
  | 'FILE_EXISTS'
  | 'DISK_FULL'

export class ChrysalisError extends Error {
  readonly code: ErrorCode
  /** Usage errors exit with 2, every other error with 1. */
  readonly exitCode: number

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'ChrysalisError'
    this.code = code
    this.exitCode = code === 'USAGE' ? 2 : 1
  }
}

export function isChrysalisError(err: unknown, code?: ErrorCode): err is ChrysalisError {
  return err instanceof ChrysalisError && (code === undefined || err.code === code)
}
