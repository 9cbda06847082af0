import { ChrysalisError } from '../errors.js'
import { decryptBackup, encryptBackup } from '../identity/backup.js'
import { ensureHome, hasIdentity, loadIdentity, markRecovering, saveIdentity } from '../identity/home.js'
import { Identity } from '../identity/keys.js'
import { phraseToSeed, seedToPhrase } from '../identity/phrase.js'
import { validateRecord } from '../feeds/records.js'
import { exists, writeFileAtomic } from '../fs.js'

/**
 * Setting a home up before a node can open on it: a new identity, or one restored from its
 * recovery phrase or an encrypted backup. The CLI (`init`, `identity import`) and the TUI's first
 * run share these, so both refuse the same things with the same words.
 */
export interface CreatedIdentity {
  id: string
  fingerprint: string
  /** The 24-word recovery phrase: show it once, never store it. */
  phrase: string
}

export interface RestoredIdentity {
  id: string
  fingerprint: string
  /** Posting stays off until the feed is recovered from peers (or the user says it never posted). */
  recovering: true
}

export { hasIdentity }

/** Check a profile before anything is written: name and bio within the record's limits. */
export function checkProfile(name: string, bio = ''): void {
  validateRecord({ type: 'profile', updatedAt: 0, name, bio })
}

/** Create a new identity in an empty home. The caller opens a node and sets the profile. */
export async function createIdentity(home: string): Promise<CreatedIdentity> {
  const identity = Identity.generate()
  await saveIdentity(home, identity) // never overwrites: IDENTITY_EXISTS
  const seed = identity.exportSeed()
  const phrase = seedToPhrase(seed)
  seed.fill(0)
  return { id: identity.id, fingerprint: identity.fingerprint, phrase }
}

/** Restore from the recovery phrase or a backup file's text (with its passphrase) into an empty home. */
export async function restoreIdentity(home: string, from: { phrase: string } | { backup: string; passphrase: string }): Promise<RestoredIdentity> {
  if (await hasIdentity(home)) {
    throw new ChrysalisError('IDENTITY_EXISTS', `${home} already has an identity, and an identity is never overwritten; restore into another home`)
  }
  let identity: Identity
  if ('phrase' in from) {
    const seed = phraseToSeed(from.phrase)
    identity = Identity.fromSeed(seed)
    seed.fill(0)
  } else {
    identity = await decryptBackup(from.backup, from.passphrase)
  }
  await ensureHome(home)
  await markRecovering(home) // before the identity: a crash in between leaves no writable restored home
  await saveIdentity(home, identity)
  return { id: identity.id, fingerprint: identity.fingerprint, recovering: true }
}

/** Write an encrypted backup of HOME's identity to `file` (never over an existing file unless `force`). */
export async function exportBackup(home: string, file: string, passphrase: string, opts: { force?: boolean } = {}): Promise<{ id: string; file: string }> {
  if (passphrase.length === 0) throw new ChrysalisError('BAD_INPUT', 'an empty passphrase would not protect the backup; choose one')
  if (!opts.force && (await exists(file))) {
    throw new ChrysalisError('BAD_INPUT', `${file} already exists; choose another file`)
  }
  const identity = await loadIdentity(home)
  const text = await encryptBackup(identity, passphrase)
  await writeFileAtomic(file, text, 0o600)
  return { id: identity.id, file }
}
