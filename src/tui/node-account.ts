import { readFile } from 'node:fs/promises'
import { beginInit, checkProfile, exportBackup, finishInit, recoveryPhrase, restoreIdentity } from '../node/setup.js'
import { userPath } from './complete.js'
import type { Controller } from './controller.js'
import { userError } from './errors.js'
import { field } from './field.js'

/** The first run (node/setup.ts) and the Identity screen. */

/** A new identity: marked unfinished until the phrase is confirmed (`chrysalis init` resumes it). */
export async function createIdentity(c: Controller, name: string, bio: string): Promise<void> {
  checkProfile(name, bio)
  const created = await beginInit(c.opts.home)
  c.update((s) => ({ ...s, setup: { step: 'phrase', phrase: created.phrase, id: created.id, fingerprint: created.fingerprint, profile: { name, bio } } }))
}

/** The user confirmed the phrase is written down: forget it, open the node, publish the profile. */
export async function phraseSaved(c: Controller): Promise<void> {
  const st = c.state.setup
  if (st.step !== 'phrase') return
  c.update((s) => ({ ...s, setup: { step: 'choose', selected: 0 } }))
  await c.open()
  if (!c.node) return
  const me = await c.node.setProfile(st.profile)
  await finishInit(c.opts.home)
  c.update((s) => ({ ...s, me }))
  c.info(`Welcome, ${me.name ?? ''}. Press 2 for People, then d to discover collectors by topic.`)
}

export async function restore(c: Controller, from: { phrase: string } | { file: string; passphrase: string }): Promise<void> {
  if ('phrase' in from) {
    await restoreIdentity(c.opts.home, { phrase: from.phrase })
  } else {
    let text: string
    try {
      text = await readFile(userPath(from.file, c.opts.cwd), 'utf-8')
    } catch {
      throw userError(`cannot read ${from.file}; check the path`)
    }
    await restoreIdentity(c.opts.home, { backup: text, passphrase: from.passphrase })
  }
  await c.open()
  c.info('Restored. Posting stays off until your feed is found on a peer (or say on Identity that it never posted).')
}

export async function saveProfile(c: Controller, name: string, bio: string): Promise<void> {
  checkProfile(name, bio)
  const me = await c.need().setProfile({ name, bio })
  c.update((s) => ({ ...s, me, identity: { ...s.identity, edit: null } }))
  c.info('Profile saved; followers see it when they next sync.')
}

export async function backup(c: Controller, file: string, passphrase: string, again: string): Promise<void> {
  if (passphrase !== again) {
    c.update((s) => (s.identity.backup ? { ...s, identity: { ...s.identity, backup: { ...s.identity.backup, passphrase: field(), again: field(), focus: 1 } } } : s))
    throw userError('the two passphrases differ; type the same one twice')
  }
  const written = await exportBackup(c.opts.home, userPath(file, c.opts.cwd), passphrase)
  c.update((s) => ({ ...s, identity: { ...s.identity, backup: null } }))
  c.info(`Wrote an encrypted backup to ${written.file}. Keep the passphrase apart from it.`)
}

/** After the y/n question: the recovery phrase, derived again from the identity's seed. */
export async function showPhrase(c: Controller): Promise<void> {
  const { phrase } = await recoveryPhrase(c.opts.home)
  c.update((s) => ({ ...s, identity: { ...s.identity, phrase } }))
}

export async function neverPosted(c: Controller): Promise<void> {
  await c.need().confirmNeverPosted()
  c.update((s) => ({ ...s, status: { ...s.status, recovering: false } }))
  c.info('Noted: this identity starts a new feed here. You can post now.')
}
