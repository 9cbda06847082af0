import path from 'node:path'
import type { DhtNodeAddress } from 'hyperdht'
import { saveIdentity } from '../identity/home.js'
import { Identity } from '../identity/keys.js'
import { startBootstrap } from '../net/dht.js'
import { ChrysalisNode } from '../node/node.js'
import { answerNewcomers } from './answers.js'
import { COLLECTORS, CONVERSATIONS, INTEREST, type CollectorSpec } from './cast.js'
import { MiB, formatMiB, scanPath, writeScan } from './scans.js'

/** A running demo community: a loopback DHT and the collectors on it. */
export interface Community {
  /** The DHT bootstrap node, "127.0.0.1:PORT": pass it as `--bootstrap`. */
  bootstrap: string
  collectors: Array<{ name: string; id: string }>
  /** Close every collector, then the DHT. Safe to call twice. */
  close(): Promise<void>
}

/** One collector: its node, a clock that can be set back for the history, its answering. */
interface Member {
  spec: CollectorSpec
  node: ChrysalisNode
  clock: StoryClock
  stopAnswering: () => Promise<void>
}

const DAY = 24 * 60 * 60 * 1000
const HOUR = 60 * 60 * 1000
/** The history spreads posts over two weeks and conversations over the last two days. */
const POSTS_FROM = 14 * DAY
const POSTS_TO = 3 * DAY
const COMMENTS_FROM = 2 * DAY
const COMMENTS_TO = 1 * HOUR
/** How long one collector may wait for another's post to reach it. */
const REACH_MS = 10_000

/**
 * Start the demo community: a DHT on 127.0.0.1 and a few collectors of vintage computer manuals
 * on it, each with a home under `dir`, a profile, posts (several with a scan attached, seeded),
 * conversations with the others, and a habit of answering newcomers who comment. A newcomer on
 * the same DHT finds them on the "vintage-manuals" topic.
 *
 *   const community = await startCommunity({ dir, log: (l) => console.error(l) })
 *   // chrysalis --bootstrap ${community.bootstrap} discover vintage-manuals
 *   await community.close()
 */
export async function startCommunity(opts: { dir: string; log?: (line: string) => void }): Promise<Community> {
  const log = opts.log ?? (() => {})
  log('starting a local DHT on 127.0.0.1…')
  const boot = await startBootstrap({ host: '127.0.0.1', port: 0 })
  const members: Member[] = []
  let closing: Promise<void> | null = null
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.all(members.map((m) => m.stopAnswering()))
      await Promise.all(members.map((m) => m.node.close()))
      await boot.destroy()
    })()
    return closing
  }
  try {
    members.push(...(await openMembers(opts.dir, log)))
    const history = historyTimes(Date.now())
    log(`writing the collectors' posts and manual scans into ${opts.dir}…`)
    const refs = new Map((await Promise.all(members.map((m) => publish(m, opts.dir, history.posts)))).flat())
    log(`bringing ${members.length} collectors online on "${INTEREST}"…`)
    await Promise.all(members.map((m) => goOnline(m, boot.address)))
    await Promise.all(members.map((m) => followEveryone(m, members)))
    await converse(members, refs, history.comments)
    // Deliver every comment's notification, so each thread's author has backlinked its comments.
    await Promise.all(members.map((m) => m.node.sync({ timeoutMs: 5000 })))
    const ids = new Set(members.map((m) => m.node.identity.id))
    for (const m of members) {
      m.clock.set(null)
      m.stopAnswering = answerNewcomers(m.node, m.spec, { collectors: ids, log })
      log(summary(m))
    }
  } catch (err) {
    await close()
    throw err
  }
  return {
    bootstrap: `127.0.0.1:${boot.address.port}`,
    collectors: members.map((m) => ({ name: m.spec.name, id: m.node.identity.id })),
    close
  }
}

/** Open every collector's home; on a failure, close those already open. */
async function openMembers(dir: string, log: (line: string) => void): Promise<Member[]> {
  log(`creating ${COLLECTORS.length} collectors…`)
  const opened = await Promise.allSettled(COLLECTORS.map((spec) => openMember(dir, spec)))
  const members = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = opened.find((r) => r.status === 'rejected')
  if (failed) {
    await Promise.all(members.map((m) => m.node.close()))
    throw failed.reason
  }
  return members
}

async function openMember(dir: string, spec: CollectorSpec): Promise<Member> {
  const home = path.join(dir, 'collectors', spec.key)
  await saveIdentity(home, Identity.generate())
  const clock = new StoryClock()
  const node = await ChrysalisNode.open({ home, now: () => clock.now() })
  try {
    clock.set(Date.now() - POSTS_FROM - DAY)
    await node.setProfile({ name: spec.name, bio: spec.bio })
  } catch (err) {
    await node.close()
    throw err
  }
  return { spec, node, clock, stopAnswering: () => Promise.resolve() }
}

/** Write this collector's scans and posts, each at its time in the history; [post key, ref]. */
async function publish(m: Member, dir: string, times: Map<string, number>): Promise<Array<[string, string]>> {
  const refs: Array<[string, string]> = []
  for (const post of m.spec.posts) {
    const attach: string[] = []
    if (post.scan) {
      const file = scanPath(dir, post.scan.file)
      await writeScan(file, post.scan.mib * MiB)
      attach.push(file)
    }
    m.clock.set(times.get(post.key)!)
    refs.push([post.key, (await m.node.post({ text: post.text, attach })).ref])
  }
  return refs
}

async function goOnline(m: Member, bootstrap: DhtNodeAddress): Promise<void> {
  await m.node.online({ bootstrap: [bootstrap] })
  m.node.live()
  // Remembers the interest: the node announces itself there from now on.
  await m.node.discover(INTEREST, { timeoutMs: 2000 })
}

async function followEveryone(m: Member, members: Member[]): Promise<void> {
  for (const other of members) if (other !== m) await m.node.follow(other.node.identity.publicKey)
  await m.node.sync({ timeoutMs: 5000 })
}

/** Play the conversations out in order, each comment once its parent has reached the writer. */
async function converse(members: Member[], refs: Map<string, string>, times: number[]): Promise<void> {
  const byKey = new Map(members.map((m) => [m.spec.key, m]))
  for (const [i, c] of CONVERSATIONS.entries()) {
    const writer = byKey.get(c.by)
    const parent = refs.get(c.on)
    if (!writer || !parent) throw new Error(`the demo script is broken: comment ${c.key} answers unknown ${c.on}`)
    await reach(writer, parent)
    writer.clock.set(times[i]!)
    refs.set(c.key, (await writer.node.comment(parent, c.text)).ref)
  }
}

/** Wait until a post has reached a collector (followed feeds replicate live). */
async function reach(m: Member, ref: string): Promise<void> {
  const deadline = Date.now() + REACH_MS
  while (!(await m.node.getPost(ref))) {
    if (Date.now() > deadline) throw new Error(`the demo community could not start: ${m.spec.name} did not receive post ${ref} within ${REACH_MS / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * When each post and comment of the history happened: posts round-robin across collectors over
 * two weeks, comments in script order over the last two days, so every feed's clock only moves
 * forward.
 */
function historyTimes(now: number): { posts: Map<string, number>; comments: number[] } {
  const order: string[] = []
  const most = Math.max(...COLLECTORS.map((c) => c.posts.length))
  for (let i = 0; i < most; i++) for (const c of COLLECTORS) if (c.posts[i]) order.push(c.posts[i]!.key)
  const posts = new Map(order.map((key, i) => [key, spread(now, POSTS_FROM, POSTS_TO, i, order.length)]))
  const comments = CONVERSATIONS.map((_, i) => spread(now, COMMENTS_FROM, COMMENTS_TO, i, CONVERSATIONS.length))
  return { posts, comments }
}

function spread(now: number, from: number, to: number, i: number, n: number): number {
  return Math.round(now - from + ((from - to) * i) / Math.max(1, n - 1))
}

function summary(m: Member): string {
  const scans = m.spec.posts.flatMap((p) => (p.scan ? [p.scan] : []))
  const bytes = scans.reduce((sum, s) => sum + s.mib * MiB, 0)
  const comments = CONVERSATIONS.filter((c) => c.by === m.spec.key).length
  const files = scans.length ? `, ${scans.length} scan${scans.length > 1 ? 's' : ''} (${formatMiB(bytes)})` : ''
  return `collector ${m.spec.name}: ${m.spec.posts.length} posts${files}, ${comments} comments`
}

/** The node's clock: set back while the history is written, then real time again. */
class StoryClock {
  private at: number | null = null

  set(at: number | null): void {
    this.at = at
  }

  now(): number {
    return this.at ?? Date.now()
  }
}
