import { createContext, memo, useContext, useRef } from 'react'
import { Box, Text } from 'ink'
import type { Field } from './field.js'
import type { Theme } from './theme.js'
import type { AttachmentView, PostView } from '../node/views.js'
import { age, bytes, clean, oneLine, truncate } from './text.js'

/** The size a screen may draw in: the terminal's width, the rows between header and footer. */
export interface Dims {
  width: number
  rows: number
}

export const ThemeContext = createContext<Theme | null>(null)

export function useTheme(): Theme {
  const t = useContext(ThemeContext)
  if (!t) throw new Error('ThemeContext missing')
  return t
}

/**
 * Which items of a list fit in `rows` rows with `selected` visible, keeping the first visible
 * item where it was while the selection moves inside the window (so the list does not jump).
 */
export function useWindow(selected: number, count: number, heightOf: (i: number) => number, rows: number): { start: number; end: number } {
  const startRef = useRef(0)
  if (count === 0) return { start: 0, end: 0 }
  let start = Math.max(0, Math.min(startRef.current, count - 1, selected))
  let used = 0
  for (let i = selected; i >= start; i--) {
    used += heightOf(i)
    if (used > rows) {
      start = Math.min(selected, i + 1)
      break
    }
  }
  let end = start
  used = 0
  while (end < count && used + heightOf(end) <= rows) used += heightOf(end++)
  if (end === start && count > start) end = start + 1
  startRef.current = start
  return { start, end }
}

/**
 * "12–18 of 10000" on the right of a title line, when a list is longer than its window;
 * "of 50+" when `more` are still to be read.
 */
export function ScrollInfo({ start, end, count, more = false }: { start: number; end: number; count: number; more?: boolean }) {
  const theme = useTheme()
  if (count <= end - start && !more) return null
  return <Text color={theme.muted}>{`${start + 1}–${end} of ${count}${more ? '+' : ''}${end < count || more ? ' ↓' : ''}`}</Text>
}

/** A text field: the value with a visible cursor; masked for passphrases. */
export function FieldView({ f, focus, mask, placeholder, width }: { f: Field; focus: boolean; mask?: boolean; placeholder?: string; width: number }) {
  const theme = useTheme()
  const chars = [...(mask ? '•'.repeat([...f.value].length) : f.value)]
  if (chars.length === 0 && !focus && placeholder) return <Text color={theme.muted}>{truncate(placeholder, width)}</Text>
  if (!focus) return <Text>{truncate(chars.join(''), width)}</Text>
  // Keep the cursor in view: show the end of a long value.
  const from = Math.max(0, f.cursor - width + 2)
  const shown = chars.slice(from, from + width - 1)
  const at = f.cursor - from
  const before = shown.slice(0, at).join('')
  const under = shown[at] ?? ' '
  const after = shown.slice(at + 1).join('')
  if (chars.length === 0 && placeholder) {
    return (
      <Text>
        <Text inverse> </Text>
        <Text color={theme.muted}>{truncate(placeholder, width - 1)}</Text>
      </Text>
    )
  }
  return (
    <Text>
      {before}
      <Text inverse>{under}</Text>
      {after}
    </Text>
  )
}

/** A multi-line field: lines cut to the width, the cursor's line kept in view. */
export function MultiFieldView({ f, focus, rows, width, placeholder }: { f: Field; focus: boolean; rows: number; width: number; placeholder?: string }) {
  const theme = useTheme()
  const lines = f.value.split('\n')
  let at = f.cursor
  let line = 0
  while (line < lines.length - 1 && at > [...lines[line]!].length) {
    at -= [...lines[line]!].length + 1
    line++
  }
  const from = Math.max(0, line - rows + 1)
  if (f.value === '' && placeholder) {
    return (
      <Box flexDirection="column" height={rows}>
        <Text>
          {focus ? <Text inverse> </Text> : null}
          <Text color={theme.muted}>{placeholder}</Text>
        </Text>
      </Box>
    )
  }
  return (
    <Box flexDirection="column" height={rows}>
      {lines.slice(from, from + rows).map((l, i) => {
        const chars = [...l]
        if (!focus || from + i !== line) return <Text key={i}>{truncate(l, width) || ' '}</Text>
        const start = Math.max(0, at - width + 2)
        const shown = chars.slice(start, start + width - 1)
        const c = at - start
        return (
          <Text key={i}>
            {shown.slice(0, c).join('')}
            <Text inverse>{shown[c] ?? ' '}</Text>
            {shown.slice(c + 1).join('')}
          </Text>
        )
      })}
    </Box>
  )
}

export function authorLabel(p: { authorName: string | null; fingerprint: string }): string {
  return p.authorName ? `${oneLine(p.authorName, 24)} (${p.fingerprint})` : `(no name) ${p.fingerprint}`
}

export function attachmentLine(a: AttachmentView, availability: Record<string, number | null>): string {
  const n = availability[a.infohash]
  const peers = n === undefined ? '' : n === null ? ' · looking for peers…' : ` · ${n === 0 ? 'no peer has it now' : `${n} peer${n === 1 ? '' : 's'}`}`
  return `▣ ${clean(a.name)} ${bytes(a.size)}${peers}`
}

/**
 * A post in a list: the author line, the first line of text, and its files if any (postRows);
 * `comment`: a comment says so (a profile lists posts and comments together).
 */
export const PostRow = memo(function PostRow({
  post,
  selected,
  width,
  now,
  availability,
  comment = false
}: {
  post: PostView
  selected: boolean
  width: number
  now: number
  availability: Record<string, number | null>
  comment?: boolean
}) {
  const theme = useTheme()
  const topics = post.topics.length ? ' ' + post.topics.map((t) => `#${t}`).join(' ') : ''
  const comments = post.comments ? `  ${post.comments} comment${post.comments === 1 ? '' : 's'}` : ''
  const head = `${authorLabel(post)} · ${age(post.createdAt, now)}${post.editedAt ? ' · edited' : ''}${comment && post.replyTo ? ' · comment' : ''}`
  const files = post.attachments.map((a) => attachmentLine(a, availability)).join('  ')
  const body = post.deleted ? '(deleted by its author)' : oneLine(post.text, width - 4)
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" bold={selected}>
        <Text color={selected ? theme.selection : theme.muted} inverse={selected && !theme.color}>
          {selected ? '› ' : '  '}
        </Text>
        <Text color={theme.author}>{head}</Text>
        <Text color={theme.topic}>{truncate(topics, Math.max(0, width - head.length - comments.length - 4))}</Text>
        <Text color={theme.muted}>{comments}</Text>
      </Text>
      <Text wrap="truncate-end" dimColor={post.deleted}>{`  ${body}`}</Text>
      {files ? (
        <Text wrap="truncate-end" color={theme.file}>
          {'  '}
          {selected ? <Text color={theme.muted}>{FILES_HINT}</Text> : null}
          {files}
        </Text>
      ) : null}
    </Box>
  )
})

/** Before the files of the selected post: the key that shows them whole, magnets too (the footer is full). */
export const FILES_HINT = '[a] '

export function Keys({ keys }: { keys: Array<[string, string]> }) {
  const theme = useTheme()
  return (
    <Text wrap="truncate-end">
      {keys.map(([k, what], i) => (
        <Text key={k}>
          {i ? '  ' : ''}
          <Text bold color={theme.accent}>{k}</Text>
          <Text color={theme.muted}>{` ${what}`}</Text>
        </Text>
      ))}
    </Text>
  )
}

/** The rows a PostRow takes. */
export function postRows(post: PostView): number {
  return post.attachments.length ? 3 : 2
}
