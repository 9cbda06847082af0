import { inspect } from 'node:util'
import sodium from 'sodium-native'
import * as b4a from '../bytes.js'
import { encodeId, fingerprint, type PublicKey } from './encoding.js'

export const SEED_BYTES = 32

export interface KeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

/** 32 random bytes: the whole secret of an identity. The recovery phrase encodes exactly this. */
export function generateSeed(): Buffer {
  const seed = sodium.sodium_malloc(SEED_BYTES)
  sodium.randombytes_buf(seed)
  return seed
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.byteLength !== SEED_BYTES) throw new RangeError(`seed must be ${SEED_BYTES} bytes`)
  const publicKey = b4a.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const secretKey = sodium.sodium_malloc(sodium.crypto_sign_SECRETKEYBYTES)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { publicKey, secretKey }
}

/**
 * A pseudonymous identity: an ed25519 keypair made from a 32-byte seed.
 *
 *   const me = Identity.fromSeed(seed)
 *   me.id            // z-base-32 public key, 52 characters
 *   me.fingerprint   // 'abcd-efgh'
 *
 * The secret never leaves through printing: JSON.stringify, util.inspect and template strings
 * all show only the public ID. Code that must sign (corestore, the swarm) asks for keyPair().
 */
export class Identity {
  readonly publicKey: PublicKey
  readonly id: string
  readonly fingerprint: string
  readonly #seed: Buffer
  readonly #keyPair: KeyPair

  private constructor(seed: Buffer) {
    this.#seed = seed
    this.#keyPair = keyPairFromSeed(seed)
    this.publicKey = this.#keyPair.publicKey
    this.id = encodeId(this.publicKey)
    this.fingerprint = fingerprint(this.publicKey)
  }

  static generate(): Identity {
    return new Identity(generateSeed())
  }

  static fromSeed(seed: Uint8Array): Identity {
    if (seed.byteLength !== SEED_BYTES) throw new RangeError(`seed must be ${SEED_BYTES} bytes`)
    const copy = sodium.sodium_malloc(SEED_BYTES)
    copy.set(seed)
    return new Identity(copy)
  }

  /** The signing keypair, for the feed and the swarm. Never print or persist it elsewhere. */
  keyPair(): KeyPair {
    return this.#keyPair
  }

  /** The 32-byte seed, for backups and the recovery phrase only. */
  exportSeed(): Buffer {
    return b4a.from(this.#seed)
  }

  toJSON(): { id: string } {
    return { id: this.id }
  }

  toString(): string {
    return this.id
  }

  [inspect.custom](): string {
    return `Identity(${this.id})`
  }
}
