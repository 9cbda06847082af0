import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import * as b4a from '../bytes.js'
import { ChrysalisError } from '../errors.js'
import { SEED_BYTES } from './keys.js'

/**
 * The recovery phrase: the 32-byte seed as 24 words of the BIP-39 English list, the last word
 * carrying an 8-bit SHA-256 checksum (BIP-39's entropy encoding). Unlike BIP-39 wallets, the
 * words decode straight back to the ed25519 seed: there is no PBKDF2 step and no passphrase.
 *
 *   const words = seedToPhrase(seed)        // 'abandon ability …' (24 words)
 *   const seed2 = phraseToSeed(words)       // equal to seed
 */
export const PHRASE_WORDS = 24

export function seedToPhrase(seed: Uint8Array): string {
  if (seed.byteLength !== SEED_BYTES) throw new RangeError(`seed must be ${SEED_BYTES} bytes`)
  return entropyToMnemonic(seed, wordlist)
}

const WORD_INDEX = new Map(wordlist.map((w, i) => [w, i]))

/** Decode a phrase typed by a person: any case, any whitespace, commas allowed between words. */
export function phraseToSeed(phrase: string): Buffer {
  const words = phrase.toLowerCase().split(/[\s,]+/).filter((w) => w.length > 0)
  if (words.length !== PHRASE_WORDS) {
    throw new ChrysalisError(
      'BAD_PHRASE',
      `the recovery phrase has ${words.length} words, not ${PHRASE_WORDS}; give all ${PHRASE_WORDS} words that \`chrysalis init\` showed, in order`
    )
  }
  for (const [i, w] of words.entries()) {
    if (!WORD_INDEX.has(w)) {
      throw new ChrysalisError(
        'BAD_PHRASE',
        `word ${i + 1} of the recovery phrase ("${w.slice(0, 20)}") is not in the word list; check its spelling`
      )
    }
  }
  try {
    return b4a.from(mnemonicToEntropy(words.join(' '), wordlist))
  } catch (err) {
    throw new ChrysalisError(
      'BAD_PHRASE',
      'the recovery phrase does not check out: a word is wrong or out of order; compare it with the one you saved',
      { cause: err }
    )
  }
}
