import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../fs.js'
import type { PostView, ProfileView } from '../node/views.js'

/**
 * HOME/tui-timeline.json: who you are and the first page of your timeline, as the UI last showed
 * them. The next start draws them with its first frame, before the node is even open (the node
 * and its stores take a few hundred milliseconds more to load), and replaces them as soon as it
 * is. Local and owner-only, like everything in HOME; never sent anywhere.
 *
 *   const saved = readSaved(home)   // null: none, unreadable, or of another version
 *   await writeSaved(home, { me, posts })
 */
export const SAVED_FILE = 'tui-timeline.json'
/** How many of the timeline's posts are saved: a screen or two. */
export const SAVED_POSTS = 30
/** Bump whenever PostView or ProfileView change shape: an older file is then ignored. */
const VERSION = 1
const MAX_BYTES = 1024 * 1024

export interface SavedView {
  me: ProfileView
  posts: PostView[]
}

/** The saved view, read at once (the first frame waits for it); null when there is none to trust. */
export function readSaved(home: string): SavedView | null {
  try {
    const file = path.join(home, SAVED_FILE)
    if (fs.statSync(file).size > MAX_BYTES) return null
    const data = JSON.parse(fs.readFileSync(file, 'utf-8')) as unknown
    return isSaved(data) ? { me: data.me, posts: data.posts } : null
  } catch {
    return null // none yet, or damaged: the node's view comes a moment later anyway
  }
}

/** Save what the UI shows, its first SAVED_POSTS posts (owner-only, replaced whole: a reader sees the old file or the new). */
export async function writeSaved(home: string, view: SavedView): Promise<void> {
  await writeFileAtomic(path.join(home, SAVED_FILE), JSON.stringify({ v: VERSION, me: view.me, posts: view.posts.slice(0, SAVED_POSTS) }), 0o600)
}

function isSaved(d: unknown): d is { v: number; me: ProfileView; posts: PostView[] } {
  if (typeof d !== 'object' || d === null) return false
  const o = d as Record<string, unknown>
  const me = o.me as Record<string, unknown> | null
  return (
    o.v === VERSION &&
    typeof me === 'object' &&
    me !== null &&
    typeof me.id === 'string' &&
    typeof me.fingerprint === 'string' &&
    Array.isArray(o.posts) &&
    o.posts.every((p: unknown) => {
      const q = p as Record<string, unknown> | null
      return typeof q === 'object' && q !== null && typeof q.ref === 'string' && typeof q.text === 'string' && typeof q.createdAt === 'number' && Array.isArray(q.topics) && Array.isArray(q.attachments)
    })
  )
}
