import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { inspect } from 'node:util'
import { Identity } from '../src/identity/keys.js'
import { encodeId, fingerprint, parseId } from '../src/identity/encoding.js'
import { phraseToSeed, seedToPhrase } from '../src/identity/phrase.js'
import { decryptBackup, encryptBackup } from '../src/identity/backup.js'
import { loadIdentity, saveIdentity, resolveHome, IDENTITY_FILE } from '../src/identity/home.js'
import { discoveryKeyOf, feedKeyOf } from '../src/feeds/layout.js'
import { ChrysalisError } from '../src/errors.js'
import { tmpDir } from './helpers.js'
import vectors from './fixtures/identity.json' with { type: 'json' }

async function rejectsWith(t: { ok(v: unknown, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, p: Promise<unknown> | (() => unknown), code: string): Promise<ChrysalisError | null> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    t.ok(err instanceof ChrysalisError, `a ChrysalisError (${String(err)})`)
    t.is((err as ChrysalisError).code, code)
    return err as ChrysalisError
  }
  t.ok(false, `expected ${code}`)
  return null
}

test('identity vectors: seed -> public key, ID, fingerprint, phrase, feed key', (t) => {
  for (const v of vectors.identities) {
    const id = Identity.fromSeed(Buffer.from(v.seed, 'hex'))
    t.is(id.publicKey.toString('hex'), v.publicKey)
    t.is(id.id, v.id)
    t.is(id.fingerprint, v.fingerprint)
    t.is(seedToPhrase(Buffer.from(v.seed, 'hex')), v.phrase)
    t.is(phraseToSeed(v.phrase).toString('hex'), v.seed)
    const feedKey = feedKeyOf(id.publicKey)
    t.is(feedKey.toString('hex'), v.feedKey)
    t.is(discoveryKeyOf(feedKey).toString('hex'), v.discoveryKey)
  }
})

test('IDs are accepted as z32 or hex, in any case, and nothing else', (t) => {
  const id = Identity.generate()
  t.ok(parseId(id.id).equals(id.publicKey))
  t.ok(parseId(id.publicKey.toString('hex')).equals(id.publicKey))
  t.ok(parseId('  ' + id.publicKey.toString('hex').toUpperCase() + '\n').equals(id.publicKey))
  t.is(encodeId(parseId(id.id)), id.id)
  for (const bad of ['', 'abc', id.id.slice(1), id.id + 'y', id.publicKey.toString('hex').slice(2), 'l'.repeat(52)]) {
    t.exception(() => parseId(bad), /not an identity ID/, `refuses "${bad.slice(0, 10)}"`)
  }
  t.ok(/^[a-z0-9]{4}-[a-z0-9]{4}$/.test(fingerprint(id.publicKey)))
})

test('the secret never shows in JSON, inspect or strings', (t) => {
  const seed = Buffer.alloc(32, 7)
  const id = Identity.fromSeed(seed)
  const secretHex = id.keyPair().secretKey.toString('hex')
  for (const text of [JSON.stringify(id), inspect(id, { showHidden: true, depth: 5 }), String(id), `${id.toString()}`]) {
    t.absent(text.includes(secretHex), 'no secret key')
    t.absent(text.includes(seed.toString('hex')), 'no seed')
    t.ok(text.includes(id.id), 'shows the ID')
  }
})

test('recovery phrase: round trip, tolerant of case and spacing, strict about words', async (t) => {
  const id = Identity.generate()
  const phrase = seedToPhrase(id.exportSeed())
  t.is(phrase.split(' ').length, 24)
  const again = Identity.fromSeed(phraseToSeed('  ' + phrase.toUpperCase().replace(/ /g, '  \n') + ' '))
  t.is(again.id, id.id)

  const words = phrase.split(' ')
  const wrongCount = await rejectsWith(t, () => phraseToSeed(words.slice(0, 23).join(' ')), 'BAD_PHRASE')
  t.ok(wrongCount?.message.includes('23 words'))
  const unknown = [...words]
  unknown[6] = 'kaypro'
  const notAWord = await rejectsWith(t, () => phraseToSeed(unknown.join(' ')), 'BAD_PHRASE')
  t.ok(notAWord?.message.includes('word 7'), notAWord?.message)
  // Every word valid, checksum wrong: the all-zero seed's phrase ends in "art", not "abandon".
  // (A random phrase with a changed word would pass the 8-bit checksum 1 time in 256.)
  const bad = await rejectsWith(t, () => phraseToSeed(Array(24).fill('abandon').join(' ')), 'BAD_PHRASE')
  t.ok(bad?.message.includes('wrong or out of order'))
})

test('backup: round trip, wrong passphrase, damaged file, not a backup', async (t) => {
  const id = Identity.generate()
  const text = await encryptBackup(id, 'correct horse battery', { strength: 'interactive' })
  t.absent(text.includes(id.exportSeed().toString('hex')), 'the seed is not in the file')
  t.is((await decryptBackup(text, 'correct horse battery')).id, id.id)

  await rejectsWith(t, decryptBackup(text, 'wrong horse'), 'WRONG_PASSPHRASE')

  const doc = JSON.parse(text) as { ciphertext: string; kdf: { opslimit: number }; check: string }
  const flipped = { ...doc, ciphertext: (doc.ciphertext[0] === 'a' ? 'b' : 'a') + doc.ciphertext.slice(1) }
  const damaged = await rejectsWith(t, decryptBackup(JSON.stringify(flipped), 'correct horse battery'), 'BAD_BACKUP')
  t.ok(damaged?.message.includes('damaged'), damaged?.message)

  const truncated = await rejectsWith(t, decryptBackup(text.slice(0, text.length / 2), 'correct horse battery'), 'BAD_BACKUP')
  t.ok(truncated?.message.includes('not a Chrysalis identity backup'))
  const hostile = { ...doc, kdf: { ...doc.kdf, opslimit: 1_000_000 } }
  await rejectsWith(t, decryptBackup(JSON.stringify(hostile), 'correct horse battery'), 'BAD_BACKUP')
  await rejectsWith(t, decryptBackup('{"format":"something-else"}', 'x'), 'BAD_BACKUP')
})

test('backup at the default (moderate) strength', async (t) => {
  const id = Identity.generate()
  const text = await encryptBackup(id, 'pässwörd') // NFC-normalised: composed and decomposed agree
  t.is((JSON.parse(text) as { kdf: { memlimit: number } }).kdf.memlimit, 256 * 1024 * 1024)
  t.is((await decryptBackup(text, 'pa\u0308sswo\u0308rd')).id, id.id)
})

test('home: 0700, secret 0600, never overwritten, damaged file reported', async (t) => {
  const home = path.join(await tmpDir(t), 'nested', 'home')
  const id = Identity.generate()
  await saveIdentity(home, id)
  t.is((await fs.stat(home)).mode & 0o777, 0o700)
  t.is((await fs.stat(path.join(home, IDENTITY_FILE))).mode & 0o777, 0o600)
  const before = await fs.readFile(path.join(home, IDENTITY_FILE), 'utf-8')

  await rejectsWith(t, saveIdentity(home, Identity.generate()), 'IDENTITY_EXISTS')
  t.is(await fs.readFile(path.join(home, IDENTITY_FILE), 'utf-8'), before, 'the first identity is untouched')
  t.alike((await fs.readdir(home)).sort(), [IDENTITY_FILE], 'no temporary files left')
  t.is((await loadIdentity(home)).id, id.id)

  await fs.writeFile(path.join(home, IDENTITY_FILE), before.replace(/"seed":"./, '"seed":"z'))
  await rejectsWith(t, loadIdentity(home), 'NO_IDENTITY')
  await rejectsWith(t, loadIdentity(path.join(home, 'nothing')), 'NO_IDENTITY')
})

test('home resolution: flag, CHRYSALIS_HOME, XDG_DATA_HOME, ~/.local/share', (t) => {
  t.is(resolveHome('/a/b', { CHRYSALIS_HOME: '/x' }), '/a/b')
  t.is(resolveHome(undefined, { CHRYSALIS_HOME: '/x', XDG_DATA_HOME: '/y' }), '/x')
  t.is(resolveHome(undefined, { XDG_DATA_HOME: '/y' }), '/y/chrysalis')
  t.ok(resolveHome(undefined, {}).endsWith(path.join('.local', 'share', 'chrysalis')))
})
