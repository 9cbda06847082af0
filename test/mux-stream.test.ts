import test from 'brittle'
import crypto from 'node:crypto'
import { once } from 'node:events'
import Protomux from 'protomux'
import { MAX_CHUNK, acceptMuxStreams, openMuxStream, type MuxStream } from '../src/transfer/mux-stream.js'
import { hyperswarmPair } from './helpers-wire.js'
import type { Test } from './helpers.js'

/** Two protomux ends over a real hyperswarm connection on a loopback testnet. */
async function pair(t: Test): Promise<[Protomux, Protomux]> {
  const [ca, cb] = await hyperswarmPair(t)
  return [Protomux.from(ca), Protomux.from(cb)]
}

function collect(stream: MuxStream, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let n = 0
    stream.on('data', (d: Buffer) => {
      parts.push(d)
      n += d.length
      if (n >= bytes) resolve(Buffer.concat(parts))
    })
    stream.on('error', reject)
  })
}

test('mux stream: bytes both ways over a protomux channel, large writes split, order kept', async (t) => {
  const [a, b] = await pair(t)
  const hash = crypto.randomBytes(20)
  const accepted = new Promise<MuxStream>((resolve) => acceptMuxStreams(b, (id) => id.equals(hash), (_id, s) => resolve(s)))
  const mine = openMuxStream(a, hash)!
  t.ok(mine, 'opened')
  t.is(openMuxStream(a, hash), null, 'one stream per torrent and connection')
  const data = crypto.randomBytes(3 * MAX_CHUNK + 1234)
  mine.write(data.subarray(0, 100)) // written before the remote accepted: held, then delivered
  const theirs = await accepted
  const got = collect(theirs, data.length)
  mine.write(data.subarray(100))
  t.ok((await got).equals(data), 'every byte, in order')
  const back = collect(mine, 5)
  theirs.write(Buffer.from('hello'))
  t.is((await back).toString(), 'hello')
  const closed = once(theirs, 'close')
  mine.destroy()
  await closed
  t.pass('closing one end closes the other')
})

test('mux stream: a stream for a torrent we do not have is never opened; the opener sees it close', async (t) => {
  const [a, b] = await pair(t)
  let offered = 0
  acceptMuxStreams(b, () => (offered++, false), () => t.fail('no stream for an unknown torrent'))
  const mine = openMuxStream(a, crypto.randomBytes(20))!
  const failed = new Promise<Error>((resolve) => mine.on('error', resolve))
  const closed = new Promise((resolve) => mine.on('close', resolve))
  mine.write(Buffer.from('BitTorrent protocol'))
  mine.resume()
  await closed
  t.ok(/closed/.test((await failed).message), 'the handshake written before the refusal fails, and says why')
  t.is(offered, 1)
  let refused: unknown = null
  try {
    openMuxStream(a, Buffer.alloc(32))
  } catch (err) {
    refused = err
  }
  t.ok(refused instanceof RangeError && /20 bytes/.test(refused.message), 'a 32-byte id is refused')
})
