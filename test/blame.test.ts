// Who is banned when a v2 piece whose blocks came from two peers fails its check
// (src/transfer/engine/downloader.ts, protocol.md §13.3 "Bans"): the piece's block hashes, proven
// against its hash, name the sender of the bad block; without them, each sender gets a strike.
import test from 'brittle'
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createTorrent } from '../src/transfer/create.js'
import { Downloader } from '../src/transfer/engine/downloader.js'
import { Peer } from '../src/transfer/engine/peer.js'
import { BLOCK, blockHashes } from '../src/transfer/merkle.js'
import { PieceStore } from '../src/transfer/storage.js'
import type { PeerWire } from '../src/transfer/wire/peer.js'
import { tmpDir, type Test } from './helpers.js'

const PIECE = 4 * BLOCK

/** A peer whose wire only records what we ask of it. */
function fakePeer(name: string): Peer {
  const wire = {
    v2: true,
    destroyed: false,
    remote: { caps: { fast: true }, peerId: Buffer.alloc(20) },
    socket: { cork() {}, uncork() {} },
    request() {},
    cancel() {}
  }
  const peer = new Peer(wire as unknown as PeerWire, { transport: 'tcp', address: name, banKey: name }, 500)
  peer.has = 'all'
  peer.peerChoking = false
  peer.amInterested = true
  return peer
}

async function setup(t: Test, leaves: 'proven' | 'none'): Promise<{ run: () => Promise<string[]>; a: Peer; b: Peer }> {
  const dir = await tmpDir(t)
  const data = crypto.randomBytes(4 * PIECE)
  await fs.mkdir(path.join(dir, 'src'))
  await fs.writeFile(path.join(dir, 'src', 'x.bin'), data)
  const { meta } = await createTorrent(path.join(dir, 'src', 'x.bin'), { pieceLength: PIECE })
  await fs.mkdir(path.join(dir, 'out'))
  const out = await fs.realpath(path.join(dir, 'out'))
  const store = new PieceStore(meta, [{ path: path.join(out, 'x.bin'), skip: false, done: false, mtimeMs: null }], path.join(dir, 'pieces.log'), out)
  t.teardown(() => store.close())
  await store.open()
  await store.prepare()

  const a = fakePeer('a')
  const b = fakePeer('b')
  const banned: string[] = []
  let settled: () => void = () => {}
  const down = new Downloader(store, {
    peers: () => [a, b],
    blocked: () => false,
    ban: (p, reason) => {
      banned.push(`${p.info.banKey}: ${reason}`)
      settled()
    },
    written: () => {},
    failed: (err) => banned.push(`failed: ${err.message}`),
    live: () => true,
    blockHashes: (piece) => {
      const answer = leaves === 'proven' ? blockHashes(data.subarray(piece * PIECE, (piece + 1) * PIECE)) : null
      // The downloader has weighed the answer once the promise's handlers ran.
      setImmediate(() => settled())
      return Promise.resolve(answer)
    }
  })
  t.teardown(() => down.stop())
  const block = (k: number): Buffer => data.subarray(k * BLOCK, (k + 1) * BLOCK)

  const run = async (): Promise<string[]> => {
    down.count(a)
    down.fill(a)
    // a sends half of piece 0, then leaves; b takes the piece over and sends a bad block.
    down.onBlock(a, 0, 0, block(0))
    down.onBlock(a, 0, BLOCK, block(1))
    down.removePeer(a)
    down.count(b)
    down.fill(b)
    const done = new Promise<void>((resolve) => (settled = resolve))
    down.onBlock(b, 0, 2 * BLOCK, crypto.randomBytes(BLOCK))
    down.onBlock(b, 0, 3 * BLOCK, block(3))
    await done
    return banned
  }
  return { run, a, b }
}

test('blame: a v2 piece from two peers fails: its proven block hashes name the sender of the bad block', async (t) => {
  const { run } = await setup(t, 'proven')
  t.alike(await run(), ['b: a block of piece 0 from it failed its hash'], 'b, who sent the bad block, is banned; a is not')
})

test('blame: without block hashes, each sender of a failed piece gets a strike, and nobody is banned for one piece', async (t) => {
  const { run, a, b } = await setup(t, 'none')
  t.alike(await run(), [])
  t.is(a.strikes, 1)
  t.is(b.strikes, 1)
})
