// Sharing and fetching between nodes on a loopback testnet (in one process; the multi-process
// cases are in transfer-cli.test.ts).
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import type { Testnet } from 'hyperdht/testnet.js'
import type { ChrysalisNode } from '../src/node/node.js'
import { openMuxStream } from '../src/transfer/mux-stream.js'
import { encodeHandshake, reservedBytes } from '../src/transfer/wire/messages.js'
import { dataFile, makeNode, onlineNode, shaFile, tmpDir, internals } from './helpers.js'

test('a post with an attachment: a follower fetches it through the post ref, verified', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const a = await onlineNode(t, testnet, 'A')
  const b = await onlineNode(t, testnet, 'B')
  const { file, hash } = await dataFile(dir, 'kaypro-ii-manual.pdf', 3 * 1024 * 1024 + 12345)
  const post = await a.post({ text: 'Kaypro II manual, 1982 #vintage-manuals', attach: [file] })
  t.is(post.attachments.length, 1)
  t.is(post.attachments[0]!.name, 'kaypro-ii-manual.pdf')
  t.is(post.attachments[0]!.size, 3 * 1024 * 1024 + 12345)

  await b.follow(a.identity.publicKey)
  const out = path.join(dir, 'b-downloads')
  const targets = await b.files.resolve(post.ref)
  t.is(targets.length, 1)
  const view = await b.files.fetch(targets[0]!, { out })
  t.is(view.status, 'seeding', 'the fetched torrent is seeded')
  t.is(view.have, view.size)
  t.is(await shaFile(path.join(out, 'kaypro-ii-manual.pdf')), hash, 'the bytes are the original ones')
  t.alike(await fs.readdir(out), ['kaypro-ii-manual.pdf'], 'no partial data is left')
})

test('fetch REF of someone not followed: the post comes from the network, and the feed topic is left after', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const a = await onlineNode(t, testnet, 'A')
  const c = await onlineNode(t, testnet, 'C')
  const { file } = await dataFile(dir, 'osborne-1-brochure.pdf', 64 * 1024)
  const post = await a.post({ text: 'Osborne 1 brochure', attach: [file] })
  const [target] = await c.files.resolve(post.ref)
  t.is(target?.name, 'osborne-1-brochure.pdf', 'the post was found through its author')
  const feedTopics = internals(c).network!['feeds']
  t.is(feedTopics.size, 1, 'C announces only its own feed, not the feed it only read from')
})

async function seeder(t: Parameters<typeof makeNode>[0], testnet: Testnet, dir: string, name: string, source: string): Promise<{ node: ChrysalisNode; infohash: Buffer; copy: string }> {
  const copy = path.join(dir, name, path.basename(source))
  await fs.mkdir(path.dirname(copy), { recursive: true })
  await fs.copyFile(source, copy)
  // Shared while offline, seeded once online.
  const node = await makeNode(t, name)
  const infohash = Buffer.from((await node.files.share(copy)).infohash, 'hex')
  await node.online({ dht: testnet.createNode() })
  return { node, infohash, copy }
}

async function connect(from: ChrysalisNode, to: ChrysalisNode): Promise<void> {
  internals(from).network!.joinPeer(to.identity.publicKey)
  if (!(await internals(from).network!.waitForPeer(to.identity.publicKey, Date.now() + 10_000))) throw new Error('peers did not connect')
}

test('a download takes pieces from all three seeders', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const { file, hash } = await dataFile(dir, 'osborne.iso', 20 * 1024 * 1024)
  const seeders = [await seeder(t, testnet, dir, 'S1', file), await seeder(t, testnet, dir, 'S2', file), await seeder(t, testnet, dir, 'S3', file)]
  const infohash = seeders[0]!.infohash
  const fetcher = await onlineNode(t, testnet, 'F')
  for (const s of seeders) await connect(fetcher, s.node)
  const out = path.join(dir, 'out')
  const view = await fetcher.files.fetch({ infohash, name: null, author: null }, { out })
  t.is(view.status, 'seeding')
  t.is(await shaFile(path.join(out, 'osborne.iso')), hash, 'complete and correct')
  for (const s of seeders) {
    const uploaded = internals(s.node).transfers.get(infohash)!.uploaded
    t.ok(uploaded > 0, `seeder ${s.node.identity.publicKey.toString('hex').slice(0, 6)} sent ${uploaded} bytes`)
  }
})

test('a seeder serving corrupted bytes (same size and mtime) is banned; the file completes from an honest one', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const size = 4 * 1024 * 1024
  const { file, hash } = await dataFile(dir, 'cpm.img', size)
  const bad = await seeder(t, testnet, dir, 'Bad', file)
  // Corrupt after sharing, keeping size and mtime: the seeder cannot notice; the fetcher must.
  const st = await fs.stat(bad.copy)
  const fh = await fs.open(bad.copy, 'r+')
  for (let at = 0; at < size; at += 64 * 1024) await fh.write(Buffer.from('corrupt!'), 0, 8, at + 100)
  await fh.close()
  await fs.utimes(bad.copy, st.atimeMs / 1000, st.mtimeMs / 1000)

  const fetcher = await onlineNode(t, testnet, 'F')
  await connect(fetcher, bad.node)
  const banned = new Promise<string>((resolve) => internals(fetcher).transfers.once('ban', (_ih, who) => resolve(who)))
  const out = path.join(dir, 'out')
  const fetching = fetcher.files.fetch({ infohash: bad.infohash, name: null, author: null }, { out })
  t.is(await banned, bad.node.identity.publicKey.toString('hex'), 'the corrupt seeder is banned for this torrent')
  t.absent(await fs.stat(path.join(out, 'cpm.img')).catch(() => null), 'nothing unverified reached the final path')

  const good = await seeder(t, testnet, dir, 'Good', file)
  t.alike(good.infohash, bad.infohash)
  const view = await fetching
  t.is(view.status, 'seeding')
  t.is(await shaFile(path.join(out, 'cpm.img')), hash, 'complete and correct from the honest seeder')
})

test('a peer breaking the BitTorrent wire on a hyperswarm stream is dropped; the seeder carries on', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const dir = await tmpDir(t)
  const { file, hash } = await dataFile(dir, 'manual.pdf', 1024 * 1024)
  const s = await seeder(t, testnet, dir, 'S', file)
  const attacker = await onlineNode(t, testnet, 'M')
  await connect(attacker, s.node)
  const conn = internals(attacker).network!.connections().find((x) => x.publicKey.equals(s.node.identity.publicKey))!
  const meta = internals(s.node).transfers.metadata(s.infohash)!
  const stream = openMuxStream(conn.mux, meta.infohashV1 ?? meta.infohash.subarray(0, 20))!
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()))
  stream.on('error', () => {})
  // A valid handshake, then a frame claiming 2^31 bytes: refused from its length alone.
  stream.write(encodeHandshake({ reserved: reservedBytes({ extended: true, fast: true }), infohash: meta.infohashV1 ?? meta.infohash.subarray(0, 20), peerId: Buffer.alloc(20, 7) }))
  stream.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 7]))
  await closed
  t.pass('the seeder closed the stream')
  const fetcher = await onlineNode(t, testnet, 'F')
  await connect(fetcher, s.node)
  const out = path.join(dir, 'out')
  await fetcher.files.fetch({ infohash: s.infohash, name: null, author: null }, { out })
  t.is(await shaFile(path.join(out, 'manual.pdf')), hash, 'the seeder still serves everyone else')
})
