import test from 'brittle'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { daemon, freeUdpPort, json } from './helpers-cli.js'

// Whole CLI processes on a loopback bootstrap: the way people use Chrysalis.

type PostJson = { ref: string; text: string; authorName: string }

test('e2e: A posts and serves; B follows and syncs; A goes offline and D gets A\'s feed from B; discover lists A and B', async (t) => {
  const dir = await tmpDir(t)
  const port = await freeUdpPort()
  const boot = daemon(t, ['bootstrap', '--host', '127.0.0.1', '--port', String(port)])
  const address = (await boot.waitFor(/127\.0\.0\.1:\d+/)).trim()
  const net = ['--bootstrap', address]
  const home = (n: string): string[] => ['--home', path.join(dir, n)]

  const a = await json<{ id: string }>(t, [...home('a'), 'init', '--name', 'Ada', '--bio', 'Kaypro manuals'])
  const post = await json<PostJson>(t, [...home('a'), 'post', 'Kaypro II manual, 1982 #vintage-manuals'])
  // Ada joins the interest topic once (discover remembers it), then serves.
  await json(t, [...home('a'), ...net, 'discover', 'vintage-manuals', '--timeout', '3'])
  const serveA = daemon(t, [...home('a'), ...net, 'serve'])
  await serveA.waitFor(/serving Ada/)
  // While Ada's node runs, her other commands go through it (it holds the store).
  const viaSocket = await json<PostJson>(t, [...home('a'), 'post', '-'], { input: 'posted through the running node' })
  t.is(viaSocket.text, 'posted through the running node')

  const b = await json<{ id: string }>(t, [...home('b'), 'init', '--name', 'Bob', '--bio', 'TRS-80 service guides'])
  await json(t, [...home('b'), 'follow', a.id])
  const sync = await json<{ feeds: Array<{ id: string; changedPosts: number; reachable: boolean }> }>(t, [...home('b'), ...net, 'sync', '--timeout', '15'])
  t.is(sync.feeds[0]?.id, a.id)
  t.ok((sync.feeds[0]?.changedPosts ?? 0) >= 1, 'the sync brought Ada\'s post')
  const tl = await json<{ posts: PostJson[] }>(t, [...home('b'), 'timeline'])
  t.alike(tl.posts.map((p) => p.text), ['posted through the running node', 'Kaypro II manual, 1982 #vintage-manuals'], 'Bob sees Ada\'s posts')
  t.is(tl.posts[1]?.authorName, 'Ada')

  // Bob joins the topic and discover lists Ada by name; then Bob serves what he follows.
  const found = await json<{ people: Array<{ id: string; name: string; bio: string; via: string }> }>(t, [...home('b'), ...net, 'discover', 'Vintage Manuals', '--timeout', '10'])
  const ada = found.people.find((p) => p.id === a.id)
  t.is(ada?.name, 'Ada', 'discover lists Ada by name')
  t.is(ada?.bio, 'Kaypro manuals')
  const serveB = daemon(t, [...home('b'), ...net, 'serve'])
  await serveB.waitFor(/serving Bob/)

  // Dee, who follows Ada and Bob, discovers both on the topic.
  await json(t, [...home('d'), 'init', '--name', 'Dee'])
  const seen = await json<{ people: Array<{ id: string; name: string }> }>(t, [...home('d'), ...net, 'discover', 'vintage-manuals', '--timeout', '10'])
  t.alike(seen.people.map((p) => p.name).sort(), ['Ada', 'Bob'], 'discover lists A and B by name')

  // Ada goes offline; Dee follows her and still gets her feed, from Bob.
  t.is(await serveA.stop(), 0, 'serve exits cleanly on SIGTERM')
  await json(t, [...home('d'), 'follow', a.id])
  await json(t, [...home('d'), ...net, 'sync', '--timeout', '15'])
  const dtl = await json<{ posts: PostJson[] }>(t, [...home('d'), 'timeline'])
  t.alike(dtl.posts.map((p) => p.ref).slice(-1), [post.ref], 'Dee reads Ada\'s posts while Ada is offline')
  t.is(dtl.posts[0]?.text, 'posted through the running node')
  t.is(b.id.length, 52)
})
