import { DecodeError, Reader, Writer } from '../codec/primitives.js'
import { muxEncoding, type Codec } from '../codec/codec.js'
import { LIMITS, normalizeTopic } from '../feeds/records.js'

/**
 * The `chrysalis/v1` protomux channel's messages (protocol.md §8.2), one codec each, as hypercore
 * declares its wire messages in lib/messages.js. Every message is `version:uint` then its fields,
 * with a `flags:uint` whose bits announce appended fields (the rule of §4.2: a bit the reader does
 * not know means "skip what follows the fields you know"; with none, nothing may follow). Decoders
 * read bounded and throw DecodeError; the network disconnects the peer.
 *
 *   const bytes = notify.encode({ kind: 'comment', id })
 *   const back = followNotice.decode(followNotice.encode({ at }))
 *   channel.addMessage({ encoding: encodings.notify, onmessage: (n: Notify) => … })
 */
export const PROTOCOL = 'chrysalis/v1'
export const MESSAGE_VERSION = 1
export const MAX_HELLO_TOPICS = 32
export const MAX_MESSAGE_BYTES = 8192

/**
 * Notifications a receiver takes from one sender (protocol.md §8.3): a token bucket of `burst`
 * tokens refilled at `perSecond`, kept per identity across reconnections. A notify without a
 * token is dropped unacknowledged (a polite sender retries it later); `floodDrops` drops since
 * the sender's last accepted notify end the connection. Each accepted notify costs the receiver
 * a feed read and a verification, so this bounds what any one identity can make it do.
 */
export const NOTIFY_LIMITS = { burst: 20, perSecond: 1, floodDrops: 20 } as const

/**
 * The channel's message types, in protomux registration order (protocol.md §8.2). A hello says
 * how many of them its sender handles (bit 0): a peer whose hello does not say handles the
 * first two (notify, ack), and is sent nothing it would drop unanswered.
 */
export const MESSAGE_TYPES = ['notify', 'ack', 'follow-notice', 'follow-ack'] as const
/** What a hello without bit 0 handles: the messages of the first revision. */
export const FIRST_MESSAGE_TYPES = 2

// Flag bits each message defines in this revision: a later one appends its fields.
const HELLO_MESSAGES = 1 // bit 0: messages:uint
const HELLO_KNOWN = HELLO_MESSAGES
const NOTIFY_KNOWN = 0
const ACK_KNOWN = 0
const FOLLOW_NOTICE_KNOWN = 0
const FOLLOW_ACK_KNOWN = 0

/** The channel's handshake. */
export interface Hello {
  name: string
  bio: string
  /** Interest topics this node has joined, normalised. */
  topics: string[]
  /**
   * How many of the channel's message types (MESSAGE_TYPES, in order) the sender handles. Ours
   * is always written as MESSAGE_TYPES.length; read as FIRST_MESSAGE_TYPES from a hello without
   * bit 0 (a peer of the first revision).
   */
  messages: number
}

export const hello: Codec<Hello> = {
  encode(h) {
    const w = new Writer().uint(MESSAGE_VERSION).uint(HELLO_MESSAGES).string(h.name).string(h.bio).uint(h.topics.length)
    for (const t of h.topics) w.string(t)
    return w.uint(h.messages).finish()
  },
  decode(bytes) {
    const r = reader(bytes)
    const flags = r.uint()
    const name = r.string(LIMITS.nameBytes)
    const bio = r.string(LIMITS.bioBytes)
    const topics: string[] = []
    for (let n = r.count(MAX_HELLO_TOPICS); n > 0; n--) {
      const t = r.string(LIMITS.topicBytes)
      if (t === '' || normalizeTopic(t) !== t) throw new DecodeError('a hello topic is not in normal form')
      topics.push(t)
    }
    // flags % 2, not flags & 1: the flags may use bits above 32 (protocol.md §4.2).
    const messages = flags % 2 === 1 ? r.uint() : FIRST_MESSAGE_TYPES
    r.end(flags, HELLO_KNOWN)
    if (/\p{Cc}/u.test(name)) throw new DecodeError('a hello name has control characters')
    return { name, bio, topics, messages }
  }
}

export const NotifyKind = { comment: 1, mention: 2 } as const
export type NotifyKindName = keyof typeof NotifyKind

/**
 * Message 0. "I wrote post `id` in my feed, and it concerns you": a comment on your post, or a
 * mention. The receiver never trusts it: it reads post `id` from the sender's feed and checks it.
 */
export interface Notify {
  kind: NotifyKindName
  id: number
}

export const notify: Codec<Notify> = {
  encode(n) {
    return new Writer().uint(MESSAGE_VERSION).uint(NotifyKind[n.kind]).uint(0).uint(n.id).finish()
  },
  decode(bytes) {
    const r = reader(bytes)
    const code = r.uint()
    const kind = code === 1 ? 'comment' : code === 2 ? 'mention' : null
    if (kind === null) throw new DecodeError(`unknown notification kind ${code}`)
    const flags = r.uint()
    const id = r.uint(LIMITS.postId)
    r.end(flags, NOTIFY_KNOWN)
    return { kind, id }
  }
}

/** Message 1. "I processed your notification about post `id`": the sender may forget it. */
export interface Ack {
  id: number
}

export const ack: Codec<Ack> = {
  encode(a) {
    return new Writer().uint(MESSAGE_VERSION).uint(0).uint(a.id).finish()
  },
  decode(bytes) {
    const r = reader(bytes)
    const flags = r.uint()
    const id = r.uint(LIMITS.postId)
    r.end(flags, ACK_KNOWN)
    return { id }
  }
}

/**
 * Message 2. "Read my follow record of you again" (protocol.md §8.3): sent after a follow or an
 * unfollow. `at` is the time of the record the sender wrote; the receiver never trusts it, reads
 * the newest follow/unfollow record for its own key from the sender's feed, and only echoes `at`.
 */
export interface FollowNotice {
  at: number
}

export const followNotice: Codec<FollowNotice> = {
  encode(n) {
    return new Writer().uint(MESSAGE_VERSION).uint(0).uint(n.at).finish()
  },
  decode(bytes) {
    const r = reader(bytes)
    const flags = r.uint()
    const at = r.uint(LIMITS.postId)
    r.end(flags, FOLLOW_NOTICE_KNOWN)
    return { at }
  }
}

/**
 * Message 3. "I read your follow record again after your notice `at`": the sender may forget
 * that notice (and only that one: a newer notice, for a newer record, stays queued).
 */
export const followAck: Codec<FollowNotice> = {
  encode(a) {
    return new Writer().uint(MESSAGE_VERSION).uint(0).uint(a.at).finish()
  },
  decode(bytes) {
    const r = reader(bytes)
    const flags = r.uint()
    const at = r.uint(LIMITS.postId)
    r.end(flags, FOLLOW_ACK_KNOWN)
    return { at }
  }
}

/** The codecs as protomux encodings: the handshake, then the messages in registration order (MESSAGE_TYPES). */
export const encodings = {
  hello: muxEncoding(hello),
  notify: muxEncoding(notify),
  ack: muxEncoding(ack),
  followNotice: muxEncoding(followNotice),
  followAck: muxEncoding(followAck)
}

function reader(bytes: Uint8Array): Reader {
  if (bytes.byteLength > MAX_MESSAGE_BYTES) throw new DecodeError(`message of ${bytes.byteLength} bytes is above the limit`)
  const r = new Reader(bytes)
  const version = r.uint()
  if (version !== MESSAGE_VERSION) throw new DecodeError(`unknown message version ${version}`)
  return r
}
