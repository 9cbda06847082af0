import { displayLine } from '../display.js'
import type { FollowerView, NotificationView, PersonView, PostView, ProfileView, ThreadNode, ThreadView } from '../node/views.js'
import { formatBytes } from '../units.js'

export { formatBytes }

/** Human-readable output. --json bypasses all of this and prints the views as they are. */
export function formatPost(p: PostView, opts: { now?: number; indent?: string } = {}): string {
  const indent = opts.indent ?? ''
  const who = `${p.authorName !== null ? displayLine(p.authorName) : '(no name)'} (${p.fingerprint})`
  const meta = [who, age(p.createdAt, opts.now ?? Date.now())]
  if (p.editedAt !== null && !p.deleted) meta.push('edited')
  if (p.replyTo) meta.push(`reply to ${shortRef(p.replyTo)}`)
  if (p.topics.length) meta.push(p.topics.map((t) => '#' + t).join(' '))
  const lines = [indent + meta.join(' · ')]
  if (p.deleted) lines.push(indent + '  [deleted by its author]')
  else for (const line of p.text.split('\n')) lines.push(indent + '  ' + line)
  for (const a of p.attachments) lines.push(`${indent}  📎 ${displayLine(a.name)} (${formatBytes(a.size)}) ${a.infohash.slice(0, 16)}…`)
  const tail = [`ref ${p.ref}`]
  if (p.comments !== undefined) tail.push(`${p.comments} comment${p.comments === 1 ? '' : 's'}`)
  lines.push(indent + '  ' + tail.join(' · '))
  return lines.join('\n')
}

export function formatPosts(posts: PostView[], empty: string): string {
  return posts.length === 0 ? empty : posts.map((p) => formatPost(p)).join('\n\n')
}

export function formatThread(t: ThreadView): string {
  const out: string[] = []
  out.push(t.root ? formatPost(t.root) : `(the thread's first post, ${t.rootRef}, is not available here)`)
  const walk = (nodes: ThreadNode[], depth: number): void => {
    for (const n of nodes) {
      out.push('')
      out.push(formatPost(n, { indent: '    '.repeat(depth) }))
      walk(n.children, depth + 1)
    }
  }
  walk(t.comments, 1)
  return out.join('\n')
}

export function formatProfile(p: ProfileView): string {
  return [
    `${p.name !== null ? displayLine(p.name) : '(no name)'}`,
    `  ID:          ${p.id}`,
    `  Fingerprint: ${p.fingerprint}`,
    ...(p.bio ? [`  Bio:         ${displayLine(p.bio)}`] : []),
    ...(p.recovering ? ['  Status:      restored; posting is off until its feed is recovered from peers'] : [])
  ].join('\n')
}

export function formatPeople(people: PersonView[], empty: string): string {
  if (people.length === 0) return empty
  return people.map((p) => `${p.name !== null ? displayLine(p.name) : '(no name)'} (${p.fingerprint})  ${p.id}`).join('\n')
}

/** Who follows you, each with whether you follow them back. */
export function formatFollowers(people: FollowerView[], empty: string): string {
  if (people.length === 0) return empty
  return people.map((p) => `${nameOf(p)} (${p.fingerprint})  ${p.id}${p.following ? '\n  you follow them too' : ''}`).join('\n')
}

/** One notification: a comment or mention with its post, or "NAME (fingerprint) followed you". */
export function formatNotification(n: NotificationView): string {
  if (n.kind === 'follow') {
    const p = n.person
    return `${nameOf(p)} (${p.fingerprint}) followed you\n  ${p.following ? `you follow them too: ${p.id}` : `follow back: chrysalis follow ${p.id}`}`
  }
  return n.post ? `${n.kind === 'comment' ? 'Comment' : 'Mention'}:\n${formatPost(n.post, { indent: '  ' })}` : `${n.kind} ${n.ref ?? ''} (not available here now)`
}

const nameOf = (p: PersonView): string => (p.name !== null ? displayLine(p.name) : '(no name)')

export function shortRef(ref: string): string {
  const [author = '', id = ''] = ref.split('/')
  return `${author.slice(0, 6)}…/${id}`
}

export function age(t: number, now: number): string {
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  if (s < 86400 * 60) return `${Math.floor(s / 86400)}d ago`
  return new Date(t).toISOString().slice(0, 10)
}
