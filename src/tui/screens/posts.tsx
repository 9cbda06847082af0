import { Box, Text } from 'ink'
import type { ComposeState, ProfileState, ThreadState, UiState } from '../store.js'
import { threadRows } from '../store.js'
import { age, bar, bytes, clean, oneLine, plural, truncate, wrap } from '../text.js'
import { attachmentLine, authorLabel, FieldView, FILES_HINT, MultiFieldView, PostRow, postRows, ScrollInfo, useTheme, useWindow, type Dims } from '../widgets.js'

/** The screens of posts: the timeline, a thread, a profile, and compose. */

// ---------------------------------------------------------------------------------------------
// Timeline

export function TimelineScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const t = s.timeline
  const { start, end } = useWindow(t.selected, t.posts.length, (i) => postRows(t.posts[i]!), dims.rows - 1)
  if (!t.loaded) return <Text color={theme.muted}>Loading your timeline…</Text>
  if (t.posts.length === 0) {
    return (
      <Box flexDirection="column">
        <Text bold>Your timeline is empty.</Text>
        <Text> </Text>
        <Text>Follow people to see their posts here:</Text>
        <Text>  2 opens People; there d discovers people by topic (try vintage-manuals),</Text>
        <Text>  and i follows someone by pasting their ID.</Text>
        <Text>  c writes your own post.</Text>
      </Box>
    )
  }
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text color={theme.muted}>{`Newest posts of you and ${plural(s.people.following.length, 'person', 'people')} you follow`}</Text>
        <ScrollInfo start={start} end={end} count={t.posts.length} />
      </Box>
      {t.posts.slice(start, end).map((p, i) => (
        <PostRow key={p.ref} post={p} selected={start + i === t.selected} width={dims.width} now={s.now} availability={s.availability} />
      ))}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// Thread

const THREAD_TEXT_LINES = 3

export function ThreadScreen({ s, t, dims }: { s: UiState; t: ThreadState; dims: Dims }) {
  const theme = useTheme()
  const rows = threadRows(t.thread)
  const textWidth = (depth: number): number => Math.max(20, dims.width - 4 - Math.min(depth, 8) * 2)
  const linesOf = (i: number): string[] => {
    const r = rows[i]!
    if (!r.post) return ['(this post is not available here: its author is not reachable now)']
    if (r.post.deleted) return ['(deleted by its author)']
    const all = wrap(r.post.text, textWidth(r.depth))
    // The selected post shows whole (up to the screen), the others a few lines.
    const max = i === t.selected ? Math.max(THREAD_TEXT_LINES, dims.rows - 6) : i === 0 ? 6 : THREAD_TEXT_LINES
    return all.length > max ? [...all.slice(0, max - 1), `${truncate(all[max - 1]!, textWidth(r.depth) - 2)} …`] : all
  }
  const heightOf = (i: number): number => 1 + linesOf(i).length + (rows[i]?.post?.attachments.length ?? 0)
  const { start, end } = useWindow(t.selected, rows.length, heightOf, dims.rows - 1)
  if (t.loading && !t.thread) return <Text color={theme.muted}>Loading the thread…</Text>
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text color={theme.muted}>{`Thread · ${plural(t.thread?.count ?? 0, 'comment')}`}</Text>
        <ScrollInfo start={start} end={end} count={rows.length} />
      </Box>
      {rows.slice(start, end).map((r, k) => {
        const i = start + k
        const selected = i === t.selected
        const indent = ' '.repeat(Math.min(r.depth, 8) * 2)
        const head = r.post ? `${authorLabel(r.post)} · ${age(r.post.createdAt, s.now)}${r.post.editedAt ? ' · edited' : ''}` : '(unavailable)'
        const mine = r.post?.author === s.me?.id ? ' · you' : ''
        return (
          <Box key={r.post?.ref ?? `missing-${i}`} flexDirection="column">
            <Text wrap="truncate-end" bold={selected}>
              <Text color={selected ? theme.selection : theme.muted} inverse={selected && !theme.color}>
                {selected ? '› ' : '  '}
              </Text>
              {indent}
              <Text color={theme.author}>{head}</Text>
              <Text color={theme.muted}>{mine}</Text>
              {i === 0 && r.post?.topics.length ? <Text color={theme.topic}>{' ' + r.post.topics.map((x) => `#${x}`).join(' ')}</Text> : null}
            </Text>
            {linesOf(i).map((line, j) => (
              <Text key={j} wrap="truncate-end" dimColor={r.post?.deleted ?? true}>{`  ${indent}${line}`}</Text>
            ))}
            {(r.post?.attachments ?? []).map((a, j) => (
              <Text key={a.infohash} wrap="truncate-end" color={theme.file}>
                {`  ${indent}`}
                {selected && j === 0 ? <Text color={theme.muted}>{FILES_HINT}</Text> : null}
                {attachmentLine(a, s.availability)}
              </Text>
            ))}
          </Box>
        )
      })}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// Profile

export function ProfileScreen({ s, p, dims }: { s: UiState; p: ProfileState; dims: Dims }) {
  const theme = useTheme()
  const header = 6
  const { start, end } = useWindow(p.selected, p.posts.length, (i) => postRows(p.posts[i]!), Math.max(3, dims.rows - header - 1))
  const pr = p.profile
  const mine = p.id === s.me?.id
  const relation = mine ? 'this is you' : p.blocked ? 'blocked' : p.following ? 'following' : 'not following'
  const names = p.follows.map((f) => (f.name ? oneLine(f.name, 20) : f.fingerprint)).join(', ')
  const follows = mine
    ? `Following ${p.loading ? '…' : `${p.follows.length}${names ? `: ${names}` : ''}`}${p.followers === null ? '' : ` · followers ${p.followers}`}`
    : `Follows: ${p.follows.length ? names : p.loading ? '…' : 'nobody yet'}`
  const title = `${mine ? 'Your posts and comments, newest first' : 'Posts and comments'}${p.loading || p.loadingMore ? ' (loading…)' : ''}`
  const empty = mine ? 'You have not posted yet: c writes your first post.' : 'Nothing here yet (or their feed is not reachable now).'
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold color={theme.author}>{pr?.name ? oneLine(pr.name, 40) : '(no name)'}</Text>
        <Text color={theme.muted}>{` ${pr?.fingerprint ?? ''} · ${relation}`}</Text>
      </Text>
      <Text wrap="truncate-end" color={theme.muted}>{`ID ${p.id}`}</Text>
      <Text wrap="truncate-end">{pr?.bio ? oneLine(pr.bio, dims.width) : p.loading && !mine ? 'Loading…' : mine ? '(no bio: 5, then e, adds one)' : '(no bio)'}</Text>
      <Text wrap="truncate-end" color={theme.muted}>
        {follows}
      </Text>
      <Box justifyContent="space-between" height={1}>
        <Text bold>{title}</Text>
        <ScrollInfo start={start} end={end} count={p.posts.length} more={p.next !== null} />
      </Box>
      {p.posts.length === 0 && !p.loading ? <Text color={theme.muted}>{empty}</Text> : null}
      {p.posts.slice(start, end).map((post, i) => (
        <PostRow key={post.ref} post={post} selected={start + i === p.selected} width={dims.width} now={s.now} availability={s.availability} comment />
      ))}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// Compose

export function ComposeScreen({ c, dims }: { c: ComposeState; dims: Dims }) {
  const theme = useTheme()
  const label = (i: number, text: string) => (
    <Text bold={c.focus === i} color={c.focus === i ? theme.accent : theme.muted}>
      {text}
    </Text>
  )
  const textRows = Math.max(3, dims.rows - 8 - c.files.length - (c.candidates.length ? 1 : 0))
  return (
    <Box flexDirection="column">
      {label(0, `New post${c.busy ? ' (publishing…)' : ''}`)}
      <Box borderStyle="round" borderColor={c.focus === 0 ? theme.accent : theme.muted} paddingX={1}>
        <MultiFieldView f={c.text} focus={c.focus === 0} rows={textRows} width={dims.width - 4} placeholder="What are you sharing? #topics and @IDs count too." />
      </Box>
      <Box>
        {label(1, 'Topics  ')}
        <FieldView f={c.topics} focus={c.focus === 1} width={dims.width - 10} placeholder="vintage-manuals kaypro (space separated)" />
      </Box>
      <Box>
        {label(2, 'Attach  ')}
        <FieldView f={c.attach} focus={c.focus === 2} width={dims.width - 10} placeholder="a file or folder path; Tab completes, Enter attaches" />
      </Box>
      {c.candidates.length ? <Text color={theme.muted} wrap="truncate-end">{`  ${c.candidates.join('  ')}`}</Text> : null}
      {c.files.map((f) => (
        <Text key={f.path} wrap="truncate-end" color={f.error ? theme.error : f.infohash ? theme.ok : theme.accent}>
          {f.error
            ? `  ✗ ${clean(f.name)}: ${f.error}`
            : f.infohash
              ? `  ▣ ${clean(f.name)} ${bytes(f.size)} · ready, shared as ${f.infohash.slice(0, 16)}…`
              : `  ${bar(f.size ? f.done / f.size : 0, 20)} hashing ${clean(f.name)} ${f.size ? Math.floor((100 * f.done) / f.size) : 0}%`}
        </Text>
      ))}
    </Box>
  )
}
