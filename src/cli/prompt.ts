import { createInterface } from 'node:readline/promises'
import { ChrysalisError } from '../errors.js'

/**
 * Passphrases come from CHRYSALIS_PASSPHRASE (scripts) or from a hidden prompt on the terminal.
 * With neither, the command stops with a message saying how to give one.
 */
export async function askPassphrase(opts: { confirm: boolean; env?: NodeJS.ProcessEnv }): Promise<string> {
  const env = opts.env ?? process.env
  const fromEnv = env.CHRYSALIS_PASSPHRASE
  if (fromEnv !== undefined) {
    if (fromEnv === '') throw new ChrysalisError('NO_PASSPHRASE', 'CHRYSALIS_PASSPHRASE is empty; set it to the passphrase')
    return fromEnv
  }
  if (!process.stdin.isTTY) {
    throw new ChrysalisError('NO_PASSPHRASE', 'no terminal to ask for a passphrase; set CHRYSALIS_PASSPHRASE for scripts')
  }
  const first = await hiddenInput('Passphrase: ')
  if (first === '') throw new ChrysalisError('NO_PASSPHRASE', 'the passphrase is empty; choose one you will remember')
  if (opts.confirm) {
    const second = await hiddenInput('Repeat the passphrase: ')
    if (second !== first) throw new ChrysalisError('NO_PASSPHRASE', 'the two passphrases differ; run the command again')
  }
  return first
}

function hiddenInput(prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  return new Promise((resolve, reject) => {
    let value = ''
    const done = (err: Error | null): void => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
      if (err) reject(err)
      else resolve(value)
    }
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf-8')) {
        if (ch === '\r' || ch === '\n') return done(null)
        if (ch === '\u0003') return done(new ChrysalisError('NO_PASSPHRASE', 'cancelled'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else if (ch >= ' ') value += ch
      }
    }
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}

/** Ask a yes/no question on the terminal (stderr); only "y" or "yes" is yes. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(question)
    return /^\s*y(es)?\s*$/i.test(answer)
  } finally {
    rl.close()
  }
}
