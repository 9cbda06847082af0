import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { startCommunity } from '../src/demo/community.js'
import { answerFor, shouldAnswer } from '../src/demo/answers.js'
import { COLLECTORS, INTEREST } from '../src/demo/cast.js'
import { scanPath, writeScan } from '../src/demo/scans.js'
import { parseBootstrap } from '../src/net/dht.js'
import type { PostView, ThreadNode } from '../src/node/views.js'
import { makeNode, tmpDir, waitFor } from './helpers.js'

test('demo: a newcomer finds the collectors, reads, comments, is answered and fetches a scan', async (t) => {
  const dir = path.join(await tmpDir(t), 'community')
  const started = Date.now()
  const community = await startCommunity({ dir })
  t.comment(`startCommunity took ${Date.now() - started} ms`)
  t.teardown(() => community.close()) // after the newcomer (order -1), before the directory (10)
  t.is(community.collectors.length, COLLECTORS.length)
  t.ok(/^127\.0\.0\.1:\d+$/.test(community.bootstrap), 'a loopback bootstrap')

  const me = await makeNode(t, 'Newcomer')
  await me.online({ bootstrap: parseBootstrap([community.bootstrap]) })
  const ids = community.collectors.map((c) => c.id)
  await waitFor(async () => {
    const found = await me.discover(INTEREST, { timeoutMs: 5000 })
    return ids.every((id) => found.people.some((p) => p.id === id))
  }, 20_000, 'every collector on the interest topic')
  t.pass(`found all ${ids.length} collectors on "${INTEREST}"`)

  const ada = community.collectors.find((c) => c.name === 'Ada Kaypro')!
  await me.follow(ada.id)
  await me.sync({ timeoutMs: 10_000 })
  await waitFor(async () => (await me.followers()).some((f) => f.id === ada.id), 15_000, 'Ada following back')
  t.ok((await me.notifications()).some((n) => n.kind === 'follow' && n.person.id === ada.id), 'Ada followed back: "Ada Kaypro followed you"')
  const posts = (await me.timeline()).posts.filter((p) => p.author === ada.id)
  t.is(posts.length, 3, "Ada's three posts in the timeline")
  const kaypro = posts.find((p) => p.attachments.some((a) => a.name === 'kaypro-ii-users-guide-1982.pdf'))!
  t.ok(kaypro, 'the Kaypro II guide, with its scan')
  t.ok(kaypro.createdAt < Date.now() - 24 * 60 * 60 * 1000, 'the history is set in the past')

  await waitFor(async () => (await me.thread(kaypro.ref)).count === 5, 15_000, 'the five comments of the Kaypro thread')
  const before = await me.thread(kaypro.ref)
  t.ok(depth(before.comments) >= 3, 'the comments form a tree')

  const asked = Date.now()
  const mine = await me.comment(kaypro.ref, 'Is the schematics foldout on page 47 complete? Thanks for sharing!')
  let answer: ThreadNode | undefined
  await waitFor(async () => {
    answer = flatten((await me.thread(kaypro.ref)).comments).find((c) => c.replyTo === mine.ref)
    return answer !== undefined
  }, 20_000, "Ada's answer")
  t.comment(`answered in ${Date.now() - asked} ms: ${answer!.text}`)
  t.is(answer!.author, ada.id, 'Ada answers')
  await waitFor(async () => (await me.notifications()).some((n) => 'post' in n && n.post?.ref === answer!.ref), 10_000, 'a notification of the answer')
  t.is((await me.thread(kaypro.ref)).count, 7, 'one answer, no collector answered another')

  const [target] = await me.files.resolve(kaypro.ref)
  const fetched = await me.files.fetch(target!, { out: path.join(await tmpDir(t), 'downloads') })
  const got = await fs.readFile(fetched.path!)
  const original = await fs.readFile(scanPath(dir, 'kaypro-ii-users-guide-1982.pdf'))
  t.is(got.subarray(0, 8).toString('latin1'), '%PDF-1.4')
  t.ok(got.equals(original), `the fetched scan (${got.length} bytes) is the collector's file`)
})

test('demo: scans are deterministic pseudo-PDFs of the size asked', async (t) => {
  const dir = await tmpDir(t)
  const a = path.join(dir, 'a', 'x-1982.pdf')
  const b = path.join(dir, 'b', 'x-1982.pdf')
  const c = path.join(dir, 'c', 'y-1982.pdf')
  for (const f of [a, b, c]) await writeScan(f, 3 * 1024 * 1024 + 17)
  const [ba, bb, bc] = await Promise.all([a, b, c].map((f) => fs.readFile(f)))
  t.is(ba!.length, 3 * 1024 * 1024 + 17)
  t.ok(ba!.equals(bb!), 'same name and size, same bytes')
  t.absent(ba!.equals(bc!), 'another name, other bytes')
  t.ok(ba!.subarray(-7).toString('latin1') === '\n%%EOF\n')
})

test('demo: collectors answer newcomers only, one collector per comment', (t) => {
  const [ada, grace, you, other] = ['ada', 'grace', 'you', 'other'].map((n) => n.padEnd(52, 'x'))
  const collectors = new Set([ada!, grace!])
  const comment = (author: string, parent: string, root: string): PostView => ({
    ref: `${author}/02`, author, authorName: 'You', fingerprint: '', id: '02', createdAt: 0, text: 'Thanks a lot!',
    topics: [], mentions: [], attachments: [], replyTo: `${parent}/01`, root: `${root}/00`, editedAt: null, deleted: false
  })
  t.ok(shouldAnswer(comment(you!, ada!, ada!), ada!, collectors), 'a newcomer answering Ada')
  t.absent(shouldAnswer(comment(you!, ada!, ada!), grace!, collectors), 'only the collector answered')
  t.ok(shouldAnswer(comment(you!, grace!, ada!), grace!, collectors), "Grace's comment in Ada's thread: Grace answers")
  t.absent(shouldAnswer(comment(you!, grace!, ada!), ada!, collectors), '… and Ada does not')
  t.ok(shouldAnswer(comment(you!, other!, ada!), ada!, collectors), "newcomers talking in Ada's thread: Ada answers")
  t.absent(shouldAnswer(comment(grace!, ada!, ada!), ada!, collectors), 'never a collector')
  const text = answerFor(COLLECTORS[0]!, comment(you!, ada!, ada!), null, true)
  t.ok(text.startsWith('Welcome, You!') && text.includes("You're welcome"), text)
})

function flatten(nodes: ThreadNode[]): ThreadNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)])
}

function depth(nodes: ThreadNode[]): number {
  return nodes.reduce((d, n) => Math.max(d, 1 + depth(n.children)), 0)
}
