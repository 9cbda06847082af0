// The terminal UI never waits for the network, and shows what arrives from it without a key:
// comments that arrive while their thread is open appear in it (the selection stays on its
// post); the cached timeline is drawn as soon as the node is open, while it goes online in the
// background.
import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import { threadRows, type UiState } from '../src/tui/store.js'
import { K, mountTui } from './helpers-tui.js'
import { onlineNode, waitFor } from './helpers.js'

test('live thread: comments from another node appear in the open thread, no key pressed; the selection stays on its post', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const me = await onlineNode(t, testnet, 'Ada')
  me.live()
  const lin = await onlineNode(t, testnet, 'Lin Commodore')
  const mine = await me.post({ text: 'Looking for a VIC-20 programmer reference' })
  await lin.follow(me.identity.publicKey)
  await waitFor(async () => (await lin.getPost(mine.ref)) !== null, 20_000, 'Lin sees our post')
  const first = await lin.comment(mine.ref, 'First: I have the reference')
  const second = await lin.comment(mine.ref, 'Second: and the VIC-20 service manual')
  const ui = await mountTui(t, { home: me.home, openNode: () => Promise.resolve(me) })
  await ui.until('VIC-20 programmer reference')
  ui.press(K.enter)
  // Lin is not followed: the comments arrive as notifications, and the open thread shows them.
  await ui.until('Second: and the VIC-20 service manual', 20_000)
  await ui.until('Thread · 2 comments')
  ui.press('G') // the last comment
  await waitFor(() => selectedRef(ui.c.state) === second.ref, 5000, 'the second comment selected')
  // Followed now, Lin answers the first comment: a reply that goes above the selected comment.
  await me.follow(lin.identity.publicKey)
  await lin.comment(first.ref, 'Reply: scanning it tonight')
  await ui.until('Reply: scanning it tonight', 20_000)
  await ui.until('Thread · 3 comments')
  t.is(selectedRef(ui.c.state), second.ref, 'the selection stays on the comment it was on')
  t.absent(ui.frames().some((f) => f.includes('Reply to')), 'no key but G was pressed')
})

function selectedRef(s: UiState): string | null {
  const top = s.stack.at(-1)
  if (top?.kind !== 'thread') return null
  return threadRows(top.thread)[top.selected]?.post?.ref ?? null
}
