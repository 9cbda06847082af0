import { checkExhaustive, type Action } from './actions.js'
import type { Controller } from './controller.js'
import { contextOf } from './keymap.js'
import * as account from './node-account.js'
import * as files from './node-files.js'
import * as people from './node-people.js'
import * as posts from './node-posts.js'
import * as own from './node-profile.js'
import * as topics from './node-topic.js'
import { selectedPost, selectedTransfer } from './reducer.js'
import { top, type UiState } from './store.js'

/**
 * What an action does through the node, once the reducer has changed the state: `before` is
 * the state the key was pressed in (what it acted on), `after` the state it left. Every failure
 * goes to the message line (Controller.run).
 */
export function effect(c: Controller, a: Action, before: UiState, after: UiState): void {
  // A screen was pushed (a thread, a profile, a transfer's details): load what it shows.
  topics.stopLeftWatches(c, after)
  const pushed = after.stack.length > before.stack.length ? top(after) : null
  if (pushed?.kind === 'thread') c.run(() => posts.loadThread(c, pushed.ref))
  if (pushed?.kind === 'profile') c.run(() => (pushed.id === after.me?.id ? own.loadOwnProfile(c) : people.loadProfile(c, pushed.id)))
  if (pushed?.kind === 'transfer') files.loadTransfer(c, pushed.infohash)
  if (pushed?.kind === 'attachments') files.loadAttachments(c, pushed.post)
  if (pushed?.kind === 'search') c.run(() => posts.search(c, pushed.query))
  if (pushed?.kind === 'topic') c.run(() => topics.watchTopic(c, after.stack.length - 1, pushed.topic))
  switch (a.type) {
    case 'quit':
      return c.quit()
    case 'tab':
    case 'next-tab':
      if (after.tab === 'people') c.run(() => people.loadFollowing(c))
      if (after.tab === 'transfers') c.tick()
      return
    case 'move': {
      const mine = top(after)?.kind === 'profile' ? own.ownProfile(after) : null
      if (mine && mine === top(after)) {
        if (mine.selected >= mine.posts.length - pageOf(after)) c.run(() => own.loadMoreOwn(c))
        return posts.lookAvailability(c, mine.posts.slice(mine.selected, mine.selected + pageOf(after)))
      }
      if (top(after) || after.tab !== 'timeline' || after.mode !== 'main') return
      const t = after.timeline
      if (t.selected >= t.posts.length - 50) c.run(() => posts.loadMore(c))
      return posts.lookAvailability(c, t.posts.slice(t.selected, t.selected + pageOf(after)))
    }
    case 'answer': {
      const q = before.confirm
      if (!a.yes || !q) return
      if (q.action === 'delete-post') return c.run(() => posts.deletePost(c, q.target).then(() => own.updateOwnPost(c, q.target)))
      if (q.action === 'cancel-transfer') return c.run(() => files.cancelTransfer(c, q.target))
      return c.run(() => account.showPhrase(c))
    }
    case 'fetch-files': {
      const t = top(before)
      const post = t?.kind === 'attachments' ? t.post : selectedPost(before)
      return post ? c.run(() => posts.fetchFiles(c, post)) : undefined
    }
    case 'reload': {
      const t = top(before)
      if (t && t === own.ownProfile(before)) return c.run(() => own.loadOwnProfile(c))
      return c.run(() => (t?.kind === 'thread' ? posts.loadThread(c, t.ref) : posts.refreshTimeline(c)))
    }
    case 'back': {
      // Back on your profile from a thread: what you wrote or changed there shows in the list.
      const mine = own.ownProfile(after)
      return mine && mine === top(after) && before.stack.length > after.stack.length ? c.run(() => own.loadOwnProfile(c)) : undefined
    }
    case 'toggle-follow': {
      const t = top(before)
      if (t?.kind === 'profile') return t.id === before.me?.id ? undefined : c.run(() => people.setFollow(c, t.id, !t.following))
      if (t?.kind === 'topic') {
        // The selected post's author, followed or not (People's Following list says which).
        const post = selectedPost(before)
        if (!post) return
        if (post.author === before.me?.id) return c.info('That post is yours; f follows the author of a post by someone else.')
        return c.run(() => people.setFollow(c, post.author, !before.people.following.some((p) => p.id === post.author)))
      }
      if (!t && before.tab === 'notifications') {
        // Follow back someone who followed you (a comment's author: its profile has f).
        const note = before.notifications.items[before.notifications.selected]
        if (!note) return
        if (note.kind !== 'follow') return c.info("f follows back someone who followed you; p opens this author's profile.")
        return note.person.following ? c.info(`You follow ${note.person.name ?? note.person.fingerprint} already.`) : c.run(() => people.setFollow(c, note.person.id, true))
      }
      const p = before.people
      const person = p.section === 'followers' ? p.followers[p.followerSelected] : p.found[p.foundSelected]
      return person ? c.run(() => people.setFollow(c, person.id, !person.following)) : undefined
    }
    case 'toggle-block': {
      const t = top(before)
      return t?.kind === 'profile' && t.id !== before.me?.id ? c.run(() => people.setBlock(c, t.id, !t.blocked)) : undefined
    }
    case 'unfollow':
    case 'block': {
      const person = before.people.following[before.people.selected]
      if (!person) return
      return c.run(() => (a.type === 'block' ? people.setBlock(c, person.id, true) : people.setFollow(c, person.id, false)))
    }
    case 'pause': {
      const item = selectedTransfer(before)
      return item ? c.run(() => files.togglePause(c, item.infohash)) : undefined
    }
    case 'copy-magnet': {
      const t = top(before)
      if (t?.kind === 'attachments') {
        const a = t.post.attachments[t.selected]
        const magnet = a ? t.magnets[a.infohash] : undefined
        return magnet ? c.run(() => files.copy(c, magnet)) : c.info('The magnet is not known yet; press m again in a moment.')
      }
      const item = selectedTransfer(before)
      return item ? c.run(() => files.copyMagnet(c, item.infohash)) : undefined
    }
    case 'never-posted':
      return c.run(() => account.neverPosted(c))
    case 'phrase-saved':
      return c.run(() => account.phraseSaved(c))
    case 'submit':
      return submit(c, before, after)
    case 'complete': {
      const p = before.prompt
      if (p?.kind === 'add-fetch' || p?.kind === 'export-torrent') return c.run(() => files.completePromptPath(c, p.field.value))
      const t = top(before)
      return t?.kind === 'compose' && t.attach.value !== '' ? c.run(() => posts.completeAttach(c, t.attach.value)) : undefined
    }
    case 'attach': {
      const t = top(before)
      const value = t?.kind === 'compose' ? t.attach.value.trim() : ''
      return value ? c.run(() => posts.attach(c, value)) : undefined
    }
    case 'help':
    case 'compose':
    case 'open':
    case 'reply':
    case 'edit-post':
    case 'delete-post':
    case 'author':
    case 'attachments':
    case 'topic-posts':
    case 'discover':
    case 'search':
    case 'follow-id':
    case 'other-section':
    case 'add-fetch':
    case 'cancel-transfer':
    case 'export-torrent':
    case 'edit-profile':
    case 'my-profile':
    case 'backup':
    case 'show-phrase':
    case 'hide-phrase':
    case 'cancel':
    case 'next-field':
    case 'newline':
    case 'line':
    case 'drop-attachment':
    case 'type':
    case 'setup':
    case 'resize':
      return // the state change was all (reducer.ts)
    default:
      return checkExhaustive(a)
  }
}

/** Enter (or Ctrl-S) in a prompt or a form: what it sends, from the state it was pressed in. */
function submit(c: Controller, before: UiState, after: UiState): void {
  const p = before.prompt
  if (p) {
    const value = p.field.value
    switch (p.kind) {
      case 'reply':
        return c.run(() => posts.comment(c, p.target, value))
      case 'edit':
        return c.run(() => posts.editPost(c, p.target, value).then(() => own.updateOwnPost(c, p.target)))
      case 'topic':
        return value.trim() === '' ? undefined : c.run(() => people.discover(c, value.trim()))
      case 'follow-id':
        return value.trim() === '' ? undefined : c.run(() => people.setFollow(c, value.trim(), true))
      case 'export-torrent':
        return c.run(() => files.exportTorrent(c, p.target, value.trim()))
      case 'add-fetch':
        return c.run(() => files.addFetch(c, value))
      case 'search':
      case 'topic-view':
        return // the reducer pushed the screen: loaded above
      default:
        return checkExhaustive(p.kind)
    }
  }
  const ctx = contextOf(before)
  const st = before.setup
  const { edit, backup } = before.identity
  if (ctx.startsWith('compose-')) return c.run(() => posts.submitPost(c))
  if (ctx === 'identity-edit' && edit) return c.run(() => account.saveProfile(c, edit.name.value, edit.bio.value))
  if (ctx === 'identity-backup' && backup?.focus === 2) return c.run(() => account.backup(c, backup.file.value, backup.passphrase.value, backup.again.value))
  // The first run: the reducer marked the step busy when it is time to go.
  const now = after.setup
  if (!('busy' in now) || !now.busy) return
  const done = (): void => c.update((s) => ('busy' in s.setup && s.setup.step === now.step ? { ...s, setup: { ...s.setup, busy: false } } : s))
  if (st.step === 'create') c.run(() => account.createIdentity(c, st.name.value.trim(), st.bio.value.trim()).finally(done))
  if (st.step === 'restore-phrase') c.run(() => account.restore(c, { phrase: st.phrase.value }).finally(done))
  if (st.step === 'restore-backup') c.run(() => account.restore(c, { file: st.file.value.trim(), passphrase: st.passphrase.value }).finally(done))
}

/** Items a page of a list of posts shows (posts take 3 rows each). */
function pageOf(s: UiState): number {
  return Math.max(1, Math.floor((s.size.rows - 6) / 3))
}
