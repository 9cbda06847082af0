import * as b4a from '../bytes.js'

/**
 * Strict byte readers and writers for everything Chrysalis encodes itself: feed records
 * (src/feeds) and channel messages (src/net). The integer format is compact-encoding's `uint`
 * (protocol.md §4.1): < 0xfd in one byte, else a 0xfd/0xfe/0xff marker and a 2/4/8-byte
 * little-endian value. The reader rejects non-minimal integers, reads past the end, invalid
 * UTF-8 and every length or count above the caller's bound, before allocating anything; a
 * struct ends by the flags rule of protocol.md §4.2 (`end`).
 */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DecodeError'
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Reads one struct from bytes, bounded: every read checks what is left, and `end` checks nothing is. */
export class Reader {
  readonly buffer: Uint8Array
  offset = 0

  constructor(buffer: Uint8Array) {
    this.buffer = buffer
  }

  get remaining(): number {
    return this.buffer.byteLength - this.offset
  }

  uint(max = Number.MAX_SAFE_INTEGER): number {
    const a = this.byte()
    let n: number
    if (a < 0xfd) n = a
    else if (a === 0xfd) n = this.le(2, 0xfd)
    else if (a === 0xfe) n = this.le(4, 0x10000)
    else n = this.le(8, 0x100000000)
    if (n > max) throw new DecodeError(`integer ${n} is above its limit ${max}`)
    return n
  }

  fixed(n: number): Buffer {
    if (this.remaining < n) throw new DecodeError('unexpected end of record')
    const out = b4a.from(this.buffer.subarray(this.offset, this.offset + n))
    this.offset += n
    return out
  }

  string(maxBytes: number): string {
    const len = this.uint(maxBytes)
    if (this.remaining < len) throw new DecodeError('unexpected end of record')
    const bytes = this.buffer.subarray(this.offset, this.offset + len)
    this.offset += len
    try {
      return utf8.decode(bytes)
    } catch {
      throw new DecodeError('text is not valid UTF-8')
    }
  }

  count(max: number): number {
    return this.uint(max)
  }

  /**
   * The end of a struct whose flags field held `flags`, of which this reader knows the bits in
   * `known` (protocol.md §4.2). A set bit outside `known` announces fields appended by a later
   * revision: whatever follows the known fields is skipped. With no such bit, nothing may follow.
   */
  end(flags: number, known: number): void {
    if (this.remaining !== 0 && !hasUnknownBits(flags, known)) throw new DecodeError(`${this.remaining} unexpected trailing bytes`)
    this.offset = this.buffer.byteLength
  }

  /**
   * The optional fields of a struct that other fields follow (a FileRef inside a post), for the
   * flag bits outside `known`: such a field cannot be found by position, so each is written as
   * `len:uint` and `len` bytes, in the order of its bit (protocol.md §4.2). Skips them; fields of
   * known bits are the caller's to read, before or after as their bits place them.
   */
  skipOptional(flags: number, known: number): void {
    for (let rest = flags, bit = 0; rest > 0; rest = Math.floor(rest / 2), bit++) {
      if (rest % 2 === 0 || (bit < 31 && (known & (2 ** bit)) !== 0)) continue
      const len = this.uint()
      if (len > this.remaining) throw new DecodeError(`an optional field of ${len} bytes is longer than the ${this.remaining} bytes left`)
      this.offset += len
    }
  }

  private byte(): number {
    if (this.remaining < 1) throw new DecodeError('unexpected end of record')
    return this.buffer[this.offset++]!
  }

  private le(bytes: number, min: number): number {
    if (this.remaining < bytes) throw new DecodeError('unexpected end of record')
    let n = 0
    for (let i = bytes - 1; i >= 0; i--) n = n * 256 + this.buffer[this.offset + i]!
    this.offset += bytes
    if (n < min) throw new DecodeError('integer is not minimally encoded')
    if (n > Number.MAX_SAFE_INTEGER) throw new DecodeError('integer is too large')
    return n
  }
}

/**
 * Whether `flags` (any uint up to 2^53 − 1) has a bit outside `known` (a bit mask below 2^31).
 * JavaScript's `&` keeps only the low 32 bits, so `flags & ~known` alone would miss bits 32…52.
 */
export function hasUnknownBits(flags: number, known: number): boolean {
  return flags !== (flags & known)
}

/** Builds one struct into bytes: the writing half of Reader, field for field. */
export class Writer {
  private chunks: Uint8Array[] = []

  uint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not an unsigned integer: ${n}`)
    if (n < 0xfd) this.chunks.push(Uint8Array.of(n))
    else if (n <= 0xffff) this.chunks.push(Uint8Array.of(0xfd), le(n, 2))
    else if (n <= 0xffffffff) this.chunks.push(Uint8Array.of(0xfe), le(n, 4))
    else this.chunks.push(Uint8Array.of(0xff), le(n, 8))
    return this
  }

  fixed(bytes: Uint8Array, n: number): this {
    if (bytes.byteLength !== n) throw new RangeError(`expected ${n} bytes, got ${bytes.byteLength}`)
    this.chunks.push(bytes)
    return this
  }

  string(s: string): this {
    const bytes = b4a.from(s, 'utf-8')
    this.uint(bytes.byteLength)
    this.chunks.push(bytes)
    return this
  }

  finish(): Buffer {
    return b4a.concat(this.chunks)
  }
}

function le(n: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) {
    out[i] = n % 256
    n = Math.floor(n / 256)
  }
  return out
}

export function utf8Length(s: string): number {
  return b4a.byteLength(s)
}
