// Look before you follow: a profile read sparsely from someone's feed, without following them.
import test from 'brittle'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { Identity } from '../src/identity/keys.js'
import { internals, onlineNode, tmpDir } from './helpers.js'
import { daemon, freeUdpPort, json } from './helpers-cli.js'

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

test('cli: look ID shows someone not followed (name, bio, newest posts) from their serving node', async (t) => {
  const dir = await tmpDir(t)
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  const net = ['--bootstrap', (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()]
  const home = (n: string): string[] => ['--home', path.join(dir, n)]
  const ada = await json<{ id: string }>(t, [...home('a'), 'init', '--name', 'Ada', '--bio', 'Kaypro manuals'])
  await json(t, [...home('a'), 'post', 'Kaypro II manual, 1982 #vintage-manuals'])
  const serve = daemon(t, [...home('a'), ...net, 'serve'])
  await serve.waitFor(/serving Ada/)
  await json(t, [...home('b'), 'init', '--name', 'Bob'])
  const seen = await json<{ profile: { name: string; bio: string }; posts: Array<{ text: string }>; following: boolean; reachable: boolean }>(t, [...home('b'), ...net, 'look', ada.id, '--timeout', '15'])
  t.ok(seen.reachable)
  t.alike([seen.profile.name, seen.profile.bio], ['Ada', 'Kaypro manuals'])
  t.alike(seen.posts.map((p) => p.text), ['Kaypro II manual, 1982 #vintage-manuals'])
  t.absent(seen.following)
  const { following } = await json<{ following: unknown[] }>(t, [...home('b'), 'following'])
  t.alike(following, [], 'looking followed nobody')
})
