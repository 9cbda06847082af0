import { encodeId, fingerprint, toHex } from '../identity/encoding.js'
import type { StoredPost } from '../feeds/feed.js'
import type { BtStatus } from '../transfer/bt-options.js'
import type { DiscoveredPerson, FeedSyncResult } from './presence.js'
import { formatRef, postIdHex } from '../feeds/layout.js'

/**
 * What the node API returns: plain, JSON-ready data. The CLI prints these with --json as they
 * are, and the TUI renders them; neither sees records, keys or buffers.
 */
export interface AttachmentView {
  name: string
  size: number
  infohash: string
}

export interface PostView {
  ref: string
  author: string
  authorName: string | null
  fingerprint: string
  id: string
  createdAt: number
  text: string
  topics: string[]
  mentions: string[]
  attachments: AttachmentView[]
  /** For comments: the post answered and the thread's root post. */
  replyTo: string | null
  root: string | null
  editedAt: number | null
  deleted: boolean
  /** Comments in this post's thread, where known (timeline and thread roots). */
  comments?: number
}

export interface ThreadNode extends PostView {
  children: ThreadNode[]
}

export interface ThreadView {
  /** The thread's root post; null when its author's feed does not hold it here. */
  root: PostView | null
  rootRef: string
  comments: ThreadNode[]
  count: number
}

export interface ProfileView {
  id: string
  fingerprint: string
  name: string | null
  bio: string
  feedKey: string
  /** Your own profile only: a restored identity whose feed is not recovered yet. */
  recovering?: boolean
}

export interface PersonView {
  id: string
  fingerprint: string
  name: string | null
  since: number
}

export function postView(post: StoredPost, authorName: string | null): PostView {
  const r = post.record
  return {
    ref: formatRef(post),
    author: encodeId(post.author),
    authorName,
    fingerprint: fingerprint(post.author),
    id: postIdHex(post.id),
    createdAt: r.createdAt,
    text: r.text,
    topics: r.topics,
    mentions: r.mentions.map(encodeId),
    attachments: r.attachments.map((f) => ({ name: f.name, size: f.size, infohash: toHex(f.infohash) })),
    replyTo: r.reply ? formatRef(r.reply.parent) : null,
    root: r.reply ? formatRef(r.reply.root) : null,
    editedAt: r.editedAt ?? null,
    deleted: r.deletedAt !== undefined
  }
}

/** Someone who follows you (as their feed said when they told you), and whether you follow them back. */
export interface FollowerView extends PersonView {
  following: boolean
}

/** A comment on your post or a mention of you, or someone who followed you; switch on `kind`. */
export type NotificationView = PostNotificationView | FollowNotificationView

export interface PostNotificationView {
  kind: 'comment' | 'mention'
  at: number
  /** The comment or post; null when its author's feed does not hold it here now. */
  post: PostView | null
  ref?: string
}

export interface FollowNotificationView {
  kind: 'follow'
  /** When you learned it. */
  at: number
  person: FollowerView
}

export interface NodeStatus {
  online: boolean
  peers: number
  feeds: number
  feedsReachable: number
  recovering: boolean
  /** The BitTorrent side: TCP port, encrypted-only, mainline DHT. */
  bt: BtStatus
}

export interface SyncResult {
  feeds: FeedSyncResult[]
  changed: number
  peers: number
  /** For a restored identity: whether its feed was found (null when not recovering). */
  recovered: boolean | null
  /** Notifications (comments, mentions, follow notices) delivered to the people concerned. */
  delivered: number
  /** Comments by people you do not follow, fetched for threads you can see. */
  fetchedComments: number
}

export interface DiscoverResult {
  topic: string
  people: DiscoveredPerson[]
}
