import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import { WireError } from './errors.js'
import { Framer, type FrameHandler } from './framer.js'
import {
  capabilities,
  decodeHandshake,
  decodeMessage,
  encode,
  encodeBlockRef,
  encodeHandshake,
  KEEP_ALIVE,
  MessageId,
  pieceHeader,
  reservedBytes,
  type Capabilities,
  type HashRef,
  type Message,
  type MessageOf,
  type MessageType,
} from './messages.js'
import { decodeExtendedHandshake, decodeMetadataMessage, encodeExtendedHandshake, encodeMetadataMessage, UT_METADATA, type ExtendedHandshake, type MetadataMessage } from './extension.js'

/**
 * One BitTorrent peer connection over any Duplex (a net.Socket, a hyperswarm stream): the
 * handshake as initiator or responder, typed sends and typed events for every message, keep-alives
 * and an idle timeout, and a protocol violation ending the connection with a WireError
 * (protocol.md §15 "Peer wire"). It knows nothing of pieces or storage: the engine drives it.
 *
 *   const peer = new PeerWire(socket, { peerId, torrent: { infohash: v1, v2: v2Truncated, pieceCount } })
 *   peer.on('unchoke', () => peer.request(0, 0, 16384))
 *   peer.on('piece', (m) => store(m.index, m.begin, m.block))
 *   peer.on('close', (err) => err && log(err.code, err.message))
 */
export interface WireTorrent {
  /** The 20-byte hash we handshake with: the v1 hash of a v1 or hybrid torrent, else the truncated v2 hash. */
  infohash: Buffer
  /** The v1 (SHA-1) infohash, when the torrent has one. */
  v1?: Buffer | null
  /** The truncated (20-byte) v2 infohash, when the torrent has one. */
  v2?: Buffer | null
  /** Pieces in the torrent, null while the metadata is unknown (bounds the bitfield). */
  pieceCount: number | null
}

export interface PeerWireOptions {
  /** Our 20-byte peer id. */
  peerId: Buffer
  /** Initiator: the torrent we connect for (our handshake goes out at once). */
  torrent?: WireTorrent
  /**
   * Responder: pick the torrent from the hash the peer sent (v1, or truncated v2 for a hybrid or
   * v2 torrent); null refuses the connection. One listener serves every torrent this way.
   */
  resolve?: (infohash: Buffer, caps: Capabilities) => WireTorrent | null
  /** Set the BEP 5 DHT bit (we answer `port`). */
  dht?: boolean
  /** Our extensions and the ids we want them sent with (BEP 10 `m`); ut_metadata is 1 by default. */
  extensions?: Record<string, number>
  /** Send a keep-alive after this long without sending anything (ms). */
  keepAliveMs?: number
  /** Give up on a peer silent this long (ms). */
  idleMs?: number
  /** Give up on a peer whose handshake has not arrived after this long (ms). */
  handshakeMs?: number
  /** How often the timers are checked (ms). */
  tickMs?: number
  /** The clock (ms), injectable for tests. */
  now?: () => number
}

export interface RemoteHandshake {
  infohash: Buffer
  peerId: Buffer
  caps: Capabilities
}

type Of<T extends MessageType> = MessageOf<T>

export interface PeerWireEvents {
  handshake: [RemoteHandshake]
  keepAlive: [Of<'keepAlive'>]
  choke: [Of<'choke'>]
  unchoke: [Of<'unchoke'>]
  interested: [Of<'interested'>]
  notInterested: [Of<'notInterested'>]
  have: [Of<'have'>]
  bitfield: [Of<'bitfield'>]
  request: [Of<'request'>]
  /** m.block may be a view of memory reused once the handlers return: copy what you keep. */
  piece: [Of<'piece'>]
  cancel: [Of<'cancel'>]
  port: [Of<'port'>]
  suggest: [Of<'suggest'>]
  haveAll: [Of<'haveAll'>]
  haveNone: [Of<'haveNone'>]
  reject: [Of<'reject'>]
  allowedFast: [Of<'allowedFast'>]
  hashRequest: [Of<'hashRequest'>]
  hashes: [Of<'hashes'>]
  hashReject: [Of<'hashReject'>]
  unknown: [Of<'unknown'>]
  /** Any extended message but the handshake and ut_metadata (already decoded below). */
  extended: [Of<'extended'>]
  extendedHandshake: [ExtendedHandshake]
  metadata: [MetadataMessage]
  /** The socket can take more after write() returned false. */
  drain: []
  /** Once: null for an orderly end, else why. */
  close: [WireError | null]
}

export const DEFAULTS = {
  keepAliveMs: 60_000,
  idleMs: 150_000,
  handshakeMs: 30_000,
  tickMs: 5_000
} as const

const FAST_IDS = new Set<number>([MessageId.suggest, MessageId.haveAll, MessageId.haveNone, MessageId.reject, MessageId.allowedFast])
const HASH_IDS = new Set<number>([MessageId.hashRequest, MessageId.hashes, MessageId.hashReject])

/** One BitTorrent peer connection: the handshake, typed messages both ways, timeouts; no pieces, no storage. */
export class PeerWire extends EventEmitter<PeerWireEvents> implements FrameHandler {
  readonly socket: Duplex
  /** Set once the peer's handshake has been accepted. */
  remote: RemoteHandshake | null = null
  torrent: WireTorrent | null
  /** The peer's extended handshake, once received. */
  remoteExtended: ExtendedHandshake | null = null
  /** BEP 52: the peer may exchange hash messages with us. */
  v2 = false
  destroyed = false
  /** Why the connection ended (null: orderly, or not ended). */
  error: WireError | null = null
  readonly localExtensions: Map<string, number>
  private readonly opts: PeerWireOptions
  private readonly framer: Framer
  private readonly now: () => number
  private readonly timer: NodeJS.Timeout
  private lastReceived: number
  private readonly started: number
  private lastSent: number
  private sentHandshake = false
  private sawHaves = false
  private sawOther = false
  private readonly utMetadataId: number

  constructor(socket: Duplex, opts: PeerWireOptions) {
    super()
    if (opts.peerId.length !== 20) throw new RangeError('a peer id is 20 bytes')
    if (!opts.torrent === !opts.resolve) throw new RangeError('PeerWire needs either torrent (initiator) or resolve (responder)')
    this.socket = socket
    this.opts = opts
    this.torrent = opts.torrent ?? null
    this.localExtensions = new Map(Object.entries(opts.extensions ?? { [UT_METADATA]: 1 }))
    this.utMetadataId = this.localExtensions.get(UT_METADATA) ?? 0
    this.now = opts.now ?? Date.now
    this.started = this.lastReceived = this.lastSent = this.now()
    this.framer = new Framer(this, { pieceCount: this.torrent?.pieceCount ?? null })
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('close', this.onEnd)
    socket.on('error', this.onError)
    socket.on('drain', this.onDrain)
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? DEFAULTS.tickMs)
    this.timer.unref()
    if (this.torrent) this.sendHandshake(this.torrent)
  }

  /** False while the socket's buffer is over its high-water mark: wait for 'drain'. */
  get writable(): boolean {
    return !this.destroyed && !(this.socket as Duplex & { writableNeedDrain?: boolean }).writableNeedDrain
  }

  /** Tell the decoder how many pieces the torrent has (after fetching the metadata). */
  setPieceCount(n: number): void {
    if (this.torrent) this.torrent.pieceCount = n
    this.framer.ctx = { pieceCount: n }
  }

  /** The id the peer wants for an extension (its `m`), 0 when it does not support it. */
  remoteExtension(name: string): number {
    return this.remoteExtended?.m.get(name) ?? 0
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  onHandshake(bytes: Buffer): void {
    const h = decodeHandshake(bytes)
    const caps = capabilities(h.reserved)
    const infohash = Buffer.from(h.infohash)
    let t = this.torrent
    if (t) {
      if (!infohash.equals(t.infohash) && !(t.v1 && infohash.equals(t.v1)) && !(t.v2 && infohash.equals(t.v2))) {
        throw new WireError('UNKNOWN_TORRENT', `the peer answered for torrent ${infohash.toString('hex')}, not ${t.infohash.toString('hex')}`)
      }
    } else {
      t = this.opts.resolve!(infohash, caps)
      if (!t) throw new WireError('UNKNOWN_TORRENT', `the peer asked for torrent ${infohash.toString('hex')}, which we do not serve`)
      // BEP 52 upgrade path: a peer offering v2 for a hybrid gets our answer with the truncated v2
      // hash, the only way libtorrent (as initiator) counts us as a v2 peer and asks us for hashes.
      this.torrent = { ...t, infohash: caps.v2 && t.v2 ? t.v2 : infohash }
      this.framer.ctx = { pieceCount: t.pieceCount }
    }
    this.v2 = !!t.v2 && (infohash.equals(t.v2) || caps.v2)
    this.remote = { infohash, peerId: Buffer.from(h.peerId), caps }
    if (!this.sentHandshake) this.sendHandshake(this.torrent!)
    this.emit('handshake', this.remote)
  }

  onFrame(id: number, payload: Buffer): void {
    const caps = this.remote!.caps
    if (FAST_IDS.has(id) && !caps.fast) throw new WireError('BAD_MESSAGE', `fast-extension message ${id} from a peer that did not announce BEP 6`)
    if (HASH_IDS.has(id) && !this.v2) throw new WireError('NOT_V2', `hash message ${id} from a peer that did not negotiate BitTorrent v2`)
    const msg = decodeMessage(id, payload, this.framer.ctx)
    switch (msg.type) {
      case 'bitfield':
      case 'haveAll':
      case 'haveNone':
        // BEP 3 / BEP 6: at most one, before any other message but the extension protocol's.
        if (this.sawHaves || this.sawOther) throw new WireError('BAD_MESSAGE', `a ${msg.type} after the first messages`)
        this.sawHaves = true
        break
      case 'keepAlive':
      case 'port':
        break
      case 'extended':
        this.onExtended(msg)
        return
      default:
        this.sawOther = true
    }
    // Each event carries the message of its own type; TypeScript cannot correlate the two here.
    ;(this.emit as (event: MessageType, msg: Message) => boolean)(msg.type, msg)
  }

  private onExtended(msg: Of<'extended'>): void {
    if (!this.remote!.caps.extended) throw new WireError('BAD_EXTENSION', 'an extended message from a peer that did not announce BEP 10')
    if (msg.ext === 0) {
      this.remoteExtended = decodeExtendedHandshake(msg.payload)
      this.emit('extendedHandshake', this.remoteExtended)
      return
    }
    if (msg.ext === this.utMetadataId) {
      this.emit('metadata', decodeMetadataMessage(msg.payload))
      return
    }
    for (const id of this.localExtensions.values()) {
      if (id === msg.ext) {
        this.emit('extended', msg)
        return
      }
    }
    throw new WireError('BAD_EXTENSION', `an extended message with id ${msg.ext}, which we never announced`)
  }

  /**
   * Bytes read into memory that is reused once this returns (a socket made with `onread`, fed
   * here instead of through 'data'): what must outlive the call is copied.
   */
  received(chunk: Buffer): void {
    if (!this.destroyed) this.read(chunk, true)
  }

  // Bound once per connection (arrow properties), so no closure is made per chunk.
  private readonly onData = (chunk: Buffer): void => {
    this.read(chunk, false)
  }

  private read(chunk: Buffer, borrowed: boolean): void {
    this.lastReceived = this.now()
    // Whatever the handlers send in answer to this chunk (pieces for its requests, requests for
    // its pieces) leaves in one writev instead of one syscall per message.
    this.socket.cork()
    try {
      this.framer.push(chunk, borrowed)
      this.socket.uncork()
    } catch (err) {
      this.socket.uncork()
      // The codec throws only WireErrors; anything else came from one of our own handlers.
      this.destroy(err instanceof WireError ? err : new WireError('INTERNAL', `a message handler failed: ${(err as Error).message}`, { cause: err }))
    }
  }

  private readonly onEnd = (): void => {
    if (this.destroyed) return
    if (!this.remote || this.framer.inHandshake) this.destroy(new WireError('BAD_HANDSHAKE', 'the connection ended inside the handshake'))
    else this.destroy(null)
  }

  private readonly onError = (err: Error): void => {
    this.destroy(new WireError('SOCKET', `connection failed: ${err.message}`, { cause: err }))
  }

  private readonly onDrain = (): void => {
    this.emit('drain')
  }

  private tick(): void {
    if (this.destroyed) return
    const now = this.now()
    if (!this.remote) {
      const limit = this.opts.handshakeMs ?? DEFAULTS.handshakeMs
      if (now - this.started >= limit) this.destroy(new WireError('TIMEOUT', `no handshake within ${limit} ms`))
      return
    }
    const idle = this.opts.idleMs ?? DEFAULTS.idleMs
    if (now - this.lastReceived >= idle) {
      this.destroy(new WireError('TIMEOUT', `the peer sent nothing for ${idle} ms`))
      return
    }
    if (now - this.lastSent >= (this.opts.keepAliveMs ?? DEFAULTS.keepAliveMs)) this.keepAlive()
  }

  /** Ends the connection; `err` says why (null: an orderly close). Emits 'close' once. */
  destroy(err: WireError | null = null): void {
    if (this.destroyed) return
    this.destroyed = true
    this.error = err
    this.framer.stop()
    clearInterval(this.timer)
    this.socket.off('data', this.onData)
    this.socket.off('drain', this.onDrain)
    // Errors after this point (a reset racing the destroy) have nowhere to go.
    this.socket.on('error', noop)
    this.socket.destroy()
    this.emit('close', err)
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  private sendHandshake(t: WireTorrent): void {
    this.sentHandshake = true
    const reserved = reservedBytes({ extended: true, fast: true, dht: this.opts.dht === true, v2: !!t.v2 })
    this.write(encodeHandshake({ reserved, infohash: t.infohash, peerId: this.opts.peerId }))
  }

  private write(buf: Buffer): boolean {
    if (this.destroyed) return false
    this.lastSent = this.now()
    return this.socket.write(buf)
  }

  private ready(): void {
    if (!this.remote) throw new Error('PeerWire: a message before the handshake completed')
  }

  private hashCheck(): void {
    this.ready()
    if (!this.v2) throw new Error('PeerWire: hash messages need a v2 peer')
  }

  keepAlive(): boolean {
    return this.write(KEEP_ALIVE)
  }

  choke(): boolean {
    return this.simple('choke')
  }

  unchoke(): boolean {
    return this.simple('unchoke')
  }

  interested(): boolean {
    return this.simple('interested')
  }

  notInterested(): boolean {
    return this.simple('notInterested')
  }

  haveAll(): boolean {
    return this.simple('haveAll')
  }

  haveNone(): boolean {
    return this.simple('haveNone')
  }

  private simple(type: 'choke' | 'unchoke' | 'interested' | 'notInterested' | 'haveAll' | 'haveNone'): boolean {
    this.ready()
    return this.write(encode({ type }))
  }

  have(index: number): boolean {
    this.ready()
    return this.write(encode({ type: 'have', index }))
  }

  suggest(index: number): boolean {
    this.ready()
    return this.write(encode({ type: 'suggest', index }))
  }

  allowedFast(index: number): boolean {
    this.ready()
    return this.write(encode({ type: 'allowedFast', index }))
  }

  bitfield(bits: Buffer): boolean {
    this.ready()
    return this.write(encode({ type: 'bitfield', bits }))
  }

  request(index: number, begin: number, length: number): boolean {
    this.ready()
    return this.write(encodeBlockRef(MessageId.request, index, begin, length))
  }

  cancel(index: number, begin: number, length: number): boolean {
    this.ready()
    return this.write(encodeBlockRef(MessageId.cancel, index, begin, length))
  }

  reject(index: number, begin: number, length: number): boolean {
    this.ready()
    return this.write(encodeBlockRef(MessageId.reject, index, begin, length))
  }

  /**
   * Sends a block: the 13-byte header and the data as two writes in one cork, no copy. `written`
   * (only on a socket whose write takes a callback, as net.Socket's does) is called once the
   * socket is done with `block`, sent or failed.
   */
  piece(index: number, begin: number, block: Buffer, written?: () => void): boolean {
    this.ready()
    if (this.destroyed) return false
    this.lastSent = this.now()
    this.socket.cork()
    this.socket.write(pieceHeader(index, begin, block.length))
    const ok = written ? this.socket.write(block, () => written()) : this.socket.write(block)
    this.socket.uncork()
    return ok
  }

  port(port: number): boolean {
    this.ready()
    return this.write(encode({ type: 'port', port }))
  }

  extendedHandshake(h: Partial<ExtendedHandshake> = {}): boolean {
    this.ready()
    return this.extended(0, encodeExtendedHandshake({ ...h, m: h.m ?? this.localExtensions }))
  }

  /** An extended message to the peer, with the id the peer chose for it. */
  extended(ext: number, payload: Buffer): boolean {
    this.ready()
    return this.write(encode({ type: 'extended', ext, payload }))
  }

  /** A ut_metadata message; false (nothing sent) when the peer does not support ut_metadata. */
  metadata(msg: MetadataMessage): boolean {
    const id = this.remoteExtension(UT_METADATA)
    if (id === 0) return false
    return this.extended(id, encodeMetadataMessage(msg))
  }

  hashRequest(ref: HashRef): boolean {
    this.hashCheck()
    return this.write(encode({ ...ref, type: 'hashRequest' }))
  }

  hashes(ref: HashRef, hashes: Buffer): boolean {
    this.hashCheck()
    return this.write(encode({ ...ref, type: 'hashes', hashes }))
  }

  hashReject(ref: HashRef): boolean {
    this.hashCheck()
    return this.write(encode({ ...ref, type: 'hashReject' }))
  }
}

function noop(): void {}
