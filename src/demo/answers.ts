import type { ChrysalisNode } from '../node/node.js'
import type { NotificationView, PostView } from '../node/views.js'
import type { CollectorSpec } from './cast.js'

/**
 * A collector answering newcomers: whoever is not a collector and comments on one of its posts
 * or comments gets a reply within seconds, and whoever follows it is followed back. Collectors
 * never answer each other (that would loop).
 *
 *   const stop = answerNewcomers(node, spec, { collectors, log })
 *   await stop()   // before closing the node: waits for answers being written
 */
export function answerNewcomers(
  node: ChrysalisNode,
  spec: CollectorSpec,
  opts: { collectors: ReadonlySet<string>; log: (line: string) => void }
): () => Promise<void> {
  const me = node.identity.id
  const greeted = new Set<string>()
  const pending = new Set<Promise<void>>()
  let stopped = false

  const answer = async (comment: PostView): Promise<void> => {
    const root = comment.root ? await node.getPost(comment.root) : null
    const text = answerFor(spec, comment, root, !greeted.has(comment.author))
    if (stopped) return
    greeted.add(comment.author)
    await node.comment(comment.ref, text)
    opts.log(`${spec.name} answered ${comment.authorName ?? comment.author.slice(0, 8)}`)
  }

  const followBack = async (id: string): Promise<void> => {
    if (stopped) return
    await node.follow(id)
    opts.log(`${spec.name} followed back ${id.slice(0, 8)}`)
  }

  const onNotification = (n: NotificationView): void => {
    if (!stopped && n.kind === 'follow' && !n.person.following && !opts.collectors.has(n.person.id)) {
      const p = followBack(n.person.id).catch((err: unknown) => {
        opts.log(`${spec.name} could not follow back: ${err instanceof Error ? err.message : String(err)}`)
      })
      pending.add(p)
      void p.finally(() => pending.delete(p))
      return
    }
    if (stopped || n.kind !== 'comment' || !n.post || n.post.deleted) return
    const comment = n.post
    if (!shouldAnswer(comment, me, opts.collectors)) return
    const p = answer(comment).catch((err: unknown) => {
      opts.log(`${spec.name} could not answer: ${err instanceof Error ? err.message : String(err)}`)
    })
    pending.add(p)
    void p.finally(() => pending.delete(p))
  }

  node.on('notification', onNotification)
  return async () => {
    stopped = true
    node.off('notification', onNotification)
    await Promise.all(pending)
  }
}

/**
 * Answer a newcomer's comment when it replies to me, or when it replies to another newcomer in
 * my thread (so exactly one collector answers each comment).
 */
export function shouldAnswer(comment: PostView, me: string, collectors: ReadonlySet<string>): boolean {
  if (collectors.has(comment.author) || comment.author === me || !comment.replyTo) return false
  const parentAuthor = authorOf(comment.replyTo)
  if (parentAuthor === me) return true
  return !collectors.has(parentAuthor) && comment.root !== null && authorOf(comment.root) === me
}

/** A short, friendly answer that picks up on what the comment asks and on the thread's scan. */
export function answerFor(spec: CollectorSpec, comment: PostView, root: PostView | null, greet: boolean): string {
  const text = comment.text.toLowerCase()
  const scan = root?.attachments[0]?.name
  const hello = greet ? `Welcome${comment.authorName ? `, ${comment.authorName}` : ''}! ` : ''
  let body: string
  if (/\b(pages?|missing|blurry|scan|dpi)\b/.test(text)) {
    body = scan
      ? `Every page of ${scan} is there, scanned at 600 dpi. Tell me the page number if one looks wrong and I will rescan it.`
      : 'I rescan anything that looks wrong: tell me the page.'
  } else if (text.includes('?')) {
    body = scan
      ? `Good question. The answer should be in ${scan}: fetch it from this post and check the index at the back.`
      : 'Good question. I will dig through my shelf and answer here.'
  } else if (/\b(thanks?|thank you|cheers)\b/.test(text)) {
    body = scan ? `You're welcome. Keep seeding ${scan} once you have it, so it outlives my shelf.` : "You're welcome, glad it helps."
  } else {
    body = scan ? `Glad you found this. ${scan} is seeded from here whenever I'm online: fetch it from this post.` : 'Glad you found us here.'
  }
  return `${hello}${body} ${spec.signOff}`
}

/** The author ID of a ref "AUTHOR-ID/POST-ID". */
function authorOf(ref: string): string {
  return ref.slice(0, ref.indexOf('/'))
}
