// src/codec: the flags rule in the reader, and codecs as protomux encodings.
import test from 'brittle'
import c from 'compact-encoding'
import { DecodeError, Reader, Writer, hasUnknownBits } from '../src/codec/primitives.js'
import { muxEncoding, type Codec } from '../src/codec/codec.js'

test('hasUnknownBits: every bit up to 2^52, not only the low 32', (t) => {
  t.absent(hasUnknownBits(0, 0))
  t.absent(hasUnknownBits(0b101, 0b111))
  t.ok(hasUnknownBits(0b1000, 0b111))
  t.ok(hasUnknownBits(2 ** 31, 0b111), 'bit 31')
  t.ok(hasUnknownBits(2 ** 32, 0b111), 'bit 32 (2^32 & ~7 is 0 in JavaScript)')
  t.ok(hasUnknownBits(2 ** 52 + 1, 1), 'bit 52')
})

test('Reader.end: trailing bytes only after an unknown flag bit, and then skipped', (t) => {
  const bytes = new Writer().uint(5).uint(6).finish()
  const known = new Reader(bytes)
  known.uint()
  t.exception(() => known.end(0b1, 0b1), /1 unexpected trailing bytes/, 'every flag known: refused')
  const later = new Reader(bytes)
  later.uint()
  later.end(0b10, 0b1)
  t.is(later.remaining, 0, 'an unknown bit: the rest is skipped')
  const exact = new Reader(bytes)
  exact.uint()
  exact.uint()
  exact.end(0, 0)
  t.pass('no trailing bytes, no flags: fine')
})

interface Pair {
  a: number
  b: string
}
const pair: Codec<Pair> = {
  encode: (p) => new Writer().uint(p.a).string(p.b).finish(),
  decode(bytes) {
    const r = new Reader(bytes)
    const out = { a: r.uint(), b: r.string(16) }
    r.end(0, 0)
    return out
  }
}

test('muxEncoding: a codec in compact-encoding state, as protomux frames it', (t) => {
  const enc = muxEncoding(pair)
  const value = { a: 300, b: 'Kaypro' }
  const bytes = c.encode(enc, value)
  t.alike(bytes, pair.encode(value), 'the same bytes as the codec')
  t.alike(c.decode(enc, bytes), value)

  // In a batch, protomux hands each message as a sub-range of one buffer: decode takes exactly it.
  const framed = Buffer.concat([Buffer.from([9, 9]), bytes, Buffer.from([7])])
  const state = { buffer: framed, start: 2, end: 2 + bytes.length }
  t.alike(enc.decode(state), value)
  t.is(state.start, state.end, 'the message is consumed')

  let thrown: unknown = null
  try {
    c.decode(enc, Buffer.concat([bytes, Buffer.from([0])]))
  } catch (err) {
    thrown = err
  }
  t.ok(thrown instanceof DecodeError, 'a bad message throws DecodeError')

  // protomux would rethrow a TypeError out of its safety net and crash the process: any throw
  // while reading a peer's bytes becomes that peer's DecodeError.
  const buggy = muxEncoding({ encode: (v: { a: number; b: string }) => pair.encode(v), decode: (): never => { throw new TypeError('a slip') } })
  let slip: unknown = null
  try {
    c.decode(buggy, bytes)
  } catch (err) {
    slip = err
  }
  t.ok(slip instanceof DecodeError, 'a TypeError in a codec reaches protomux as a DecodeError')
})
