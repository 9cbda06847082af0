/** One bit per piece, most significant bit first (the BitTorrent layout). */
export class Bitfield {
  readonly size: number
  readonly bytes: Buffer
  private ones = 0

  constructor(size: number, bytes?: Uint8Array) {
    this.size = size
    this.bytes = Buffer.alloc(Math.ceil(size / 8))
    if (bytes) {
      Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, this.bytes.length)).copy(this.bytes)
      // Bits past the end are not pieces: clear them.
      if (size % 8 !== 0 && this.bytes.length > 0) this.bytes[this.bytes.length - 1]! &= (0xff << (8 - (size % 8))) & 0xff
      for (let i = 0; i < size; i++) if (this.get(i)) this.ones++
    }
  }

  get(i: number): boolean {
    return (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0
  }

  set(i: number): boolean {
    if (i < 0 || i >= this.size || this.get(i)) return false
    this.bytes[i >> 3]! |= 0x80 >> (i & 7)
    this.ones++
    return true
  }

  get count(): number {
    return this.ones
  }

  get full(): boolean {
    return this.ones === this.size
  }
}
