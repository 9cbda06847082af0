// Look before you follow: a profile read sparsely from someone's feed, without following them.
import test from 'brittle'
import createTestnet from 'hyperdht/testnet.js'
import { Identity } from '../src/identity/keys.js'
import { internals, onlineNode } from './helpers.js'

test('look: name, bio, newest posts and follows of someone not followed, from a few blocks of their feed', async (t) => {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const ada = await onlineNode(t, testnet, 'Ada')
  const bob = await onlineNode(t, testnet, 'Bob')
  const carol = Identity.generate().publicKey
  await ada.follow(carol)
  for (let i = 0; i < 600; i++) await ada.post({ text: `Kaypro II manual, page ${i}` })
  const feedLength = internals(ada).own.core.length

  const core = internals(bob).feedOf(ada.identity.publicKey).core
  let downloaded = 0
  core.on('download', () => downloaded++)
  const seen = await bob.look(ada.identity.publicKey, { limit: 5 })
  t.ok(seen.reachable, 'a peer with her feed was found')
  t.is(seen.profile.name, 'Ada')
  t.is(seen.profile.bio, "Ada's bio")
  t.alike(seen.posts.map((p) => p.text), [599, 598, 597, 596, 595].map((i) => `Kaypro II manual, page ${i}`), 'her newest posts, newest first')
  t.alike(seen.follows.map((p) => p.fingerprint.length > 0), [true], 'whom she follows')
  t.absent(seen.following, 'Bob does not follow her')
  t.ok(downloaded > 0 && downloaded <= 100, `a few blocks (hyperbee paths, not the feed): ${downloaded} of ${feedLength}`)
  t.alike(await bob.followingList(), [], 'looking did not follow')
  t.absent(internals(bob).network!['feeds'].has(core.discoveryKey.toString('hex')), 'and left her feed topic after')
})
