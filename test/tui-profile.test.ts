// Your own profile in the terminal UI (issue 13): opened from Identity (p) or with p on a post of
// yours, it shows your name, bio and whom you follow, and all your posts and comments newest
// first, read from your feed a page at a time as the list scrolls; e edits, d deletes (after a
// y/n question) and Enter opens a thread from there, and the list shows each change at once.
// ink-testing-library's 80×24 terminal over a real offline node.
import test from 'brittle'
import type { ChrysalisNode } from '../src/node/node.js'
import { OWN_PAGE } from '../src/tui/node-profile.js'
import { threadRows, top } from '../src/tui/store.js'
import { makeNode, waitFor, type Test } from './helpers.js'
import { fits, K, mountTui, type Tui } from './helpers-tui.js'

async function tuiFor(t: Test, node: ChrysalisNode): Promise<Tui> {
  const ui = await mountTui(t, { home: node.home, openNode: () => Promise.resolve(node) })
  await ui.until('1 Timeline')
  return ui
}

/** Identity (5), then p: your profile. */
async function openOwnProfile(ui: Tui): Promise<string> {
  ui.press('5')
  await ui.until('p your posts')
  ui.press('p')
  await ui.until('› Your profile')
  return ui.until(/Your posts and comments, newest first(?! \(loading)/)
}

const shown = (ui: Tui): string[] => {
  const t = top(ui.c.state)
  return t?.kind === 'profile' ? t.posts.map((p) => p.text) : []
}

test('your profile: Identity → p shows you, whom you follow, and your posts and comments newest first, older pages read as you scroll', async (t) => {
  const node = await makeNode(t, 'Ada')
  const other = await makeNode(t, 'Grace Osborne')
  await node.follow(other.identity.id)
  const total = OWN_PAGE + 10
  const posted = []
  for (let i = 0; i < total; i++) posted.push(await node.post({ text: `Manual scan ${i}` }))
  const comment = await node.comment(posted[total - 1]!.ref, 'A comment of mine on scan 59')
  const ui = await tuiFor(t, node)
  const frame = await openOwnProfile(ui)
  t.ok(frame.includes('Ada') && frame.includes("Ada's bio") && frame.includes('this is you'), 'your name and bio')
  t.ok(frame.includes(`ID ${node.identity.id}`), 'your ID')
  await ui.until('Following 1: ') // by fingerprint: their feed is not synced offline
  t.is(shown(ui)[0], 'A comment of mine on scan 59', 'newest first: your comment')
  t.ok(frame.includes('· comment'), 'a comment says so')
  t.ok(fits(frame, 80, 24), 'fits 80×24')
  t.is(shown(ui).length, OWN_PAGE, 'one page read, not the whole feed')
  t.ok(frame.includes(`of ${OWN_PAGE}+`), 'the list says more are to come')
  t.is(shown(ui)[1], `Manual scan ${total - 1}`, 'then your posts, newest first')

  ui.press('G') // the last loaded: the next page is read
  await waitFor(() => shown(ui).length === total + 1, 10_000, 'the older page')
  // Row 0 is the comment, row k the post `total - k`: the first page ends with scan 11, the next begins with scan 10.
  const scans = (from: number): string[] => [from, from - 1, from - 2].map((i) => `Manual scan ${i}`)
  t.alike(shown(ui).slice(OWN_PAGE - 2, OWN_PAGE + 1), scans(total - OWN_PAGE + 2), 'the older page follows on, in order')
  ui.press('G')
  await ui.until(/Manual scan 0\s/)
  ui.press('g')
  await ui.until('A comment of mine on scan 59')

  // Enter on the comment: its thread, with the comment selected.
  ui.press(K.enter)
  await ui.until('Thread · 1 comment')
  const th = top(ui.c.state)
  t.is(th?.kind === 'thread' ? th.ref : null, posted[total - 1]!.ref, 'the thread of the post the comment answers')
  await waitFor(() => {
    const x = top(ui.c.state)
    return x?.kind === 'thread' && threadRows(x.thread)[x.selected]?.post?.ref === comment.ref
  }, 5000, 'the comment selected')
})

test('your profile: e edits the selected post and d deletes one after y; the list shows both at once', async (t) => {
  const node = await makeNode(t, 'Ada')
  const older = await node.post({ text: 'Kaypro II manual, first scan' })
  const newer = await node.post({ text: 'Osborne 1 schematics' })
  const ui = await tuiFor(t, node)
  await openOwnProfile(ui)
  await ui.until('Osborne 1 schematics')
  t.ok(ui.frame().includes('e edit') && ui.frame().includes('d delete'), 'the footer says e edits and d deletes')
  ui.press('e')
  await ui.until('Ctrl-S save')
  ui.press(K.ctrlU, 'Osborne 1 schematics, rev B', K.ctrlS)
  await ui.until('Osborne 1 schematics, rev B')
  await ui.until('· edited')
  t.is((await node.getPost(newer.ref))?.text, 'Osborne 1 schematics, rev B', 'edited in your feed')
  t.is(top(ui.c.state)?.kind, 'profile', 'still on your profile')

  ui.press('j', 'd')
  await ui.until('Delete this post?')
  ui.press('n')
  await waitFor(() => ui.c.state.confirm === null)
  t.absent((await node.getPost(older.ref))?.deleted, 'n: nothing deleted')
  ui.press('d')
  await ui.until('Delete this post?')
  ui.press('y')
  await ui.until('(deleted by its author)')
  t.ok((await node.getPost(older.ref))?.deleted, 'the selected post is deleted in your feed')
  t.absent(ui.frame().includes('Kaypro II manual, first scan'), 'its text is gone from the list')
  t.ok(ui.frame().includes('Osborne 1 schematics, rev B'), 'the other one stays')
  ui.press('d')
  await ui.until('That post is deleted already')
})

test('your profile: p on a post of yours on the timeline or in a thread opens it, with its keys; a comment written in a thread shows once back', async (t) => {
  const node = await makeNode(t, 'Ada')
  await node.post({ text: 'Kaypro II manual, first scan' })
  const ui = await tuiFor(t, node)
  await ui.until('Kaypro II manual, first scan')
  ui.press('p')
  await ui.until('› Your profile')
  await ui.until('Your posts and comments, newest first')
  const footer = ui.frame().split('\n').at(-1) ?? ''
  t.ok(footer.includes('e edit') && footer.includes('d delete'), `your keys in the footer: ${footer}`)
  t.absent(footer.includes('follow'), 'no follow/block of yourself')
  ui.press(K.esc)
  await ui.until('Newest posts of you')
  ui.press(K.enter)
  await ui.until('Thread · 0 comments')
  ui.press('p')
  await ui.until('› Your profile')
  // A thread from your profile, a comment there, back: the comment is in the list.
  ui.press(K.enter)
  await ui.until('Thread · 0 comments')
  ui.press('r')
  await ui.until('Reply to')
  ui.press('Scanned at 600 dpi', K.enter)
  await ui.until('Commented.')
  ui.press(K.esc)
  await ui.until('› Your profile')
  await ui.until('Scanned at 600 dpi')
})
