import type { Key } from 'ink'
import type { Tab } from './store.js'

/** Where a list selection goes. */
export type Move = 'up' | 'down' | 'page-up' | 'page-down' | 'first' | 'last'

/**
 * Everything a key can ask for. The keymap turns a key into one of these; the controller hands
 * it to the reducer (the state change) and then to the effects (the calls to the node). An
 * action names no target: what it acts on (the selected post, the open transfer, the focused
 * field) is read from the state at the moment it is dispatched.
 */
export type Action =
  // Anywhere
  | { type: 'quit' }
  | { type: 'help'; open: boolean }
  | { type: 'tab'; tab: Tab }
  | { type: 'next-tab'; by: 1 | -1 }
  | { type: 'back' }
  | { type: 'compose' }
  | { type: 'move'; to: Move }
  | { type: 'answer'; yes: boolean }
  // Posts: the timeline, a thread, a profile (yours too), the notifications
  | { type: 'open' }
  | { type: 'reply' }
  | { type: 'edit-post' }
  | { type: 'delete-post' }
  | { type: 'fetch-files' }
  | { type: 'author' }
  | { type: 'reload' }
  | { type: 'attachments' }
  /** The posts on a topic: the selected post's, the one being discovered, else one typed. */
  | { type: 'topic-posts' }
  // People
  | { type: 'discover' }
  | { type: 'search' }
  | { type: 'follow-id' }
  | { type: 'other-section'; by: 1 | -1 }
  | { type: 'toggle-follow' }
  | { type: 'toggle-block' }
  | { type: 'unfollow' }
  | { type: 'block' }
  // Transfers
  | { type: 'add-fetch' }
  | { type: 'pause' }
  | { type: 'cancel-transfer' }
  | { type: 'copy-magnet' }
  | { type: 'export-torrent' }
  // Identity
  | { type: 'edit-profile' }
  | { type: 'my-profile' }
  | { type: 'backup' }
  | { type: 'show-phrase' }
  | { type: 'hide-phrase' }
  | { type: 'never-posted' }
  // Prompts and forms: what they do depends on the prompt or form open
  | { type: 'submit' }
  | { type: 'cancel' }
  | { type: 'next-field'; by: 1 | -1 }
  | { type: 'newline' }
  | { type: 'line'; by: 1 | -1 }
  | { type: 'complete' }
  | { type: 'attach' }
  | { type: 'drop-attachment' }
  | { type: 'type'; input: string; key: Key }
  // The first run
  | { type: 'setup'; choice: 'create' | 'restore-phrase' | 'restore-backup' | 'selected' }
  | { type: 'phrase-saved' }
  // Not a key: the terminal was resized
  | { type: 'resize'; columns: number; rows: number }

export type ActionType = Action['type']

/** A switch over a union that forgot a case fails to compile here (gemini-cli's checkExhaustive). */
export function checkExhaustive(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`)
}
