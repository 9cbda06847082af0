import type { Key } from 'ink'

/**
 * A text field's value and cursor, edited by keys. Pure: each edit returns a new field, so the
 * store always holds the truth and keys arriving together never see a stale value.
 */
export interface Field {
  value: string
  /** Cursor position in characters (code points). */
  cursor: number
}

export function field(value = ''): Field {
  return { value, cursor: [...value].length }
}

/**
 * Apply a key to a field. Returns null when the key is not an editing key (Enter, Esc, Tab,
 * arrows up/down, Ctrl combinations other than the editing ones), so the caller can handle it.
 * Pasted text arrives as one input string and is inserted whole; in a single-line field its
 * newlines become spaces.
 */
export function editField(f: Field, input: string, key: Key, opts: { multiline?: boolean } = {}): Field | null {
  const chars = [...f.value]
  const at = Math.min(f.cursor, chars.length)
  if (key.leftArrow) return { value: f.value, cursor: Math.max(0, at - 1) }
  if (key.rightArrow) return { value: f.value, cursor: Math.min(chars.length, at + 1) }
  if (key.home || (key.ctrl && input === 'a')) return { value: f.value, cursor: lineStart(chars, at) }
  if (key.end || (key.ctrl && input === 'e')) return { value: f.value, cursor: lineEnd(chars, at) }
  if (key.backspace || key.delete) {
    if (at === 0) return f
    chars.splice(at - 1, 1)
    return { value: chars.join(''), cursor: at - 1 }
  }
  if (key.ctrl && input === 'u') {
    const start = lineStart(chars, at)
    chars.splice(start, at - start)
    return { value: chars.join(''), cursor: start }
  }
  if (key.ctrl && input === 'w') {
    let start = at
    while (start > 0 && chars[start - 1] === ' ') start--
    while (start > 0 && chars[start - 1] !== ' ' && chars[start - 1] !== '\n') start--
    chars.splice(start, at - start)
    return { value: chars.join(''), cursor: start }
  }
  if (key.return && opts.multiline && !key.ctrl && !key.meta) return insert(chars, at, '\n')
  if (key.return || key.escape || key.tab || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.ctrl || key.meta) return null
  if (input === '') return null
  let text = input.replace(/\r\n?/g, '\n')
  if (!opts.multiline) text = text.replace(/\n/g, ' ')
  // eslint-disable-next-line no-control-regex
  text = text.replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '')
  if (text === '') return f
  return insert(chars, at, text)
}

/** A line break at the cursor (Enter in a multi-line field). */
export function newLine(f: Field): Field {
  return insert([...f.value], Math.min(f.cursor, [...f.value].length), '\n')
}

function insert(chars: string[], at: number, text: string): Field {
  const add = [...text]
  chars.splice(at, 0, ...add)
  return { value: chars.join(''), cursor: at + add.length }
}

function lineStart(chars: string[], at: number): number {
  let i = at
  while (i > 0 && chars[i - 1] !== '\n') i--
  return i
}

function lineEnd(chars: string[], at: number): number {
  let i = at
  while (i < chars.length && chars[i] !== '\n') i++
  return i
}

/** Move the cursor one line up or down in a multi-line field, keeping the column where possible. */
export function moveLine(f: Field, dir: -1 | 1): Field {
  const chars = [...f.value]
  const at = Math.min(f.cursor, chars.length)
  const start = lineStart(chars, at)
  const col = at - start
  if (dir < 0) {
    if (start === 0) return { value: f.value, cursor: 0 }
    const prevStart = lineStart(chars, start - 1)
    return { value: f.value, cursor: Math.min(prevStart + col, start - 1) }
  }
  const end = lineEnd(chars, at)
  if (end >= chars.length) return { value: f.value, cursor: chars.length }
  const nextEnd = lineEnd(chars, end + 1)
  return { value: f.value, cursor: Math.min(end + 1 + col, nextEnd) }
}
