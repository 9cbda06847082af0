import { WireError } from './errors.js'
import { checkProtocol, HANDSHAKE_BYTES, MAX_FRAME, maxFrame, MessageId, type DecodeContext } from './messages.js'

/**
 * Cuts a byte stream into BitTorrent frames (protocol.md §15 "Peer wire"): first the 68-byte handshake,
 * then `<u32 length><id><payload>`. Fed socket chunks as they come; keeps the chunks in a short
 * list instead of concatenating, and hands each payload out as a view when it lies in one chunk
 * (a 16 KiB piece block is not copied). A frame length above MAX_FRAME is refused as soon as its
 * 4 bytes are read, and above its id's bound (maxFrame) as soon as the id byte is, so a peer
 * cannot make us buffer a frame we would refuse.
 *
 *   const framer = new Framer(handler, { pieceCount: 64 }, true)
 *   socket.on('data', (chunk) => framer.push(chunk))   // throws WireError on a violation
 */
export interface FrameHandler {
  /** The 68 handshake bytes (the protocol string already checked). */
  onHandshake(bytes: Buffer): void
  /** One frame: its id (-1 for a keep-alive) and payload (the bytes after the id). */
  onFrame(id: number, payload: Buffer): void
}

const EMPTY = Buffer.alloc(0)
/** A borrowed chunk's rest up to this size waits in a buffer the framer keeps (a piece frame fits). */
const CARRY = 32 * 1024

const enum State {
  Protocol,
  Handshake,
  Length,
  Id,
  Payload
}

/** Cuts a peer's byte stream into its handshake and frames, each length bounded before it is read. */
export class Framer {
  /** Bounds the bitfield's length; set it once the torrent is known. */
  ctx: DecodeContext
  private readonly handler: FrameHandler
  private chunks: Buffer[] = []
  /** Read offset into chunks[0]. */
  private head = 0
  private avail = 0
  private state: State
  private length = 0
  private id = 0
  private stopped = false
  /** Where a piece payload spanning chunks is gathered. */
  private scratch = Buffer.alloc(0)
  /** A borrowed chunk is being read (see push). */
  private borrowing = false
  /** Where a borrowed chunk's rest waits for the next one. */
  private carry: Buffer | null = null

  constructor(handler: FrameHandler, ctx: DecodeContext, handshake = true) {
    this.handler = handler
    this.ctx = ctx
    this.state = handshake ? State.Protocol : State.Length
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.avail
  }

  /** True while the handshake has not been read completely. */
  get inHandshake(): boolean {
    return this.state === State.Protocol || this.state === State.Handshake
  }

  /** Stops delivering frames (the connection is going away); later pushes are ignored. */
  stop(): void {
    this.stopped = true
    this.chunks = []
    this.avail = 0
  }

  /**
   * Feed a chunk of the stream. `borrowed`: the chunk's memory is reused once push returns (a
   * socket read with `onread`): only piece payloads are handed out as views of it (their handler
   * copies them at once), everything else is copied, and so are the bytes of a frame not yet
   * complete.
   */
  push(chunk: Buffer, borrowed = false): void {
    if (this.stopped || chunk.length === 0) return
    if (!borrowed) {
      this.run(chunk)
      return
    }
    this.borrowing = true
    try {
      this.run(chunk)
    } finally {
      this.borrowing = false
      this.keep(chunk)
    }
  }

  /** After a borrowed chunk: what is left of it, copied (into the carry buffer when it fits). */
  private keep(chunk: Buffer): void {
    const last = this.chunks.length - 1
    if (last < 0 || this.chunks[last] !== chunk) return
    if (last === 0) {
      // The chunk is all there is: the carry buffer is not in use.
      const rest = chunk.length - this.head
      this.carry ??= Buffer.allocUnsafeSlow(CARRY)
      this.chunks[0] = rest <= CARRY ? this.carry.subarray(0, chunk.copy(this.carry, 0, this.head)) : Buffer.from(chunk.subarray(this.head))
      this.head = 0
    } else {
      this.chunks[last] = Buffer.from(chunk)
    }
  }

  private run(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.avail += chunk.length
    while (!this.stopped) {
      switch (this.state) {
        case State.Protocol:
          if (this.avail < 20) {
            // Refuse a stranger at its first byte rather than after 20.
            if (this.chunks[0]![this.head] !== 19) checkProtocol(this.chunks[0]!.subarray(this.head))
            return
          }
          checkProtocol(this.peek(20))
          this.state = State.Handshake
          break
        case State.Handshake:
          if (this.avail < HANDSHAKE_BYTES) return
          this.state = State.Length
          this.handler.onHandshake(this.owned(this.take(HANDSHAKE_BYTES)))
          break
        case State.Length: {
          if (this.avail < 4) return
          const len = this.u32()
          if (len === 0) {
            this.handler.onFrame(-1, EMPTY)
            break
          }
          if (len > MAX_FRAME) throw new WireError('MESSAGE_TOO_LONG', `a frame of ${len} bytes is above the ${MAX_FRAME}-byte limit`)
          this.length = len
          this.state = State.Id
          break
        }
        case State.Id: {
          if (this.avail < 1) return
          const id = this.byte()
          const max = maxFrame(id, this.ctx)
          if (this.length > max) throw new WireError('MESSAGE_TOO_LONG', `a frame of ${this.length} bytes for message id ${id} is above its ${max}-byte limit`)
          this.id = id
          this.state = State.Payload
          break
        }
        case State.Payload: {
          if (this.avail < this.length - 1) return
          const n = this.length - 1
          // A piece's payload is the handler's only during the call (peer.ts): one that spans
          // chunks is gathered into the same scratch buffer every time, not a fresh one.
          const payload = n === 0 ? EMPTY : this.take(n, this.id === MessageId.piece ? this.scratchOf(n) : null)
          this.state = State.Length
          this.handler.onFrame(this.id, this.id === MessageId.piece ? payload : this.owned(payload))
          break
        }
      }
    }
  }

  /** `bytes` itself, or a copy while a borrowed chunk is being read. */
  private owned(bytes: Buffer): Buffer {
    return this.borrowing && bytes.length > 0 ? Buffer.from(bytes) : bytes
  }

  private scratchOf(n: number): Buffer {
    if (this.scratch.length < n) this.scratch = Buffer.allocUnsafeSlow(n)
    return this.scratch.subarray(0, n)
  }

  /** The next n bytes, consumed: a view when they lie in one chunk, else copied (into `into`). */
  private take(n: number, into: Buffer | null = null): Buffer {
    const first = this.chunks[0]!
    this.avail -= n
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n)
      this.head += n
      if (this.head === first.length) {
        this.chunks.shift()
        this.head = 0
      }
      return out
    }
    const out = into ?? Buffer.allocUnsafe(n)
    let at = 0
    while (at < n) {
      const c = this.chunks[0]!
      const k = Math.min(n - at, c.length - this.head)
      c.copy(out, at, this.head, this.head + k)
      at += k
      this.head += k
      if (this.head === c.length) {
        this.chunks.shift()
        this.head = 0
      }
    }
    return out
  }

  /** The next n bytes without consuming them (small n only). */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n)
    const out = Buffer.allocUnsafe(n)
    let at = 0
    for (let i = 0, off = this.head; at < n; i++, off = 0) {
      const c = this.chunks[i]!
      at += c.copy(out, at, off, off + Math.min(n - at, c.length - off))
    }
    return out
  }

  /** Consumes n bytes known to be available, without making a view of them. */
  private skip(n: number): void {
    this.avail -= n
    while (n > 0) {
      const c = this.chunks[0]!
      const k = Math.min(n, c.length - this.head)
      n -= k
      this.head += k
      if (this.head === c.length) {
        this.chunks.shift()
        this.head = 0
      }
    }
  }

  private byte(): number {
    const v = this.chunks[0]![this.head]!
    this.skip(1)
    return v
  }

  private u32(): number {
    const first = this.chunks[0]!
    if (first.length - this.head >= 4) {
      const v = first.readUInt32BE(this.head)
      this.skip(4)
      return v
    }
    return ((this.byte() << 24) >>> 0) + (this.byte() << 16) + (this.byte() << 8) + this.byte()
  }
}
