// The BitTorrent wire codec and framer (protocol.md §15 "Peer wire") against test/fixtures/wire.json.
import test from 'brittle'
import { WireError } from '../src/transfer/wire/errors.js'
import { Framer } from '../src/transfer/wire/framer.js'
import {
  capabilities,
  checkBitfield,
  decodeHandshake,
  decodeMessage,
  encode,
  encodeHandshake,
  LIMITS,
  MAX_FRAME,
  MessageId,
  reservedBytes,
  uncleCount,
  type Message
} from '../src/transfer/wire/messages.js'
import { decodeExtendedHandshake, decodeMetadataMessage, encodeExtendedHandshake, encodeMetadataMessage, type MetadataMessage } from '../src/transfer/wire/extension.js'
import { revive, VECTORS } from './helpers-wire.js'

const ctx = { pieceCount: VECTORS.pieceCount }

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof WireError ? err.code : `not a WireError: ${String(err)}`
  }
  return undefined
}

/** Decodes one whole frame (length prefix included). */
function decodeFrame(bytes: Buffer, c = ctx): Message {
  const len = bytes.readUInt32BE(0)
  if (len !== bytes.length - 4) throw new Error('bad vector')
  return len === 0 ? decodeMessage(-1, Buffer.alloc(0), c) : decodeMessage(bytes[4]!, bytes.subarray(5), c)
}

test('vectors: every message encodes to its bytes and decodes back', (t) => {
  const types = new Set<string>()
  for (const v of VECTORS.messages) {
    const msg = revive(v.message)
    types.add(msg.type)
    t.is(encode(msg).toString('hex'), v.hex, `encode ${v.name}`)
    t.alike(decodeFrame(Buffer.from(v.hex, 'hex')), msg, `decode ${v.name}`)
  }
  // Every id of BEP 3, 6, 10 and 52 has a vector.
  for (const name of Object.keys(MessageId)) t.ok(types.has(name), `a vector for ${name}`)
  t.ok(types.has('keepAlive') && types.has('unknown'))
})

test('vectors: handshake, reserved bits, extended handshake, ut_metadata', (t) => {
  const h = VECTORS.handshake
  const bytes = Buffer.from(h.hex, 'hex')
  const dec = decodeHandshake(bytes)
  t.is(dec.infohash.toString('hex'), h.infohash)
  t.is(dec.peerId.toString('hex'), h.peerId)
  t.alike(capabilities(dec.reserved), h.caps)
  t.alike(encodeHandshake({ reserved: reservedBytes(capabilities(dec.reserved)), infohash: dec.infohash, peerId: dec.peerId }), bytes)
  t.is(reservedBytes({ extended: true }).toString('hex'), '0000000000100000', 'BEP 10: reserved[5] & 0x10')
  t.is(reservedBytes({ fast: true }).toString('hex'), '0000000000000004', 'BEP 6: reserved[7] & 0x04')
  t.is(reservedBytes({ dht: true }).toString('hex'), '0000000000000001', 'BEP 5: reserved[7] & 0x01')
  t.is(reservedBytes({ v2: true }).toString('hex'), '0000000000000010', 'BEP 52: reserved[7] & 0x10')

  const e = VECTORS.extendedHandshake
  const ext = { m: new Map(Object.entries(e.m)), v: e.v, reqq: e.reqq, metadataSize: e.metadataSize, yourip: Buffer.from(e.yourip, 'hex'), p: e.p }
  t.is(encodeExtendedHandshake(ext).toString('hex'), e.hex)
  t.alike(decodeExtendedHandshake(Buffer.from(e.hex, 'hex')), ext)

  for (const m of VECTORS.metadata) {
    const msg = revive<MetadataMessage>(m.message)
    t.is(encodeMetadataMessage(msg).toString('hex'), m.hex)
    t.alike(decodeMetadataMessage(Buffer.from(m.hex, 'hex')), msg)
  }
})

test('decoding is strict: lengths, ranges, bitfields, hash requests', (t) => {
  const hashRef = (count: number, proof = 0, extra = 0): Buffer => {
    const b = Buffer.alloc(48 + extra)
    b.writeUInt32BE(count, 40)
    b.writeUInt32BE(proof, 44)
    return b
  }
  const cases: Array<[string, number, Buffer, { pieceCount: number | null }?]> = [
    ['choke with a payload', MessageId.choke, Buffer.alloc(1)],
    ['have of 3 bytes', MessageId.have, Buffer.alloc(3)],
    ['have past the last piece', MessageId.have, Buffer.from('00000040', 'hex')],
    ['bitfield one byte short', MessageId.bitfield, Buffer.alloc(7)],
    ['bitfield one byte long', MessageId.bitfield, Buffer.alloc(9)],
    ['bitfield with spare bits set', MessageId.bitfield, Buffer.from('ff01', 'hex'), { pieceCount: 15 }],
    ['request for 0 bytes', MessageId.request, Buffer.from('000000000000000000000000', 'hex')],
    ['request for 16 KiB + 1', MessageId.request, Buffer.from('000000000000000000004001', 'hex')],
    ['request of 11 bytes', MessageId.request, Buffer.alloc(11)],
    ['piece without data', MessageId.piece, Buffer.alloc(8)],
    ['piece of 16 KiB + 1', MessageId.piece, Buffer.alloc(8 + 16385)],
    ['port of 3 bytes', MessageId.port, Buffer.alloc(3)],
    ['extended without its id', MessageId.extended, Buffer.alloc(0)],
    ['hash request for 0 hashes', MessageId.hashRequest, hashRef(0)],
    ['hash request for 8193 hashes', MessageId.hashRequest, hashRef(8193)],
    ['hash request of 47 bytes', MessageId.hashRequest, Buffer.alloc(47)],
    ['hash request with 33 proof layers', MessageId.hashRequest, hashRef(4, 33)],
    ['hashes one hash short', MessageId.hashes, hashRef(4, 0, 32 * 3)],
    ['hashes without the uncle', MessageId.hashes, hashRef(4, 2, 32 * 4)],
    ['hash reject of 49 bytes', MessageId.hashReject, Buffer.alloc(49)],
    ['unknown id above its bound', 99, Buffer.alloc(LIMITS.unknownBytes + 1)]
  ]
  for (const [name, id, payload, c] of cases) t.is(code(() => decodeMessage(id, payload, c ?? ctx)), 'BAD_MESSAGE', name)
  // Before the metadata, a bitfield is only bounded; checkBitfield judges it later.
  t.is(decodeMessage(MessageId.bitfield, Buffer.alloc(9), { pieceCount: null }).type, 'bitfield')
  t.is(code(() => checkBitfield(Buffer.from('ff80', 'hex'), 9)), undefined)
  t.is(code(() => checkBitfield(Buffer.from('ffc0', 'hex'), 9)), 'BAD_MESSAGE')
  t.is(uncleCount(512, 9), 1, 'libtorrent: 512 hashes span 9 layers, proof 9 → 1 uncle')
  t.is(uncleCount(16, 3), 0)
  t.is(uncleCount(1, 2), 2)

  const ext = (s: string): string | undefined => code(() => decodeExtendedHandshake(Buffer.from(s, 'latin1')))
  t.is(ext('d1:md11:ut_metadatai1eee'), undefined)
  t.is(ext('d1:md11:ut_metadatai256eee'), 'BAD_MESSAGE', 'an extension id above 255')
  t.is(ext('d1:mi3ee'), 'BAD_MESSAGE', 'm not a dictionary')
  t.is(ext('d13:metadata_sizei12582913ee'), 'BAD_MESSAGE', 'metadata_size above 12 MiB')
  t.is(ext('d1:pi0ee'), 'BAD_MESSAGE', 'port 0')
  t.is(ext('d1:bi1e1:ai1ee'), 'BAD_MESSAGE', 'unsorted keys')
  t.is(ext('le'), 'BAD_MESSAGE', 'not a dictionary')
  t.is(ext('d1:md'), 'BAD_MESSAGE', 'truncated')
  const meta = (s: string): string | undefined => code(() => decodeMetadataMessage(Buffer.from(s, 'latin1')))
  t.is(meta('d8:msg_typei1e5:piecei0e10:total_sizei4ee' + 'inf'), 'BAD_MESSAGE', 'data shorter than total_size')
  t.is(meta('d8:msg_typei1e5:piecei0e10:total_sizei20000ee' + 'x'.repeat(16385)), 'BAD_MESSAGE', 'a piece above 16 KiB')
  t.is(meta('d8:msg_typei3e5:piecei0ee'), 'BAD_MESSAGE', 'unknown msg_type')
  t.is(meta('d8:msg_typei0e5:piecei0eeX'), 'BAD_MESSAGE', 'a request with trailing bytes')
  t.is(meta('d8:msg_typei1e5:piecei0e10:total_sizei12582913ee'), 'BAD_MESSAGE', 'total_size above 12 MiB')
})

/** The handshake and every vector message as one stream, and what the framer should deliver. */
function stream(): { bytes: Buffer; frames: Array<[number, string]> } {
  const parts = [Buffer.from(VECTORS.handshake.hex, 'hex')]
  const frames: Array<[number, string]> = [[-2, VECTORS.handshake.hex]]
  for (const v of VECTORS.messages) {
    const b = Buffer.from(v.hex, 'hex')
    parts.push(b)
    frames.push(b.length === 4 ? [-1, ''] : [b[4]!, b.subarray(5).toString('hex')])
  }
  return { bytes: Buffer.concat(parts), frames }
}

function collect(): { framer: Framer; got: Array<[number, string]>; views: Buffer[] } {
  const got: Array<[number, string]> = []
  const views: Buffer[] = []
  const framer = new Framer(
    {
      onHandshake: (b) => got.push([-2, b.toString('hex')]),
      onFrame: (id, p) => {
        got.push([id, p.toString('hex')])
        views.push(p)
      }
    },
    ctx
  )
  return { framer, got, views }
}

test('framer: the vector stream split at every byte offset, and byte by byte', (t) => {
  const { bytes, frames } = stream()
  let ok = 0
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { framer, got } = collect()
    framer.push(bytes.subarray(0, cut))
    framer.push(bytes.subarray(cut))
    if (JSON.stringify(got) === JSON.stringify(frames)) ok++
    else t.fail(`split at ${cut}`)
  }
  t.is(ok, bytes.length + 1, `${ok} splits`)
  const { framer, got } = collect()
  for (let i = 0; i < bytes.length; i++) framer.push(bytes.subarray(i, i + 1))
  t.alike(got, frames, 'one byte at a time')
  t.is(framer.buffered, 0)
})

test('framer: borrowed chunks (one read buffer, overwritten after each push) at every split: the same frames; all but pieces copied', (t) => {
  const { bytes, frames } = stream()
  const read = Buffer.alloc(bytes.length)
  const feed = (framer: Framer, part: Buffer): void => {
    part.copy(read)
    framer.push(read.subarray(0, part.length), true)
    read.fill(0xee)
  }
  const check = (got: Array<[number, string]>, views: Buffer[]): boolean => {
    if (JSON.stringify(got) !== JSON.stringify(frames)) return false
    // What a handler may keep (all but piece payloads) still holds its bytes after the reuse.
    const framesGot = got.filter(([id]) => id !== -2)
    return views.every((v, k) => framesGot[k]![0] === MessageId.piece || v.toString('hex') === framesGot[k]![1])
  }
  let ok = 0
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { framer, got, views } = collect()
    feed(framer, bytes.subarray(0, cut))
    feed(framer, bytes.subarray(cut))
    if (check(got, views)) ok++
    else t.fail(`split at ${cut}`)
  }
  t.is(ok, bytes.length + 1, `${ok} splits`)
  const { framer, got, views } = collect()
  for (let i = 0; i < bytes.length; i++) feed(framer, bytes.subarray(i, i + 1))
  t.ok(check(got, views), 'one byte at a time')
  t.is(framer.buffered, 0)
})

test('framer: a piece lying in one chunk is handed out without a copy', (t) => {
  const { bytes } = stream()
  const { framer, got, views } = collect()
  const chunk = Buffer.from(bytes)
  framer.push(chunk)
  const i = got.findIndex(([id, p]) => id === MessageId.piece && p.length === 2 * (8 + 16384))
  t.ok(i > 0)
  t.is(views[i - 1]!.buffer, chunk.buffer, 'the payload is a view into the socket chunk')
})

test('framer: an oversized length is refused after only its 4 bytes', (t) => {
  const hs = Buffer.from(VECTORS.handshake.hex, 'hex')
  const { framer, got } = collect()
  framer.push(hs)
  t.is(code(() => framer.push(Buffer.from('7fffffff', 'hex'))), 'MESSAGE_TOO_LONG')
  t.is(got.length, 1, 'only the handshake delivered')
  const len = Buffer.alloc(4)
  len.writeUInt32BE(MAX_FRAME + 1)
  const b = collect()
  b.framer.push(hs)
  t.is(code(() => b.framer.push(len)), 'MESSAGE_TOO_LONG', 'MAX_FRAME + 1')
  // Per id, known from the fifth byte: a choke of 2 bytes, a piece of 16 KiB + 1, a bitfield too long for 64 pieces.
  for (const [name, frameLen, id] of [
    ['choke', 2, MessageId.choke],
    ['piece', 9 + 16385, MessageId.piece],
    ['bitfield', 10, MessageId.bitfield],
    ['hash request', 50, MessageId.hashRequest]
  ] as const) {
    const c = collect()
    c.framer.push(hs)
    const head = Buffer.alloc(5)
    head.writeUInt32BE(frameLen)
    head[4] = id
    t.is(code(() => c.framer.push(head)), 'MESSAGE_TOO_LONG', name)
  }
})

test('framer: a stranger is refused at its first byte, a wrong protocol string at the 20th', (t) => {
  t.is(code(() => collect().framer.push(Buffer.from('GET / HTTP/1.1\r\n'))), 'BAD_HANDSHAKE')
  const wrong = Buffer.from('\x13BitTorrent protocoX', 'latin1')
  const c = collect()
  t.is(code(() => c.framer.push(wrong.subarray(0, 19))), undefined)
  t.is(code(() => c.framer.push(wrong.subarray(19))), 'BAD_HANDSHAKE')
})
