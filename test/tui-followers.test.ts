// The terminal UI on a real node: someone follows you, Notifications says "NAME followed you",
// f follows back, p opens their profile, and People lists them under Followers.
import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import { K, mountTui } from './helpers-tui.js'
import { onlineNode, waitFor } from './helpers.js'

test('tui: "NAME followed you" in Notifications; f follows back; p their profile; People → Followers lists them', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const me = await onlineNode(t, testnet, 'Ada')
  me.live()
  const lin = await onlineNode(t, testnet, 'Lin Commodore')
  const ui = await mountTui(t, { home: me.home, openNode: () => Promise.resolve(me) })
  await ui.until('1 Timeline')

  await lin.follow(me.identity.publicKey)
  await ui.until('Notifications (1)', 20_000)
  await ui.until('Lin Commodore followed you (3 shows it') // the message line
  ui.press('3')
  await ui.until(/› Lin Commodore followed you/)
  await ui.until('f follows back')

  ui.press('f')
  await ui.until('you follow them too')
  await waitFor(async () => (await me.followingList()).some((p) => p.id === lin.identity.id), 10_000, 'Ada follows Lin')
  t.pass('f followed back')

  ui.press('p')
  await waitFor(() => ui.c.state.stack.at(-1)?.kind === 'profile', 5000, 'a profile')
  const top = ui.c.state.stack.at(-1)
  t.is(top?.kind === 'profile' ? top.id : null, lin.identity.id, "p opened the follower's profile")
  ui.press(K.esc)

  ui.press('2', K.right)
  await ui.until('Followers (1)')
  await ui.until('· you follow them')
  t.ok(ui.frame().includes('Lin Commodore'), 'the Followers pane lists Lin')
  ui.press(K.enter)
  await waitFor(() => ui.c.state.stack.at(-1)?.kind === 'profile', 5000, 'Enter opens the profile')
  t.pass('Enter on a follower opens their profile')
})
