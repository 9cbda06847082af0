import type { Encoder } from 'protomux'
import { DecodeError } from './primitives.js'

/**
 * One exchanged struct's codec: `encode` writes a value of ours (validated by its type and the
 * writer), `decode` reads untrusted bytes strictly (protocol.md §4.1, the flags rule of §4.2) and
 * throws only DecodeError. Each subsystem declares its codecs in its `messages.ts`.
 *
 *   const bytes = hello.encode({ name: 'Ada', bio: '', topics: [] })
 *   const back = hello.decode(bytes)
 */
export interface Codec<T> {
  encode(value: T): Buffer
  decode(bytes: Uint8Array): T
}

/**
 * A codec as a protomux (compact-encoding) encoding, for a channel's handshake or one of its
 * messages. Protomux frames every message, so the codec is given exactly that message's bytes
 * (the rest of the frame, as `c.raw` would take). A DecodeError thrown by `decode` makes protomux
 * destroy the connection with it: the stream's `error` event carries it (src/net/network.ts).
 *
 *   channel.addMessage({ encoding: muxEncoding(notify), onmessage: (n) => … })
 */
export function muxEncoding<T>(codec: Codec<T>): Encoder<T> {
  // protomux calls preencode (for the length) and then encode with the same value, synchronously:
  // the bytes are made once.
  let pending: { value: T; bytes: Buffer } | null = null
  return {
    preencode(state, value) {
      pending = { value, bytes: codec.encode(value) }
      state.end += pending.bytes.byteLength
    },
    encode(state, value) {
      const bytes = pending !== null && pending.value === value ? pending.bytes : codec.encode(value)
      pending = null
      state.buffer!.set(bytes, state.start)
      state.start += bytes.byteLength
    },
    decode(state) {
      const bytes = state.buffer!.subarray(state.start, state.end)
      state.start = state.end
      try {
        return codec.decode(bytes)
      } catch (err) {
        // protomux rethrows a TypeError or RangeError out of its safety net (a crash): whatever a
        // codec throws on a peer's bytes is that peer's bad message.
        if (err instanceof DecodeError) throw err
        throw new DecodeError(`a message could not be read (${err instanceof Error ? err.message : String(err)})`)
      }
    }
  }
}
