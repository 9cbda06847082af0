import type { Key } from 'ink'
import type { Controller } from './controller.js'
import { bindingFor, contextOf } from './keymap.js'

/**
 * The one key handler: it names the key, looks it up in the keymap for the context of the
 * moment (read from the store as the key arrives, so a burst of keys never sees stale state)
 * and dispatches the action found there.
 */
export function handleKey(c: Controller, input: string, key: Key): void {
  // Ink splits escape sequences but hands over a run of text with Tab, Enter or Backspace in it
  // (keys typed faster than a frame, or sent by tmux) as one input: split it into keys.
  // eslint-disable-next-line no-control-regex
  if (input.length > 1 && /[\u0000-\u001f\u007f]/.test(input)) {
    for (const [i, k] of splitKeys(input)) handleKey(c, i, k)
    return
  }
  // Esc then a key, typed together, arrive as Alt+key: take them apart.
  const special = key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown || key.home || key.end || key.tab
  if (key.meta && !key.escape && !key.return && !key.ctrl && (input.length === 1 || special)) {
    handleKey(c, '', { ...NO_KEY, escape: true, meta: true })
    handleKey(c, input, { ...key, meta: false })
    return
  }
  const ctx = contextOf(c.state)
  const name = keyName(input, key)
  const binding = bindingFor(ctx, name)
  // Several plain keys in one chunk where nothing is typed (keys faster than the terminal):
  // one at a time. Where text is typed, the chunk is a paste and goes in whole.
  // Never in a question, help or the first run: "yd" must not answer yes and then delete.
  if (name === null && !binding?.keys.includes('*') && !NO_SPLIT.test(ctx) && input.length > 1 && !key.ctrl && !key.meta && /^[\x20-\x7e]+$/.test(input)) {
    for (const ch of input) handleKey(c, ch, NO_KEY)
    return
  }
  if (binding) c.dispatch(binding.act({ name, input, key }))
}

/** Contexts where a chunk of several keys is ignored rather than taken one key at a time. */
const NO_SPLIT = /^(confirm|help|busy|failed|setup-)/

/** The keymap's name of a key (Binding.keys), or null for text of more than one character. */
export function keyName(input: string, key: Key): string | null {
  if (key.return) return key.meta ? 'meta-enter' : key.ctrl ? 'ctrl-enter' : 'enter'
  if (key.escape) return 'esc'
  if (key.tab) return key.shift ? 'shift-tab' : 'tab'
  if (key.upArrow) return 'up'
  if (key.downArrow) return 'down'
  if (key.leftArrow) return 'left'
  if (key.rightArrow) return 'right'
  if (key.pageUp) return 'pgup'
  if (key.pageDown) return 'pgdn'
  if (key.home) return 'home'
  if (key.end) return 'end'
  if (key.backspace || key.delete) return 'backspace'
  if (key.ctrl && input.length === 1) return `ctrl-${input}`
  return [...input].length === 1 && !key.meta ? input : null
}

export const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false
}

/** A chunk of text and control characters as the keys it stands for. */
export function splitKeys(chunk: string): Array<[string, Key]> {
  const keys: Array<[string, Key]> = []
  let text = ''
  const flush = (): void => {
    if (text) keys.push([text, NO_KEY])
    text = ''
  }
  for (const ch of chunk) {
    const code = ch.codePointAt(0)!
    if (code >= 0x20 && code !== 0x7f) {
      text += ch
      continue
    }
    flush()
    if (ch === '\r' || ch === '\n') keys.push(['', { ...NO_KEY, return: true }])
    else if (ch === '\t') keys.push(['', { ...NO_KEY, tab: true }])
    else if (ch === '\u007f' || ch === '\b') keys.push(['', { ...NO_KEY, backspace: true }])
    else if (ch === '\u001b') keys.push(['', { ...NO_KEY, escape: true }])
    else if (code >= 1 && code <= 26) keys.push([String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }])
  }
  flush()
  return keys
}
