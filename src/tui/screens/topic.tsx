import { Box, Text } from 'ink'
import type { TopicState, UiState } from '../store.js'
import { oneLine, plural } from '../text.js'
import { PostRow, postRows, ScrollInfo, useTheme, useWindow, type Dims } from '../widgets.js'

/**
 * A topic as a place: the newest posts on it from everyone found there, followed or not, newest
 * first, growing as people are found (node-topic.ts). The line under the title says whether the
 * selected post's author is followed (f follows or unfollows them), or that the node is offline.
 */
export function TopicScreen({ s, t, dims }: { s: UiState; t: TopicState; dims: Dims }) {
  const theme = useTheme()
  const { start, end } = useWindow(t.selected, t.posts.length, (i) => postRows(t.posts[i]!), Math.max(3, dims.rows - 2))
  const name = t.name ?? t.topic
  const reading = t.reading ? ` · reading ${plural(t.reading, 'feed')}…` : ''
  const post = t.posts[t.selected]
  const following = post ? s.people.following.some((p) => p.id === post.author) : false
  const who = post ? (post.authorName ? oneLine(post.authorName, 30) : post.fingerprint) : ''
  const line = !t.online
    ? 'Offline: only what is here (yours and the people you follow).'
    : !post
      ? `Looking for people on #${name}; their posts appear here as they are found.`
      : post.author === s.me?.id
        ? 'Your post.'
        : following
          ? `You follow ${who} (f unfollows).`
          : `You do not follow ${who} (f follows).`
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text wrap="truncate-end" bold>{`#${oneLine(name, 40)} · ${plural(t.people, 'person', 'people')} found${t.loading ? ' (loading…)' : reading}`}</Text>
        <ScrollInfo start={start} end={end} count={t.posts.length} />
      </Box>
      <Text wrap="truncate-end" color={theme.muted}>
        {line}
      </Text>
      {t.posts.length === 0 && !t.loading ? <Text color={theme.muted}>{`No posts on #${name} here yet.`}</Text> : null}
      {t.posts.slice(start, end).map((p, i) => (
        <PostRow key={p.ref} post={p} selected={start + i === t.selected} width={dims.width} now={s.now} availability={s.availability} comment />
      ))}
    </Box>
  )
}
