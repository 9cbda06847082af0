// Hostile peers on the piece-exchange channel (issue 11): a metadata bomb and a request flood.
// Each is a fake peer speaking chrysalis/torrent/v1 over a real connection on a loopback testnet.
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import c from 'compact-encoding'
import type { ChrysalisNode } from '../src/node/node.js'
import { Msg, TORRENT_PROTOCOL, encodeChunk, encodeEmpty, encodeHello, encodeMetadata, encodeUint } from '../src/transfer/messages.js'
import { createTorrent } from '../src/transfer/create.js'
import { torrentBytes } from '../src/transfer/metainfo.js'
import { LIMITS } from '../src/transfer/torrent.js'
import { metadataBomb } from './helpers-bomb.js'
import { dataFile, makeNode, onlineNode, shaFile, tmpDir, waitFor } from './helpers.js'



async function connect(from: ChrysalisNode, to: ChrysalisNode): Promise<void> {
  from.network!.joinPeer(to.identity.publicKey)
  if (!(await from.network!.waitForPeer(to.identity.publicKey, Date.now() + 10_000))) throw new Error('peers did not connect')
}

/** A torrent channel of our own making on `from`'s connection to `to`. */
function rawChannel(from: ChrysalisNode, to: ChrysalisNode, infohash: Buffer, onmessage: (type: number, m: Buffer) => void = () => {}) {
  const conn = from.network!.connections().find((x) => x.publicKey.equals(to.identity.publicKey))!
  const mux = conn.mux as typeof conn.mux & { cork(): void; uncork(): void; stream: { pause(): void } }
  const ch = mux.createChannel({
    protocol: TORRENT_PROTOCOL,
    id: infohash,
    handshake: c.raw,
    messages: Array.from({ length: 10 }, (_, type) => ({ encoding: c.raw, onmessage: (m: Uint8Array) => onmessage(type, Buffer.from(m)) }))
  })!
  return { mux, ch }
}



test('a peer answering a metadata request with a 12 MiB bomb is banned; the download completes from an honest seeder', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const { file, hash } = await dataFile(dir, 'kaypro.img', 512 * 1024)
  const { meta } = await createTorrent(file, { hybrid: true }) // as files.share makes it (hybrid by default)
  // The attacker knows the real info (it is public), so the bomb hashes to the infohash.
  const bomb = metadataBomb(torrentBytes(meta))
  const fetcher = await onlineNode(t, testnet, 'F')
  const evil = await onlineNode(t, testnet, 'M')
  await connect(fetcher, evil)
  // When the fetcher opens the torrent's channel, the attacker answers it (its own pairing for
  // this infohash), claims to have the metadata, and answers the request with the bomb.
  const conn = evil.network!.connections().find((x) => x.publicKey.equals(fetcher.identity.publicKey))!
  conn.mux.pair({ protocol: TORRENT_PROTOCOL, id: meta.infohash }, () => {
    const { ch } = rawChannel(evil, fetcher, meta.infohash, (type) => {
      if (type === Msg.metadataRequest) ch.messages[Msg.metadata]!.send(encodeMetadata(bomb))
    })
    ch.open(encodeHello({ hasMetadata: true, bitfield: Buffer.alloc(0) }))
  })

  const banned = new Promise<[Buffer, string]>((resolve) => fetcher.transfers.once('ban', (_ih, pk, reason) => resolve([pk, reason])))
  const out = path.join(dir, 'out')
  const heapBefore = process.memoryUsage().heapUsed
  const fetching = fetcher.files.fetch({ infohash: meta.infohash, name: null, author: null }, { out })
  const [pk, reason] = await banned
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore
  t.alike(pk, evil.identity.publicKey, 'the bomb sender is banned for this torrent')
  t.ok(/more than 1000000 values/.test(reason), `reason: ${reason}`)
  t.ok(heapGrowth < 300 * 2 ** 20, `heap grew ${Math.round(heapGrowth / 2 ** 20)} MiB while it was refused (about 1.25 GB before the fix)`)

  // An honest seeder arrives: the same download completes.
  const copy = path.join(dir, 'S', 'kaypro.img')
  await fs.mkdir(path.dirname(copy), { recursive: true })
  await fs.copyFile(file, copy)
  const seeder = await makeNode(t, 'S')
  await seeder.files.share(copy)
  await seeder.online({ dht: testnet.createNode() })
  await connect(fetcher, seeder)
  const view = await fetching
  t.is(view.status, 'seeding')
  t.is(await shaFile(path.join(out, 'kaypro.img')), hash, 'complete and correct')
})

test('a peer sending 300,000 requests it never reads is banned after a bounded number; an honest peer is still served', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const { file, hash } = await dataFile(dir, 'osborne.iso', 2 * 1024 * 1024)
  const seeder = await makeNode(t, 'S')
  const infohash = Buffer.from((await seeder.files.share(file)).infohash, 'hex')
  await seeder.online({ dht: testnet.createNode() })
  const evil = await onlineNode(t, testnet, 'M')
  await connect(evil, seeder)
  const banned = new Promise<Buffer>((resolve) => seeder.transfers.once('ban', (_ih, pk) => resolve(pk)))

  const { mux, ch } = rawChannel(evil, seeder, infohash)
  // It stops reading: whatever the seeder answers piles up on the seeder's side.
  mux.stream.pause()
  const request = encodeChunk({ piece: 0, offset: 0, length: 16 * 1024 })
  ch.open(encodeHello({ hasMetadata: false, bitfield: Buffer.alloc(0) }))
  ch.messages[Msg.interested]!.send(encodeUint(1))
  ch.messages[Msg.metadataRequest]!.send(encodeEmpty())
  for (let sent = 0; sent < 300_000; sent += 10_000) {
    mux.cork()
    for (let i = 0; i < 10_000; i++) ch.messages[Msg.request]!.send(request)
    mux.uncork()
  }
  t.alike(await banned, evil.identity.publicKey, 'the flooder is banned for the torrent')
  const seederSide = seeder.network!.connections().find((x) => x.publicKey.equals(evil.identity.publicKey))!
  await waitFor(() => !seederSide.mux.opened({ protocol: TORRENT_PROTOCOL, id: infohash }), 10_000, "the seeder's channel to close")
  t.pass(`the channel is closed and its queue freed (at most ${LIMITS.servedQueue} queued, ${LIMITS.floodRejects} rejected)`)

  const fetcher = await onlineNode(t, testnet, 'F')
  await connect(fetcher, seeder)
  const out = path.join(dir, 'out')
  await fetcher.files.fetch({ infohash, name: null, author: null }, { out })
  t.is(await shaFile(path.join(out, 'osborne.iso')), hash, 'the seeder still serves an honest peer')
})
