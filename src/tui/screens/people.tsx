import { Box, Text } from 'ink'
import type { UiState } from '../store.js'
import { age, oneLine } from '../text.js'
import { authorLabel, ScrollInfo, useTheme, useWindow, type Dims } from '../widgets.js'

/** The People and Notifications screens. */

// ---------------------------------------------------------------------------------------------
// People

export function PeopleScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const p = s.people
  const discover = p.section === 'discover'
  const followers = p.section === 'followers'
  const list = discover ? p.found : followers ? p.followers : p.following
  const selected = discover ? p.foundSelected : followers ? p.followerSelected : p.selected
  const per = discover ? 2 : 1
  const { start, end } = useWindow(selected, list.length, () => per, dims.rows - 2)
  const pane = (on: boolean, title: string) => (
    <Text inverse={on} bold={on} color={on ? theme.accent : theme.muted}>
      {title}
    </Text>
  )
  return (
    <Box flexDirection="column">
      <Box height={1}>
        {pane(p.section === 'following', ` Following (${p.following.length}) `)}
        <Text> </Text>
        {pane(followers, ` Followers (${p.followers.length}) `)}
        <Text> </Text>
        <Text inverse={discover} bold={discover} color={discover ? theme.accent : theme.muted}>
          {` Discover${p.topic ? `: #${p.topic} (${p.found.length} found)` : ''} `}
        </Text>
        <Text> </Text>
        <ScrollInfo start={start} end={end} count={list.length} />
      </Box>
      {discover && p.topic === null ? <Text color={theme.muted}>Press d and type an interest topic, like vintage-manuals.</Text> : null}
      {discover && p.topic !== null && p.found.length === 0 ? <Text color={theme.muted}>{`Looking for people on #${p.topic}… they appear here as they are found.`}</Text> : null}
      {followers && p.followers.length === 0 ? (
        <Text color={theme.muted}>Nobody follows you yet, or has told your node: a follow arrives while you are online.</Text>
      ) : null}
      {p.section === 'following' && p.following.length === 0 ? (
        <Text color={theme.muted}>You follow nobody yet: d discovers people by topic, i follows an ID you paste.</Text>
      ) : null}
      {discover
        ? p.found.slice(start, end).map((person, k) => {
            const sel = start + k === selected
            return (
              <Box key={person.id} flexDirection="column" height={2}>
                <Text wrap="truncate-end" bold={sel}>
                  <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
                  <Text color={theme.author}>{`${person.name ? oneLine(person.name, 30) : '(no name)'} (${person.fingerprint})`}</Text>
                  <Text color={person.following ? theme.ok : theme.muted}>{person.following ? ' · following' : ''}</Text>
                </Text>
                <Text wrap="truncate-end" color={theme.muted}>{`    ${person.bio ? oneLine(person.bio, dims.width - 30) + ' · ' : ''}${person.via}`}</Text>
              </Box>
            )
          })
        : (followers ? p.followers : p.following).slice(start, end).map((person, k) => {
            const sel = start + k === selected
            return (
              <Text key={person.id} wrap="truncate-end" bold={sel}>
                <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
                <Text color={theme.author}>{`${person.name ? oneLine(person.name, 30) : '(no name yet)'} (${person.fingerprint})`}</Text>
                {'following' in person && person.following ? <Text color={theme.ok}> · you follow them</Text> : null}
                <Text color={theme.muted}>{`  since ${person.since ? age(person.since, s.now) : '?'}  ${person.id}`}</Text>
              </Text>
            )
          })}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// Notifications

export function NotificationsScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const n = s.notifications
  const { start, end } = useWindow(n.selected, n.items.length, () => 2, dims.rows - 1)
  if (n.items.length === 0) return <Text color={theme.muted}>No notifications yet: comments on your posts, mentions of you and follows appear here.</Text>
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text color={theme.muted}>Comments on your posts, mentions of you, who followed you</Text>
        <ScrollInfo start={start} end={end} count={n.items.length} />
      </Box>
      {n.items.slice(start, end).map((item, k) => {
        const sel = start + k === n.selected
        if (item.kind === 'follow') {
          const p = item.person
          return (
            <Box key={`${p.id}-${item.at}`} flexDirection="column" height={2}>
              <Text wrap="truncate-end" bold={sel}>
                <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
                <Text color={theme.author}>{p.name ? oneLine(p.name, 30) : `(no name) ${p.fingerprint}`}</Text>
                <Text>{` followed you`}</Text>
                <Text color={theme.muted}>{` · ${age(item.at, s.now)}`}</Text>
              </Text>
              <Text wrap="truncate-end" color={theme.muted}>{`    ${p.following ? 'you follow them too' : 'f follows back'} · Enter their profile`}</Text>
            </Box>
          )
        }
        const who = item.post ? authorLabel(item.post) : '(not available here now)'
        return (
          <Box key={`${item.ref ?? item.post?.ref ?? k}-${item.at}`} flexDirection="column" height={2}>
            <Text wrap="truncate-end" bold={sel}>
              <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
              <Text color={theme.accent}>{item.kind === 'comment' ? 'comment' : 'mention'}</Text>
              <Text>{` from `}</Text>
              <Text color={theme.author}>{who}</Text>
              <Text color={theme.muted}>{` · ${age(item.at, s.now)}`}</Text>
            </Text>
            <Text wrap="truncate-end">{`    ${item.post ? oneLine(item.post.text, dims.width - 6) : ''}`}</Text>
          </Box>
        )
      })}
    </Box>
  )
}
