import { ChrysalisError } from '../../errors.js'

/**
 * What went wrong talking to a tracker or a web seed, for callers that react differently to a
 * timeout (try the next tracker) and a lie (drop the source). Stable, like `code`.
 */
export type DiscoveryErrorKind =
  | 'bad-url' // not an http(s) / udp URL, or a redirect to one
  | 'timeout' // no answer before the deadline (every retransmission included)
  | 'aborted' // the caller's signal
  | 'network' // connection refused, reset, DNS
  | 'redirects' // more redirects than allowed
  | 'too-large' // a body above its cap (checked before buffering)
  | 'http-status' // an HTTP status we do not accept
  | 'malformed' // a response that breaks the spec (bencode, lengths, Content-Range)
  | 'refused' // the tracker said no: `failure reason` (HTTP) or an error packet (UDP)
  | 'no-range' // a web seed that ignores Range where we cannot slice its answer
  | 'unavailable' // a web seed backed off after failures, or dropped

/**
 * A tracker or web seed failure. `message` is one line for a person (it never contains text the
 * remote sent); `remoteMessage` is what the tracker said (`failure reason`, UDP error text):
 * untrusted, show it only through src/display.ts.
 */
export class DiscoveryError extends ChrysalisError {
  readonly kind: DiscoveryErrorKind
  readonly remoteMessage: string | null

  constructor(code: 'TRACKER_FAILED' | 'WEBSEED_FAILED', kind: DiscoveryErrorKind, message: string, opts: { cause?: unknown; remoteMessage?: string } = {}) {
    super(code, message, opts.cause === undefined ? {} : { cause: opts.cause })
    this.name = 'DiscoveryError'
    this.kind = kind
    this.remoteMessage = opts.remoteMessage ?? null
  }
}

export function isDiscoveryError(err: unknown, kind?: DiscoveryErrorKind): err is DiscoveryError {
  return err instanceof DiscoveryError && (kind === undefined || err.kind === kind)
}
