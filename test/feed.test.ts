import test from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import { Identity } from '../src/identity/keys.js'
import { Feed, OwnFeed } from '../src/feeds/feed.js'
import { feedKeyOf, postKey, followKey } from '../src/feeds/layout.js'
import { encodeRecord, RECORD_VERSION } from '../src/feeds/records.js'
import { Writer } from '../src/codec/primitives.js'
import { makeNode, peered, replicate, tmpDir, fakeClock, internals } from './helpers.js'

async function writerFor(t: Parameters<typeof makeNode>[0], identity: Identity): Promise<{ store: Corestore; feed: OwnFeed }> {
  const store = new Corestore(path.join(await tmpDir(t), 'store'))
  const feed = new OwnFeed(store.get({ keyPair: identity.keyPair() }), identity.publicKey, { now: fakeClock() })
  await feed.ready()
  t.teardown(() => store.close(), { order: 1 })
  return { store, feed }
}

/** A new node that follows `author`, replicating from `store`, synced to its latest length. */
async function followOver(t: Parameters<typeof makeNode>[0], store: Corestore, author: Identity) {
  const reader = await makeNode(t, 'Reader')
  replicate(t, store, internals(reader).store)
  await reader.follow(author.publicKey)
  const remote = internals(reader).feedOf(author.publicKey)
  await peered(remote.core)
  await reader.refresh({ update: true })
  return { reader, remote }
}

test('malformed, oversized, unknown and misplaced records in another feed are skipped and counted', async (t) => {
  const hostile = Identity.generate()
  const { store, feed } = await writerFor(t, hostile)
  await feed.setProfile({ name: 'Mallory', bio: '' })
  const good1 = await feed.post({ text: 'a valid post' })
  const raw = feed.bee // write raw bytes under the keys an honest writer would use
  await raw.put(postKey(good1.id + 1), Buffer.from('not a record at all'))
  await raw.put(postKey(good1.id + 2), Buffer.alloc(70 * 1024, 1)) // oversized
  await raw.put(postKey(good1.id + 3), new Writer().uint(RECORD_VERSION).uint(77).uint(0).finish()) // unknown type
  await raw.put(postKey(good1.id + 4), new Writer().uint(9).uint(2).finish()) // unknown version
  await raw.put(postKey(good1.id + 5), encodeRecord({ type: 'profile', updatedAt: 1, name: 'x', bio: '' })) // wrong type here
  await raw.put('post/zzz', encodeRecord({ type: 'post', createdAt: 1, text: 'bad key', topics: [], mentions: [], attachments: [] }))
  await raw.put('post/' + 'f'.repeat(13), encodeRecord({ type: 'post', createdAt: 1, text: 'key too long', topics: [], mentions: [], attachments: [] }))
  const other = Identity.generate().publicKey
  await raw.put(followKey(other), encodeRecord({ type: 'follow', at: 1, target: Buffer.alloc(32, 9) })) // target ≠ key
  await raw.put('unknown/future-key', Buffer.from('ignored'))
  const good2 = await feed.post({ text: 'another valid post' })

  const { reader, remote } = await followOver(t, store, hostile)

  const posts = await reader.feed(hostile.id, { limit: 50 })
  t.alike(posts.map((p) => p.text), ['another valid post', 'a valid post'], 'only the valid posts are listed')
  t.is(posts[0]?.ref, `${hostile.id}/${postKey(good2.id).slice(5)}`)
  t.ok(remote.skipped.count >= 7, `skipped ${remote.skipped.count} records`)
  t.ok((await internals(reader).index.skippedCount(hostile.publicKey)) >= 5, 'the index counted what it skipped')
  const timeline = await reader.timeline({ limit: 50 })
  t.alike(timeline.posts.filter((p) => p.author === hostile.id).map((p) => p.text), ['another valid post', 'a valid post'])
  t.alike(await remote.following(), [], 'a follow record that does not match its key is ignored')
  t.is((await reader.profile(hostile.id)).name, 'Mallory')
})

test('a block that is not a hyperbee node does not crash readers', async (t) => {
  const hostile = Identity.generate()
  const { store, feed } = await writerFor(t, hostile)
  await feed.post({ text: 'before the garbage' })
  await feed.core.append(Buffer.from('raw bytes where a bee node should be'))

  const { reader, remote } = await followOver(t, store, hostile)
  t.is(remote.core.length, 3, 'the reader has the garbage block')
  t.alike(await reader.feed(hostile.id), [], 'nothing readable at this version, and no crash')
  t.is((await reader.profile(hostile.id)).name, null)
  t.ok(remote.skipped.count > 0, 'counted as skipped')
  t.ok((await reader.timeline()).posts.every((p) => p.author !== hostile.id))
  // The reader's own node keeps working.
  const mine = await reader.post({ text: 'still here' })
  t.is((await reader.timeline()).posts[0]?.ref, mine.ref)
})

test('sparse read: the newest 20 posts of a 5,000-post remote feed download a small fraction of it', async (t) => {
  const author = Identity.generate()
  const { store } = await writerFor(t, author)
  // Write 5,000 posts in batches (one block each, as OwnFeed.post would).
  const bee = new Feed(store.get({ keyPair: author.keyPair() }), author.publicKey).bee
  await bee.ready()
  for (let i = 0; i < 5000; i += 500) {
    const batch = bee.batch()
    for (let j = i; j < i + 500; j++) {
      await batch.put(postKey(1_790_000_000_000 + j), encodeRecord({ type: 'post', createdAt: 1_790_000_000_000 + j, text: `post number ${j}`, topics: [], mentions: [], attachments: [] }))
    }
    await batch.flush()
  }
  t.is(bee.core.length, 5001)

  const readerStore = new Corestore(path.join(await tmpDir(t), 'reader'))
  t.teardown(() => readerStore.close(), { order: 1 })
  replicate(t, store, readerStore)
  const remote = new Feed(readerStore.get({ key: feedKeyOf(author.publicKey) }), author.publicKey)
  await remote.ready()
  let downloaded = 0
  remote.core.on('download', () => downloaded++)
  await peered(remote.core)
  await remote.core.update({ wait: true })
  t.is(remote.core.length, 5001, 'the reader knows the full length')

  const newest = await remote.posts({ limit: 20 })
  t.is(newest.length, 20)
  t.is(newest[0]?.record.text, 'post number 4999')
  t.is(newest[19]?.record.text, 'post number 4980')
  const fraction = downloaded / remote.core.length
  t.comment(`downloaded ${downloaded} of ${remote.core.length} blocks (${(fraction * 100).toFixed(2)}%)`)
  t.ok(fraction < 0.05, 'less than 5% of the feed was downloaded')
  t.ok(downloaded >= 20, 'the posts themselves were downloaded')
})
