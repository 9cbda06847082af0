import sodium from 'sodium-native'
import * as b4a from '../bytes.js'
import { ChrysalisError } from '../errors.js'
import { encodeId, parseId } from './encoding.js'
import { domainHash } from './hash.js'
import { Identity, SEED_BYTES } from './keys.js'

/**
 * Encrypted identity backups (protocol.md §3): the seed sealed with crypto_secretbox under a key
 * stretched from a passphrase with argon2id (crypto_pwhash). The file is a small JSON document
 * with an integrity check over every field, so a damaged file and a wrong passphrase are told
 * apart.
 *
 *   const text = await encryptBackup(identity, 'correct horse')
 *   const again = await decryptBackup(text, 'correct horse')   // an Identity
 */
export const BACKUP_FORMAT = 'chrysalis-identity-backup'
export const BACKUP_VERSION = 1

export type BackupStrength = 'moderate' | 'interactive'

const STRENGTH = {
  moderate: { opslimit: sodium.crypto_pwhash_OPSLIMIT_MODERATE, memlimit: sodium.crypto_pwhash_MEMLIMIT_MODERATE },
  interactive: { opslimit: sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, memlimit: sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE }
} as const

// Bounds on what an imported file may ask of this machine: a hostile file must not be able to
// make us allocate gigabytes or spin for minutes.
const MAX_OPSLIMIT = 16
const MAX_MEMLIMIT = 1024 * 1024 * 1024
const MIN_OPSLIMIT = 1
const MIN_MEMLIMIT = 8192
const MAX_BACKUP_BYTES = 64 * 1024

interface BackupFile {
  format: typeof BACKUP_FORMAT
  version: number
  id: string
  kdf: { alg: 'argon2id13'; opslimit: number; memlimit: number; salt: string }
  nonce: string
  ciphertext: string
  check: string
}

export async function encryptBackup(
  identity: Identity,
  passphrase: string,
  opts: { strength?: BackupStrength } = {}
): Promise<string> {
  const { opslimit, memlimit } = STRENGTH[opts.strength ?? 'moderate']
  const salt = random(sodium.crypto_pwhash_SALTBYTES)
  const nonce = random(sodium.crypto_secretbox_NONCEBYTES)
  const key = await stretch(passphrase, salt, opslimit, memlimit)
  const seed = identity.exportSeed()
  const ciphertext = b4a.alloc(SEED_BYTES + sodium.crypto_secretbox_MACBYTES)
  sodium.crypto_secretbox_easy(ciphertext, seed, nonce, key)
  sodium.sodium_memzero(seed)
  sodium.sodium_memzero(key)

  const file: BackupFile = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    id: identity.id,
    kdf: { alg: 'argon2id13', opslimit, memlimit, salt: hex(salt) },
    nonce: hex(nonce),
    ciphertext: hex(ciphertext),
    check: hex(checksum(identity.publicKey, opslimit, memlimit, salt, nonce, ciphertext))
  }
  return JSON.stringify(file, null, 2) + '\n'
}

export async function decryptBackup(text: string, passphrase: string): Promise<Identity> {
  const file = parseBackup(text)
  const publicKey = b4a.from(file.idKey)
  const sum = checksum(publicKey, file.opslimit, file.memlimit, file.salt, file.nonce, file.ciphertext)
  if (!b4a.equals(sum, file.check)) throw damaged('its integrity check fails')

  const key = await stretch(passphrase, file.salt, file.opslimit, file.memlimit)
  const seed = sodium.sodium_malloc(SEED_BYTES)
  const ok = sodium.crypto_secretbox_open_easy(seed, file.ciphertext, file.nonce, key)
  sodium.sodium_memzero(key)
  if (!ok) {
    throw new ChrysalisError('WRONG_PASSPHRASE', 'wrong passphrase for this backup; try again with the passphrase you chose when exporting it')
  }
  const identity = Identity.fromSeed(seed)
  sodium.sodium_memzero(seed)
  if (!b4a.equals(identity.publicKey, publicKey)) throw damaged('the key inside does not match its ID')
  return identity
}

interface ParsedBackup {
  idKey: Buffer
  opslimit: number
  memlimit: number
  salt: Buffer
  nonce: Buffer
  ciphertext: Buffer
  check: Buffer
}

function parseBackup(text: string): ParsedBackup {
  if (text.length > MAX_BACKUP_BYTES) throw notABackup()
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw notABackup()
  }
  if (!isRecord(doc) || doc.format !== BACKUP_FORMAT) throw notABackup()
  if (doc.version !== BACKUP_VERSION) {
    throw new ChrysalisError('BAD_BACKUP', `this backup has format version ${String(doc.version)}, which this Chrysalis does not read; update Chrysalis and try again`)
  }
  const kdf = doc.kdf
  if (!isRecord(kdf) || kdf.alg !== 'argon2id13') throw damaged('its key-derivation settings are missing')
  const opslimit = kdf.opslimit
  const memlimit = kdf.memlimit
  if (!isInt(opslimit, MIN_OPSLIMIT, MAX_OPSLIMIT) || !isInt(memlimit, MIN_MEMLIMIT, MAX_MEMLIMIT)) {
    throw damaged('its key-derivation settings are out of range')
  }
  let idKey: Buffer
  try {
    idKey = decodeIdField(doc.id)
  } catch {
    throw damaged('its ID is not valid')
  }
  return {
    idKey,
    opslimit,
    memlimit,
    salt: hexField(kdf.salt, sodium.crypto_pwhash_SALTBYTES, 'salt'),
    nonce: hexField(doc.nonce, sodium.crypto_secretbox_NONCEBYTES, 'nonce'),
    ciphertext: hexField(doc.ciphertext, SEED_BYTES + sodium.crypto_secretbox_MACBYTES, 'ciphertext'),
    check: hexField(doc.check, 32, 'check')
  }
}

function decodeIdField(value: unknown): Buffer {
  if (typeof value !== 'string') throw new TypeError('id')
  const key = parseId(value)
  if (encodeId(key) !== value) throw new TypeError('id')
  return key
}

function checksum(publicKey: Buffer, opslimit: number, memlimit: number, salt: Buffer, nonce: Buffer, ciphertext: Buffer): Buffer {
  const params = b4a.alloc(16)
  const view = new DataView(params.buffer, params.byteOffset, 16)
  view.setBigUint64(0, BigInt(opslimit), true)
  view.setBigUint64(8, BigInt(memlimit), true)
  return domainHash('chrysalis/backup-check/v1', publicKey, params, salt, nonce, ciphertext)
}

async function stretch(passphrase: string, salt: Buffer, opslimit: number, memlimit: number): Promise<Buffer> {
  const key = sodium.sodium_malloc(sodium.crypto_secretbox_KEYBYTES)
  const pw = b4a.from(passphrase.normalize('NFC'), 'utf-8')
  await sodium.crypto_pwhash_async(key, pw, salt, opslimit, memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13)
  sodium.sodium_memzero(pw)
  return key
}

function random(n: number): Buffer {
  const b = b4a.alloc(n)
  sodium.randombytes_buf(b)
  return b
}

function hex(b: Uint8Array): string {
  return b4a.toString(b, 'hex')
}

function hexField(value: unknown, bytes: number, name: string): Buffer {
  if (typeof value !== 'string' || value.length !== bytes * 2 || !/^[0-9a-f]+$/.test(value)) {
    throw damaged(`its ${name} field is not valid`)
  }
  return b4a.from(value, 'hex')
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
}

function notABackup(): ChrysalisError {
  return new ChrysalisError('BAD_BACKUP', 'this file is not a Chrysalis identity backup; give the file that `chrysalis identity export` wrote')
}

function damaged(why: string): ChrysalisError {
  return new ChrysalisError('BAD_BACKUP', `the backup file is damaged (${why}); use another copy of it, or restore with your recovery phrase`)
}
