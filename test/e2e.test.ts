import test from 'brittle'
import path from 'node:path'
import { tmpDir, waitFor } from './helpers.js'
import { daemon, json, loopbackBootstrap } from './helpers-cli.js'

// Whole CLI processes on a loopback bootstrap: the way people use Chrysalis.

type PostJson = { ref: string; text: string; authorName: string }

test('e2e: A posts and serves; B follows, syncs, comments; A sees it via her socket; C sees it via A; discover lists A and B; D gets A\'s feed from B while A is offline', async (t) => {
  const dir = await tmpDir(t)
  const net = await loopbackBootstrap(t)
  const home = (n: string): string[] => ['--home', path.join(dir, n)]

  const a = await json<{ id: string }>(t, [...home('a'), 'init', '--name', 'Ada', '--bio', 'Kaypro manuals'])
  const post = await json<PostJson>(t, [...home('a'), 'post', 'Kaypro II manual, 1982 #vintage-manuals'])
  // Her post put Ada on the topic (she never runs discover): serving announces it.
  const topics = await json<{ topics: Array<{ name: string }> }>(t, [...home('a'), 'topics'])
  t.alike(topics.topics.map((x) => x.name), ['vintage-manuals'], 'the post put Ada on its topic')
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

  // Bob comments (through his running node); Ada's running node verifies it, backlinks it, and
  // she sees it in the thread and in her notifications, via her local socket.
  const comment = await json<PostJson>(t, [...home('b'), 'comment', post.ref, 'Pages 40-52 are the schematics.'])
  await waitFor(async () => {
    const th = await json<{ comments: PostJson[] }>(t, [...home('a'), 'thread', post.ref])
    return th.comments.some((c) => c.ref === comment.ref)
  }, 30_000, "Bob's comment in Ada's thread")
  const notes = await json<{ notifications: Array<{ kind: string; post: PostJson | null }> }>(t, [...home('a'), 'notifications'])
  t.is(notes.notifications[0]?.kind, 'comment')
  t.is(notes.notifications[0]?.post?.ref, comment.ref, "Ada's notifications show Bob's comment")

  // Cy follows only Ada, and still sees Bob's comment in the thread (through Ada's backlink).
  await json(t, [...home('c'), 'init', '--name', 'Cy'])
  await json(t, [...home('c'), 'follow', a.id])
  const cySync = await json<{ fetchedComments: number }>(t, [...home('c'), ...net, 'sync', '--timeout', '15'])
  t.ok(cySync.fetchedComments >= 1, 'sync fetched the comment by someone Cy does not follow')
  const cyThread = await json<{ comments: PostJson[] }>(t, [...home('c'), 'thread', post.ref])
  t.alike(cyThread.comments.map((c) => c.text), ['Pages 40-52 are the schematics.'], 'Cy sees Bob\'s comment, offline')

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
