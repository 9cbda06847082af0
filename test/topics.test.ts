// Topics are places: posting on a topic makes you findable there, without ever running discover.
import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import type { TopicUpdate } from '../src/node/node.js'
import { internals, makeNode, onlineNode, waitFor } from './helpers.js'

test('topics: a post on a topic makes its author findable there; discover finds her without her ever discovering', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const bob = await onlineNode(t, testnet, 'Bob')
  t.alike(await ada.topics(), [], 'on no topic yet')
  await ada.post({ text: 'Kaypro II manual, 1982 #vintage-manuals' })
  await internals(ada).presence.announcing('vintage-manuals')
  t.alike(await ada.topics(), [{ name: 'vintage-manuals', announced: true }], 'the post put her on the topic, announced')

  const found = await bob.discover('vintage-manuals', { timeoutMs: 15_000 })
  t.alike(found.people.map((p) => p.name), ['Ada'], 'Bob finds Ada there')
  t.is(found.people[0]!.via, 'topic vintage-manuals')
})

test('topics: discover goes on listening while nobody is found, and reports who comes before the deadline', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const bob = await onlineNode(t, testnet, 'Bob')
  const discovering = bob.discover('vintage-manuals', { timeoutMs: 20_000 })
  // Once Bob's announce has landed (his lookup found nobody), Ada posts there.
  await waitFor(async () => (await bob.topics()).some((x) => x.announced), 15_000, "Bob's announce")
  await ada.post({ text: 'Osborne 1 schematics #vintage-manuals' })
  const found = await discovering
  t.alike(found.people.map((p) => p.name), ['Ada'], 'Ada, who came after the lookup, is reported')
})

test('topics: leaving a topic stops announcing it and forgets it; posting there again joins again', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  await ada.post({ text: 'TRS-80 Model III manual #trs-80 #vintage-manuals' })
  t.alike((await ada.topics()).map((x) => x.name).sort(), ['trs-80', 'vintage-manuals'])
  t.ok(await ada.leaveTopic('trs-80'))
  t.absent(await ada.leaveTopic('trs-80'), 'false the second time')
  t.alike((await ada.topics()).map((x) => x.name), ['vintage-manuals'])
  t.absent(internals(ada).network!.interestNames().includes('trs-80'), 'no longer announced')
  await ada.post({ text: 'Radio Shack catalog #trs-80' })
  t.alike((await ada.topics()).map((x) => x.name).sort(), ['trs-80', 'vintage-manuals'], 'a new post there joins it again')
})

test('topic view: the newest posts on a topic from someone not followed, found there, beside the followed and your own', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const cy = await onlineNode(t, testnet, 'Cy')
  const bob = await onlineNode(t, testnet, 'Bob')
  await ada.post({ text: 'Kaypro II manual, 1982 #vintage-manuals' })
  await ada.post({ text: 'My cat, no topic here' })
  await cy.post({ text: 'Heathkit H89 schematics #vintage-manuals' })
  await bob.follow(cy.identity.publicKey)
  await bob.post({ text: 'Looking for an Osborne 1 manual #vintage-manuals' })
  await internals(ada).presence.announcing('vintage-manuals')

  const view = await bob.topicView('Vintage Manuals', { timeoutMs: 15_000 })
  t.is(view.topic, 'vintage-manuals')
  t.alike(view.posts.map((p) => p.text).sort(), ['Heathkit H89 schematics #vintage-manuals', 'Kaypro II manual, 1982 #vintage-manuals', 'Looking for an Osborne 1 manual #vintage-manuals'], "Ada's (not followed), Cy's (followed) and Bob's own; not Ada's post without the topic")
  t.ok(view.people.some((p) => p.name === 'Ada'), 'Ada was found on the topic')
  t.alike(await bob.followingList().then((l) => l.map((p) => p.name)), ['Cy'], 'reading Ada followed nobody')
})

test('topic view, live: what is here at once, then the posts of someone found there later; stop ends the reports', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const bob = await onlineNode(t, testnet, 'Bob')
  await bob.post({ text: 'Looking for an Osborne 1 manual #vintage-manuals' })
  await bob.post({ text: 'No topic here' })
  const updates: TopicUpdate[] = []
  const stop = await bob.watchTopicPosts('#Vintage Manuals', (u) => updates.push(u))
  t.ok(updates.length >= 1, 'what is here was reported before the watch resolved')
  t.is(updates[0]!.topic, 'vintage-manuals')
  t.ok(updates[0]!.online, 'online')
  t.alike(updates[0]!.posts.map((p) => p.text), ['Looking for an Osborne 1 manual #vintage-manuals'], 'at once: his own post on the topic, not the other')
  // Once Bob's announce has landed (nobody was there), Ada posts on the topic: found later, read sparsely.
  await internals(bob).presence.announcing('vintage-manuals')
  await ada.post({ text: 'Kaypro II manual, 1982 #vintage-manuals' })
  await waitFor(() => updates.some((u) => u.posts.some((p) => p.text.startsWith('Kaypro II'))), 20_000, "Ada's post in a report")
  const last = updates.at(-1)!
  t.alike(last.posts.map((p) => p.text), ['Kaypro II manual, 1982 #vintage-manuals', 'Looking for an Osborne 1 manual #vintage-manuals'], 'merged, newest first')
  t.alike(last.people.map((p) => p.name), ['Ada'], 'Ada was found on the topic')
  t.alike(await bob.followingList(), [], 'reading Ada followed nobody')
  stop()
  const count = updates.length
  await ada.post({ text: 'Kaypro 4 manual #vintage-manuals' })
  await bob.follow(ada.identity.publicKey) // her feed grows while followed: it would be read again, were it watched
  await waitFor(async () => (await bob.timeline()).posts.some((p) => p.text.startsWith('Kaypro 4')), 20_000, 'the new post indexed')
  t.is(updates.length, count, 'no report after stop')
})

test('topic view, live, offline: only what is here, and it says so', async (t) => {
  const bob = await makeNode(t, 'Bob')
  await bob.post({ text: 'Looking for an Osborne 1 manual #vintage-manuals' })
  const updates: TopicUpdate[] = []
  const stop = await bob.watchTopicPosts('vintage-manuals', (u) => updates.push(u))
  stop()
  t.is(updates.length, 1)
  t.absent(updates[0]!.online, 'not online')
  t.alike(updates[0]!.posts.map((p) => p.text), ['Looking for an Osborne 1 manual #vintage-manuals'])
  await t.exception(bob.watchTopicPosts('!!', () => {}), /not a usable topic/, 'a bad topic is refused')
})
