import { Duplex } from 'node:stream'
import c from 'compact-encoding'
import type Protomux from 'protomux'
import type { Channel } from 'protomux'

/**
 * The BitTorrent byte stream over a hyperswarm connection, for Chrysalis peers that only
 * hyperswarm's hole punching can reach (or that keep file traffic encrypted): one protomux
 * channel `chrysalis/bittorrent/v1` per torrent and connection, its id the 20-byte hash the
 * BitTorrent handshake carries (v1 infohash, or the truncated v2 infohash), one message type
 * carrying raw stream bytes (sent only once both sides opened the channel: protomux drops a
 * message that overtakes its channel's open). On top of it runs the standard peer wire, handshake included, so
 * the engine treats it like a TCP socket (protocol.md §15).
 *
 *   const stream = openMuxStream(mux, hash20)              // we start
 *   acceptMuxStreams(mux, (hash20, stream) => ...)          // they start
 */
export const BT_STREAM_PROTOCOL = 'chrysalis/bittorrent/v1'

/** Bytes in one channel message; larger writes are split (secretstream frames stay small). */
export const MAX_CHUNK = 64 * 1024

/** One BitTorrent peer-wire stream carried in a protomux channel of a hyperswarm connection. */
export class MuxStream extends Duplex {
  readonly id: Buffer
  private channel: Channel | null = null
  private pending: (() => void) | null = null
  private opened = false
  /** A write made before the remote opened the channel (protomux would drop it), sent on open. */
  private early: { chunk: Buffer; cb: (err?: Error | null) => void } | null = null

  constructor(id: Buffer) {
    // A deep write buffer: the peer wire writes many small messages (requests, headers) that
    // leave together as few channel messages as possible (_writev).
    super({ allowHalfOpen: false, writableHighWaterMark: 1024 * 1024 })
    this.id = id
  }

  /** Bind to a channel made by `openMuxStream`/`acceptMuxStreams`. */
  bind(channel: Channel): void {
    this.channel = channel
  }

  onMessage(data: Uint8Array): void {
    if (!this.destroyed) this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  }

  onOpen(): void {
    this.opened = true // protomux sets channel.opened only after onopen returns
    const early = this.early
    this.early = null
    if (early) this._write(early.chunk, 'binary', early.cb)
  }

  onDrain(): void {
    const cb = this.pending
    this.pending = null
    cb?.()
  }

  onClose(): void {
    this.early?.cb(new Error('the hyperswarm connection closed'))
    this.early = null
    this.onDrain()
    if (!this.destroyed) {
      this.push(null)
      this.destroy()
    }
  }

  override _read(): void {
    // Bytes arrive as channel messages; the peer wire's own requests bound how many.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const channel = this.channel
    if (channel === null || channel.closed) return cb(new Error('the hyperswarm connection closed'))
    if (!this.opened) {
      this.early = { chunk, cb }
      return
    }
    let drained = true
    for (let at = 0; at < chunk.length; at += MAX_CHUNK) drained = channel.messages[0]!.send(chunk.subarray(at, at + MAX_CHUNK))
    if (drained) cb()
    else this.pending = cb
  }

  /** Corked or queued writes leave as channel messages of up to MAX_CHUNK bytes each. */
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const parts: Buffer[] = []
    let size = 0
    const out: Buffer[] = []
    for (const { chunk } of chunks) {
      if (size + chunk.length > MAX_CHUNK && size > 0) {
        out.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size))
        parts.length = 0
        size = 0
      }
      parts.push(chunk)
      size += chunk.length
    }
    if (size > 0) out.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size))
    const all = out.length === 1 ? out[0]! : Buffer.concat(out)
    this._write(all, 'binary', cb)
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.channel?.close()
    cb()
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.channel?.close()
    this.onDrain()
    cb(err)
  }
}

function channelFor(mux: Protomux, stream: MuxStream): Channel | null {
  return mux.createChannel({
    protocol: BT_STREAM_PROTOCOL,
    id: stream.id,
    messages: [{ encoding: c.raw, onmessage: (m) => stream.onMessage(m) }],
    onopen: () => stream.onOpen(),
    onclose: () => stream.onClose(),
    ondrain: () => stream.onDrain()
  })
}

/** Open the BitTorrent stream for `hash20` on a connection; null when one is open already. */
export function openMuxStream(mux: Protomux, hash20: Buffer): MuxStream | null {
  if (hash20.length !== 20) throw new RangeError(`a BitTorrent stream id is 20 bytes, not ${hash20.length}`)
  if (mux.opened({ protocol: BT_STREAM_PROTOCOL, id: hash20 })) return null
  const stream = new MuxStream(hash20)
  const channel = channelFor(mux, stream)
  if (channel === null) return null
  stream.bind(channel)
  channel.open()
  return stream
}

/**
 * Take the streams the remote opens. `accept(hash20)` says whether we have that torrent (a
 * stream for one we do not have is never opened, so the remote sees it closed); `onStream`
 * receives each one.
 */
export function acceptMuxStreams(mux: Protomux, accept: (hash20: Buffer) => boolean, onStream: (hash20: Buffer, stream: MuxStream) => void): () => void {
  mux.pair({ protocol: BT_STREAM_PROTOCOL, id: null }, (id) => {
    if (!id || id.length !== 20 || !accept(id)) return
    const stream = openMuxStream(mux, Buffer.from(id))
    if (stream) onStream(stream.id, stream)
  })
  return () => mux.unpair({ protocol: BT_STREAM_PROTOCOL, id: null })
}
