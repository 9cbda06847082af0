import { Box, Text } from 'ink'
import { searchRows, type SearchState, type UiState } from '../store.js'
import { oneLine, plural } from '../text.js'
import { PostRow, postRows, ScrollInfo, useTheme, useWindow, type Dims } from '../widgets.js'

/** Search results: the people found, then the posts, best and newest first; Enter opens one. */
export function SearchScreen({ s, t, dims }: { s: UiState; t: SearchState; dims: Dims }) {
  const theme = useTheme()
  const rows = searchRows(t)
  const height = (i: number): number => {
    const row = rows[i]!
    return 'person' in row ? 2 : postRows(row.post)
  }
  const { start, end } = useWindow(t.selected, rows.length, height, Math.max(3, dims.rows - 2))
  const counts = `${plural(t.people.length, 'person', 'people')}, ${plural(t.posts.length, 'post')}`
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text wrap="truncate-end" bold>{`Search "${oneLine(t.query, 40)}"${t.loading ? ' (searching…)' : ` · ${counts}`}`}</Text>
        <ScrollInfo start={start} end={end} count={rows.length} />
      </Box>
      {rows.length === 0 && !t.loading ? <Text color={theme.muted}>Nothing here matches. Follow more people, or discover a topic (People, d).</Text> : null}
      {rows.slice(start, end).map((row, k) => {
        const sel = start + k === t.selected
        if ('post' in row) return <PostRow key={row.post.ref} post={row.post} selected={sel} width={dims.width} now={s.now} availability={s.availability} />
        const p = row.person
        return (
          <Box key={p.id} flexDirection="column">
            <Text wrap="truncate-end" bold={sel}>
              <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
              <Text color={theme.author}>{p.name ? oneLine(p.name, 40) : '(no name)'}</Text>
              <Text color={theme.muted}>{` (${p.fingerprint})${p.following ? ' · following' : ''}`}</Text>
            </Text>
            <Text wrap="truncate-end" color={theme.muted}>{`    ${p.bio ? oneLine(p.bio, dims.width - 6) : ''}`}</Text>
          </Box>
        )
      })}
    </Box>
  )
}
