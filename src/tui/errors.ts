import { ChrysalisError, isChrysalisError } from '../errors.js'

/** A refusal the user can fix: said as it is, without "unexpected error". */
export function userError(message: string): ChrysalisError {
  return new ChrysalisError('BAD_INPUT', message)
}

/** One line for the user: a ChrysalisError's own words, else a plain summary. */
export function errorLine(err: unknown): string {
  return isChrysalisError(err) ? err.message : err instanceof Error ? `unexpected error: ${err.message.split('\n')[0]}` : String(err)
}
