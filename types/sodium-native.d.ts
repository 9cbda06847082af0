// Narrow shim for sodium-native 5: only the calls Chrysalis makes.
declare module 'sodium-native' {
  type Bytes = Uint8Array
  const sodium: {
    crypto_sign_PUBLICKEYBYTES: number
    crypto_sign_SECRETKEYBYTES: number
    crypto_sign_SEEDBYTES: number
    crypto_sign_BYTES: number
    crypto_sign_seed_keypair(pk: Bytes, sk: Bytes, seed: Bytes): void
    crypto_sign_detached(sig: Bytes, m: Bytes, sk: Bytes): void
    crypto_sign_verify_detached(sig: Bytes, m: Bytes, pk: Bytes): boolean
    crypto_generichash(out: Bytes, input: Bytes, key?: Bytes): void
    crypto_generichash_batch(out: Bytes, inputs: Bytes[], key?: Bytes): void
    crypto_pwhash_SALTBYTES: number
    crypto_pwhash_ALG_ARGON2ID13: number
    crypto_pwhash_OPSLIMIT_INTERACTIVE: number
    crypto_pwhash_MEMLIMIT_INTERACTIVE: number
    crypto_pwhash_OPSLIMIT_MODERATE: number
    crypto_pwhash_MEMLIMIT_MODERATE: number
    crypto_pwhash_async(out: Bytes, passwd: Bytes, salt: Bytes, opslimit: number, memlimit: number, alg: number): Promise<void>
    crypto_secretbox_KEYBYTES: number
    crypto_secretbox_NONCEBYTES: number
    crypto_secretbox_MACBYTES: number
    crypto_secretbox_easy(c: Bytes, m: Bytes, n: Bytes, k: Bytes): void
    crypto_secretbox_open_easy(m: Bytes, c: Bytes, n: Bytes, k: Bytes): boolean
    randombytes_buf(buf: Bytes): void
    sodium_memzero(buf: Bytes): void
    sodium_malloc(size: number): Buffer
  }
  export default sodium
}
