/**
 * Semantic colour tokens: screens name what a thing is (accent, muted, error…), never a colour.
 * With NO_COLOR set (https://no-color.org) every token is undefined and emphasis falls back to
 * bold, dim and inverse, which need no colour.
 */
export interface Theme {
  accent: string | undefined
  muted: string | undefined
  author: string | undefined
  topic: string | undefined
  file: string | undefined
  ok: string | undefined
  warn: string | undefined
  error: string | undefined
  selection: string | undefined
  /** Whether colour is in use at all. */
  color: boolean
}

const COLOURS: Theme = {
  accent: 'cyan',
  muted: 'gray',
  author: 'yellow',
  topic: 'magenta',
  file: 'blue',
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  selection: 'cyan',
  color: true
}

const PLAIN: Theme = {
  accent: undefined,
  muted: undefined,
  author: undefined,
  topic: undefined,
  file: undefined,
  ok: undefined,
  warn: undefined,
  error: undefined,
  selection: undefined,
  color: false
}

export function themeFor(env: NodeJS.ProcessEnv = process.env): Theme {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? PLAIN : COLOURS
}
