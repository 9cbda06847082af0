// The topic view in the terminal UI, on real nodes on a loopback testnet: the newest posts on a
// topic from everyone found there, followed or not, arriving live as people are found; f follows
// the selected post's author. Opened by typing a topic (#), from People → Discover (v), and from
// a post's topic tag (#); offline it shows what is here and says so.
import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import { K, mountTui } from './helpers-tui.js'
import { internals, makeNode, onlineNode, waitFor } from './helpers.js'

test('tui topic view: typed after #, a post arrives live from someone found there later; f follows its author', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const bob = await onlineNode(t, testnet, 'Bob')
  const ui = await mountTui(t, { home: bob.home, openNode: () => Promise.resolve(bob) })
  await ui.until('Your timeline is empty')
  ui.press('#') // no post selected: it asks for a topic
  await ui.until('Posts on topic:')
  ui.press('vintage-manuals', K.enter)
  await ui.until('#vintage-manuals · 0 people found')
  await ui.until('No posts on #vintage-manuals here yet.')
  t.ok(ui.frame().includes('› Topic'), 'the header says where we are')
  // Once Bob is on the topic, Ada posts there: she is found, and her post read from her feed.
  await internals(bob).presence.announcing('vintage-manuals')
  await ada.post({ text: 'Kaypro II manual, 1982 #vintage-manuals' })
  await ui.until('Kaypro II manual, 1982', 20_000)
  await ui.until('#vintage-manuals · 1 person found')
  await ui.until('You do not follow Ada (f follows).')
  t.alike(await bob.followingList(), [], 'reading her posts followed nobody')
  ui.press('f')
  await waitFor(async () => (await bob.followingList()).some((p) => p.id === ada.identity.id), 10_000, 'Bob follows Ada')
  await ui.until('You follow Ada (f unfollows).')
  t.pass('f followed the author of the selected post')
  ui.press(K.enter)
  await ui.until('Thread · 0 comments')
  ui.press(K.esc)
  await ui.until('#vintage-manuals · 1 person found')
  ui.press(K.esc)
  await waitFor(() => ui.c.state.stack.length === 0, 5000, 'Esc back to the timeline')
  await ui.until(/Newest posts of you[^]*Kaypro II manual, 1982/) // followed now: on the timeline
  t.is(ui.c.topicWatches.size, 0, 'the watch stopped with its screen')
})

test('tui topic view: v on People → Discover opens the posts on the topic being discovered', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  await ada.post({ text: 'Osborne 1 schematics #vintage-manuals' })
  await internals(ada).presence.announcing('vintage-manuals')
  const bob = await onlineNode(t, testnet, 'Bob')
  const ui = await mountTui(t, { home: bob.home, openNode: () => Promise.resolve(bob) })
  await ui.until('Your timeline is empty')
  ui.press('2', 'd')
  await ui.until('Discover people by interest topic')
  ui.press(K.ctrlU, 'vintage-manuals', K.enter)
  await ui.until('(1 found)', 20_000)
  ui.press('v')
  await ui.until('#vintage-manuals')
  await ui.until('Osborne 1 schematics', 20_000)
  await ui.until('You do not follow Ada (f follows).')
  ui.press('p')
  await waitFor(() => ui.c.state.stack.at(-1)?.kind === 'profile', 5000, 'p opens the profile')
  const top = ui.c.state.stack.at(-1)
  t.is(top?.kind === 'profile' ? top.id : null, ada.identity.id, "p: the author's profile")
})

test("tui topic view: # on a post opens its topic; with several, a prompt holds the first and names them all", async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  await ada.post({ text: 'Kaypro 4 technical manual #kaypro' })
  await internals(ada).presence.announcing('kaypro')
  const bob = await onlineNode(t, testnet, 'Bob')
  await bob.post({ text: 'Wanted: Kaypro II keyboard #kaypro #vintage-manuals' })
  await bob.post({ text: 'My Kaypro boots again #kaypro' })
  const ui = await mountTui(t, { home: bob.home, openNode: () => Promise.resolve(bob) })
  await ui.until('My Kaypro boots again')
  ui.press('#') // one topic: opened at once
  await ui.until('#kaypro · ')
  await ui.until('Kaypro 4 technical manual', 20_000) // Ada's, found on the topic
  t.ok(ui.frame().includes('Wanted: Kaypro II keyboard'), 'his own posts on the topic too')
  ui.press(K.esc)
  await ui.until('Newest posts of you')
  ui.press('j', '#') // two topics: a prompt
  await ui.until('Posts on topic (#kaypro #vintage-manuals)')
  t.is(ui.c.state.prompt?.field.value, 'kaypro', 'the first topic, ready to open')
  ui.press(K.ctrlU, 'vintage-manuals', K.enter)
  await ui.until('#vintage-manuals · ')
  await ui.until('Wanted: Kaypro II keyboard')
  t.absent(ui.frame().includes('My Kaypro boots again'), 'only the posts on that topic')
})

test('tui topic view offline: only what is here, and it says so', async (t) => {
  const bob = await makeNode(t, 'Bob')
  await bob.post({ text: 'Looking for an Osborne 1 manual #vintage-manuals' })
  await bob.post({ text: 'No topic here' })
  const ui = await mountTui(t, { home: bob.home, openNode: () => Promise.resolve(bob) })
  await ui.until('No topic here')
  ui.press('j', '#')
  await ui.until('Offline: only what is here (yours and the people you follow).')
  await ui.until('Looking for an Osborne 1 manual')
  t.absent(ui.frame().includes('No topic here'), 'only the post on the topic')
})
