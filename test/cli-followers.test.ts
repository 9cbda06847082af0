import test from 'brittle'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { daemon, json, loopbackBootstrap, run } from './helpers-cli.js'

// Whole CLI processes on a loopback bootstrap: Bob follows Ada while offline; his next sync tells
// Ada's running node, and `followers` and `notifications` (through her socket) show it.

type Follower = { id: string; fingerprint: string; name: string | null; since: number; following: boolean }

test('cli: a follow made offline reaches the followed node at the next sync; followers and notifications show it', async (t) => {
  const dir = await tmpDir(t)
  const net = await loopbackBootstrap(t)
  const home = (n: string): string[] => ['--home', path.join(dir, n)]

  const a = await json<{ id: string }>(t, [...home('a'), 'init', '--name', 'Ada'])
  const none = await run([...home('a'), 'followers'])
  t.is(none.code, 0)
  t.ok(/Nobody follows you yet/.test(none.stdout), 'an empty list says so')
  const serveA = daemon(t, [...home('a'), ...net, 'serve'])
  await serveA.waitFor(/serving Ada/)

  const b = await json<{ id: string; fingerprint: string }>(t, [...home('b'), 'init', '--name', 'Bob'])
  await json(t, [...home('b'), 'follow', a.id]) // offline: queued
  const synced = await json<{ delivered: number }>(t, [...home('b'), ...net, 'sync', '--timeout', '15'])
  t.is(synced.delivered, 1, 'the sync delivered the follow notice')

  const list = await json<{ followers: Follower[] }>(t, [...home('a'), 'followers', '--limit', '5'])
  t.alike(list.followers.map((p) => [p.id, p.name, p.following]), [[b.id, 'Bob', false]], '--json: Bob follows Ada, not followed back')
  const text = await run([...home('a'), 'followers'])
  t.ok(text.stdout.includes(`Bob (${b.fingerprint})  ${b.id}`), text.stdout)

  const notes = await run([...home('a'), 'notifications'])
  t.is(notes.code, 0)
  t.ok(notes.stdout.includes(`Bob (${b.fingerprint}) followed you`), notes.stdout)
  t.ok(notes.stdout.includes(`follow back: chrysalis follow ${b.id}`), 'and how to follow back')
  const notesJson = await json<{ notifications: Array<{ kind: string; person?: Follower }> }>(t, [...home('a'), 'notifications'])
  t.is(notesJson.notifications[0]?.kind, 'follow')
  t.is(notesJson.notifications[0]?.person?.id, b.id)

  const help = await run(['followers', '--help'])
  t.ok(help.stdout.split('\n').every((l) => [...l].length <= 80), 'help within 80 columns')
  t.ok(/usage: chrysalis followers \[--limit N\]/.test(help.stdout))
})
