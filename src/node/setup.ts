import { ChrysalisError } from '../errors.js'
import { decryptBackup, encryptBackup } from '../identity/backup.js'
import { clearInitPending, ensureHome, hasIdentity, isInitPending, loadIdentity, markInitPending, markRecovering, removeStaleTemps, saveIdentity } from '../identity/home.js'
import { crashPoint } from '../crash.js'
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
  /** The 24-word recovery phrase: show it, never store it (`recoveryPhrase` derives it again). */
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

/**
 * Start `init`, or resume one that was killed before it showed the recovery phrase: a home with an
 * identity and the init marker gives that identity back (`resumed: true`) instead of refusing.
 * Call `finishInit` once the phrase has been shown. A kill at any step leaves no identity, or an
 * identity with the marker (the next `init` resumes it), or a finished one.
 */
export async function beginInit(home: string): Promise<CreatedIdentity & { resumed: boolean }> {
  if (await hasIdentity(home)) {
    if (!(await isInitPending(home))) {
      throw new ChrysalisError(
        'IDENTITY_EXISTS',
        `${home} already has an identity, and an identity is never overwritten; use another --home (\`chrysalis identity phrase\` shows its recovery phrase)`
      )
    }
    await removeStaleTemps(home)
    return { ...(await recoveryPhrase(home)), resumed: true }
  }
  await markInitPending(home) // before the identity: an identity never exists unmarked before its phrase is shown
  crashPoint('init:marked')
  const created = await createIdentity(home)
  crashPoint('init:created')
  return { ...created, resumed: false }
}

/** `init` showed the recovery phrase: the home is set up. */
export async function finishInit(home: string): Promise<void> {
  await clearInitPending(home)
}

/**
 * The recovery phrase of HOME's identity, derived again from its seed (the phrase is the seed in
 * words). For `identity phrase` and the TUI, after the user confirmed.
 */
export async function recoveryPhrase(home: string): Promise<CreatedIdentity> {
  const identity = await loadIdentity(home)
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
  // An init killed before it wrote an identity left its marker: this identity is not that init's to finish.
  await clearInitPending(home)
  await markRecovering(home) // before the identity: a crash in between leaves no writable restored home
  await saveIdentity(home, identity)
  return { id: identity.id, fingerprint: identity.fingerprint, recovering: true }
}

/** Write an encrypted backup of HOME's identity to `file` (never over an existing file unless `force`). */
export async function exportBackup(home: string, file: string, passphrase: string, opts: { force?: boolean } = {}): Promise<{ id: string; file: string }> {
  if (passphrase.length === 0) throw new ChrysalisError('BAD_INPUT', 'an empty passphrase would not protect the backup; choose one')
  if (!opts.force && (await exists(file))) {
    throw new ChrysalisError('FILE_EXISTS', `${file} already exists; choose another file`)
  }
  const identity = await loadIdentity(home)
  const text = await encryptBackup(identity, passphrase)
  await writeFileAtomic(file, text, 0o600)
  return { id: identity.id, file }
}
