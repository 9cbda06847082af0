/**
 * Text helpers for the terminal: untrusted text made safe to print, truncation, wrapping, and
 * human sizes, rates and ages. Widths count characters; wide glyphs are rare in this domain and
 * Ink truncates any line that is still too long.
 */

import { displayText } from '../display.js'
import { formatBytes as bytes } from '../units.js'

export { bytes }

/** Text from a feed, safe to print: controls (and bidi overrides) become spaces; tabs too. */
export const clean = displayText

/** One line: newlines folded into " ⏎ " style spaces, then cut to `width` with an ellipsis. */
export function oneLine(text: string, width: number): string {
  return truncate(clean(text).replace(/\s*\n\s*/g, ' · '), width)
}

export function truncate(text: string, width: number): string {
  if (width <= 0) return ''
  const chars = [...text]
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + '…'
}

/** Wrap text to `width` columns at spaces where possible; each paragraph starts a new line. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  const w = Math.max(1, width)
  for (const paragraph of clean(text).split('\n')) {
    let rest = [...paragraph]
    if (rest.length === 0) lines.push('')
    while (rest.length > 0) {
      if (rest.length <= w) {
        lines.push(rest.join(''))
        break
      }
      let cut = rest.lastIndexOf(' ', w)
      if (cut <= 0) cut = w
      lines.push(rest.slice(0, cut).join('').trimEnd())
      rest = rest.slice(cut)
      while (rest[0] === ' ') rest = rest.slice(1)
    }
  }
  return lines
}


export function rate(n: number): string {
  return `${bytes(Math.round(n))}/s`
}

export function age(t: number, now: number): string {
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  if (s < 86400) return `${Math.floor(s / 3600)}h`
  if (s < 86400 * 60) return `${Math.floor(s / 86400)}d`
  return new Date(t).toISOString().slice(0, 10)
}

export function eta(remaining: number, perSecond: number): string {
  if (perSecond <= 0) return '--'
  const s = Math.ceil(remaining / perSecond)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** A bar of `width` cells for a fraction 0..1, drawn with characters that need no colour. */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction))
  const full = Math.round(f * width)
  return '█'.repeat(full) + '░'.repeat(Math.max(0, width - full))
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}
