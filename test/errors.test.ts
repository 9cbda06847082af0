// Error codes say what happened (tests and scripts match on them, never on message text).
import test from 'brittle'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { isChrysalisError } from '../src/errors.js'
import { Identity } from '../src/identity/keys.js'
import { readTorrentFile } from '../src/node/files.js'
import { dataFile, makeNode, tmpDir } from './helpers.js'

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn()
    return 'no error'
  } catch (err) {
    if (!isChrysalisError(err)) return `not a ChrysalisError: ${String(err)}`
    if (err.message.includes('\n')) return 'more than one line'
    return err.code
  }
}

test('errors: OFFLINE for what needs the network before online()', async (t) => {
  const node = await makeNode(t, 'Ada')
  t.is(await codeOf(() => node.sync()), 'OFFLINE')
  t.is(await codeOf(() => node.discover('vintage-manuals')), 'OFFLINE')
  const [target] = await node.files.resolve('a'.repeat(64))
  t.is(await codeOf(() => node.files.fetch(target!, { out: path.join(node.home, 'downloads') })), 'OFFLINE')
})

test('errors: BAD_STATE, NOT_FOUND, BAD_INPUT for relations', async (t) => {
  const node = await makeNode(t, 'Ada')
  const other = Identity.generate().publicKey
  t.is(await codeOf(() => node.follow(node.identity.publicKey)), 'BAD_INPUT', 'following yourself')
  t.is(await codeOf(() => node.unfollow(other)), 'NOT_FOUND', 'unfollowing someone not followed')
  await node.block(other)
  t.is(await codeOf(() => node.follow(other)), 'BAD_STATE', 'following someone blocked')
  t.is(await codeOf(() => node.confirmNeverPosted()), 'BAD_STATE', 'confirming while not recovering')
})

test('errors: FILE_EXISTS, and nothing is written over the file', async (t) => {
  const node = await makeNode(t, 'Ada')
  const dir = await tmpDir(t)
  const { file } = await dataFile(dir, 'kaypro.pdf', 40_000)
  const shared = await node.files.share(file)
  const out = path.join(dir, 'kaypro.torrent')
  await fs.writeFile(out, 'mine')
  t.is(await codeOf(() => node.files.exportTorrent(shared.infohash, out)), 'FILE_EXISTS')
  t.is(await fs.readFile(out, 'utf-8'), 'mine', 'the existing file is untouched')
  await node.files.exportTorrent(shared.infohash, out, { force: true })
  t.not(await fs.readFile(out, 'utf-8'), 'mine', 'with force it is replaced')
})

test('errors: IO when the filesystem or a port refuses', async (t) => {
  const dir = await tmpDir(t)
  const notADir = path.join(dir, 'plain-file')
  await fs.writeFile(notADir, 'x')
  t.is(await codeOf(() => readTorrentFile(path.join(notADir, 'k.torrent'))), 'IO', 'a path through a file (ENOTDIR)')

  const taken = net.createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())))
  const port = (taken.address() as net.AddressInfo).port
  const node = await makeNode(t, 'Ada')
  const createTestnet = (await import('hyperdht/testnet.js')).default
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  t.is(await codeOf(() => node.online({ dht: testnet.createNode(), bt: { port, host: '127.0.0.1' } })), 'IO', 'a BitTorrent port in use')
})

test('errors: CLOSED for a node used after close()', async (t) => {
  const node = await makeNode(t, 'Ada')
  await node.close()
  t.is(await codeOf(() => node.ready()), 'CLOSED')
})
