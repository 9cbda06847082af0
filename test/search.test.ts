// Search: posts by words, topics and file names; people by name and bio; kept with the index.
import test from 'brittle'
import path from 'node:path'
import { ChrysalisNode } from '../src/node/node.js'
import { dataFile, makeNode, replicate, tmpDir, internals } from './helpers.js'
import { json } from './helpers-cli.js'
import { K, mountTui } from './helpers-tui.js'

test('search: a word of a post, a topic, an attachment file name, a person by name; edits, deletes and blocks are followed', async (t) => {
  const ada = await makeNode(t, 'Ada')
  const bob = await makeNode(t, 'Bob Osborne')
  await bob.setProfile({ bio: 'TRS-80 service guides' })
  replicate(t, internals(ada).store, internals(bob).store)
  const dir = await tmpDir(t)
  const { file } = await dataFile(dir, 'kaypro-ii-schematics.pdf', 30_000)
  const scan = await ada.post({ text: 'The board, scanned at 600 dpi', attach: [file] })
  const manual = await ada.post({ text: 'Kaypro II manual, first printing #vintage-manuals' })
  await ada.post({ text: 'Nothing to see here' })
  await bob.post({ text: 'Model III notes on the Kaypro keyboard clone' })
  await ada.follow(bob.identity.publicKey)
  await ada.refresh({ update: true })

  const refs = async (q: string): Promise<string[]> => (await ada.search(q)).posts.map((p) => p.ref)
  t.alike(await refs('printing'), [manual.ref], 'a word of the text')
  t.alike(await refs('vintage-manuals'), [manual.ref], 'a topic')
  t.alike(await refs('schematics'), [scan.ref], "a word of an attachment's file name")
  t.is((await refs('kaypro')).length, 3, 'a word in text and file names of both authors')
  const people = (await ada.search('osborne')).people
  t.alike(people.map((p) => [p.name, p.following]), [['Bob Osborne', true]], 'a person by name')
  t.alike((await ada.search('service guides')).people.map((p) => p.name), ['Bob Osborne'], 'a person by bio')

  await ada.edit(manual.ref, 'Kaypro II manual, second printing')
  t.alike(await refs('second'), [manual.ref], 'an edit is found by its new words')
  t.alike(await refs('first'), [], 'and no longer by the old ones')
  await ada.delete(scan.ref)
  t.alike(await refs('schematics'), [], 'a deleted post is not found')
  await ada.block(bob.identity.publicKey)
  t.absent((await ada.search('keyboard')).posts.length, 'a blocked author is left out')
  t.alike((await ada.search('osborne')).people, [])
})

test('search: a blocked author with many matching posts does not crowd out the others', async (t) => {
  const ada = await makeNode(t, 'Ada')
  const spam = await makeNode(t, 'Spammer')
  replicate(t, internals(ada).store, internals(spam).store)
  const mine = await ada.post({ text: 'Kaypro II manual' })
  for (let i = 0; i < 10; i++) await spam.post({ text: `Kaypro deals ${i}` })
  await ada.follow(spam.identity.publicKey)
  await ada.refresh({ update: true })
  t.is((await ada.search('kaypro', { limit: 20 })).posts.length, 11, 'all found while followed')
  await ada.block(spam.identity.publicKey)
  t.alike((await ada.search('kaypro', { limit: 2 })).posts.map((p) => p.ref), [mine.ref], 'blocked: left out before the limit')
})

test('search: the documents are kept in the index; a reopened node finds what it found before', async (t) => {
  const ada = await makeNode(t, 'Ada')
  const post = await ada.post({ text: 'Osborne 1 brochure, 1981' })
  const home = ada.home
  await ada.close()
  const again = await ChrysalisNode.open({ home })
  t.teardown(() => again.close())
  t.alike((await again.search('brochure')).posts.map((p) => p.ref), [post.ref])
})

test('search: posts indexed before search existed are found (their documents are added on the first search)', async (t) => {
  const ada = await makeNode(t, 'Ada')
  const post = await ada.post({ text: 'Heathkit H89 assembly manual' })
  // As an earlier version left the index: by/ entries without search documents.
  const db = internals(ada).index.db
  const batch = db.batch()
  for await (const entry of db.createReadStream({ gt: 'by/', lt: 'by0' })) {
    const { s: _gone, ...rest } = entry.value
    await batch.put(entry.key, rest)
  }
  await batch.flush()
  const home = ada.home
  await ada.close()
  const again = await ChrysalisNode.open({ home })
  t.teardown(() => again.close())
  t.alike((await again.search('heathkit')).posts.map((p) => p.ref), [post.ref])
})

test('cli: search QUERY finds a post and says when nothing matches', async (t) => {
  const dir = await tmpDir(t)
  const home = ['--home', path.join(dir, 'a')]
  await json(t, [...home, 'init', '--name', 'Ada'])
  await json(t, [...home, 'post', 'Kaypro II manual, 1982'])
  const found = await json<{ posts: Array<{ text: string }>; people: unknown[] }>(t, [...home, 'search', 'manual'])
  t.alike(found.posts.map((p) => p.text), ['Kaypro II manual, 1982'])
  const none = await json<{ posts: unknown[]; people: unknown[] }>(t, [...home, 'search', 'zilog'])
  t.alike([none.posts, none.people], [[], []])
})

test('tui: / searches, the results list people then posts, Enter opens a post in its thread', async (t) => {
  const ada = await makeNode(t, 'Ada')
  await ada.post({ text: 'Osborne 1 brochure' })
  const manual = await ada.post({ text: 'Kaypro II manual, first printing' })
  const ui = await mountTui(t, { home: ada.home, openNode: () => Promise.resolve(ada) })
  await ui.until('Osborne 1 brochure')
  ui.press('/')
  await ui.until('Search posts, #topics, file names and people')
  ui.press('printing', K.enter)
  await ui.until(/Search "printing" · 0 people, 1 post/)
  t.absent(ui.frame().includes('Osborne 1 brochure'), 'only what matches')
  ui.press(K.enter)
  await ui.until('Thread')
  const top = ui.c.state.stack.at(-1)
  t.is(top?.kind === 'thread' ? top.ref : null, manual.ref, 'Enter opened the post found')
})
