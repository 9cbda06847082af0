import { useEffect, useSyncExternalStore } from 'react'
import { Box, Text, useInput, useStdin, useStdout } from 'ink'
import type { Controller } from './controller.js'
import { handleKey } from './keys.js'
import { contextOf, footerOf, helpOf } from './keymap.js'
import { TAB_TITLES, TABS, top, type UiState } from './store.js'
import type { Theme } from './theme.js'
import { rate, plural, truncate, wrap } from './text.js'
import { IdentityScreen, SetupScreen } from './screens/identity.js'
import { NotificationsScreen, PeopleScreen } from './screens/people.js'
import { ComposeScreen, ProfileScreen, ThreadScreen, TimelineScreen } from './screens/posts.js'
import { SearchScreen } from './screens/search.js'
import { TopicScreen } from './screens/topic.js'
import { AttachmentsScreen, TransferDetail, TransfersScreen } from './screens/transfers.js'
import { FieldView, Keys, MultiFieldView, ThemeContext, useTheme, type Dims } from './widgets.js'

/**
 * The whole terminal UI: a header with the tabs, the screen, then a message line, the status
 * bar and the keys of the moment (from the keymap). Everything it shows comes from the store;
 * every key goes to handleKey. Frames stay one row shorter than the terminal, so Ink never clears the screen.
 */
export function App({ controller, theme }: { controller: Controller; theme: Theme }) {
  const s = useSyncExternalStore(controller.store.subscribe, controller.store.get)
  const { isRawModeSupported } = useStdin()
  const { stdout } = useStdout()
  useInput((input, key) => handleKey(controller, input, key), { isActive: isRawModeSupported === true })
  useEffect(() => {
    const onResize = (): void => controller.dispatch({ type: 'resize', columns: stdout.columns || 80, rows: stdout.rows || 24 })
    stdout.on('resize', onResize)
    return () => void stdout.off('resize', onResize)
  }, [controller, stdout])
  const width = Math.max(40, s.size.columns)
  const rows = Math.max(12, s.size.rows)
  const message = messageLines(s, width)
  const body = rows - 4 - message.length - (s.prompt ? promptHeight(s) : 0)
  const dims: Dims = { width, rows: body }
  return (
    <ThemeContext.Provider value={theme}>
      <Box flexDirection="column" width={width}>
        <Header s={s} width={width} />
        <Box flexDirection="column" height={body} overflow="hidden">
          {s.help ? <Help s={s} /> : <Body s={s} dims={dims} />}
        </Box>
        {s.prompt ? <PromptView s={s} width={width} /> : null}
        <MessageLine s={s} lines={message} />
        <StatusBar s={s} />
        <Keys keys={footerOf(contextOf(s))} />
      </Box>
    </ThemeContext.Provider>
  )
}

function promptHeight(s: UiState): number {
  return s.prompt?.multiline ? 6 : s.prompt?.candidates?.length ? 4 : 3
}

const SHORT_TITLES: Record<(typeof TABS)[number], string> = { timeline: 'Timeline', people: 'People', notifications: 'Notifs', transfers: 'Files', identity: 'Me' }

function Header({ s, width }: { s: UiState; width: number }) {
  const theme = useTheme()
  if (s.mode !== 'main') {
    return (
      <Text bold color={theme.accent}>
        Chrysalis
      </Text>
    )
  }
  const t = top(s)
  const where = t?.kind === 'thread' ? ' › Thread' : t?.kind === 'profile' ? (t.id === s.me?.id ? ' › Your profile' : ' › Profile') : t?.kind === 'compose' ? ' › Compose' : t?.kind === 'transfer' ? ' › Transfer' : t?.kind === 'attachments' ? ' › Files' : t?.kind === 'search' ? ' › Search' : t?.kind === 'topic' ? ' › Topic' : ''
  // Full titles when they fit beside the badge and where we are, else short ones.
  const full = 10 + TABS.reduce((n, tab, i) => n + `  ${i + 1} ${TAB_TITLES[tab]}`.length, 0) + where.length + (s.notifications.unread ? 5 : 0)
  const short = full > width
  return (
    <Box width={width} height={1}>
      <Text bold color={theme.accent}>
        {'Chrysalis '}
      </Text>
      {TABS.map((tab, i) => {
        const active = tab === s.tab
        const badge = tab === 'notifications' && s.notifications.unread ? ` (${s.notifications.unread})` : ''
        const label = short ? SHORT_TITLES[tab] : TAB_TITLES[tab]
        return (
          <Text key={tab} inverse={active} bold={active} color={active ? theme.accent : undefined}>
            {` ${i + 1} ${label}${badge} `}
          </Text>
        )
      })}
      <Text color={theme.muted}>{where}</Text>
    </Box>
  )
}

function Body({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  if (s.mode === 'starting' || s.mode === 'opening') return <Text color={theme.muted}>{s.mode === 'opening' ? 'Opening your node…' : 'Starting…'}</Text>
  if (s.mode === 'closing') return <Text color={theme.muted}>Closing: saving and leaving the network…</Text>
  if (s.mode === 'failed') return <Text>Your node could not be opened (the reason is below). q quits.</Text>
  if (s.mode === 'setup') return <SetupScreen s={s} dims={dims} />
  const t = top(s)
  if (t?.kind === 'thread') return <ThreadScreen s={s} t={t} dims={dims} />
  if (t?.kind === 'profile') return <ProfileScreen s={s} p={t} dims={dims} />
  if (t?.kind === 'compose') return <ComposeScreen c={t} dims={dims} />
  if (t?.kind === 'transfer') return <TransferDetail s={s} t={t} dims={dims} />
  if (t?.kind === 'attachments') return <AttachmentsScreen s={s} a={t} dims={dims} />
  if (t?.kind === 'search') return <SearchScreen s={s} t={t} dims={dims} />
  if (t?.kind === 'topic') return <TopicScreen s={s} t={t} dims={dims} />
  switch (s.tab) {
    case 'timeline':
      return <TimelineScreen s={s} dims={dims} />
    case 'people':
      return <PeopleScreen s={s} dims={dims} />
    case 'notifications':
      return <NotificationsScreen s={s} dims={dims} />
    case 'transfers':
      return <TransfersScreen s={s} dims={dims} />
    case 'identity':
      return <IdentityScreen s={s} dims={dims} />
  }
}

function PromptView({ s, width }: { s: UiState; width: number }) {
  const theme = useTheme()
  const p = s.prompt!
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={width} height={promptHeight(s)}>
      {p.multiline ? (
        <>
          <Text bold wrap="truncate-end">
            {p.title}
          </Text>
          <MultiFieldView f={p.field} focus rows={3} width={width - 4} />
        </>
      ) : (
        <>
          <Box>
            <Text bold>{`${p.title}: `}</Text>
            <FieldView f={p.field} focus width={width - p.title.length - 6} />
          </Box>
          {p.candidates?.length ? <Text color={theme.muted} wrap="truncate-end">{p.candidates.join('  ')}</Text> : null}
        </>
      )}
    </Box>
  )
}

/** The message of the moment, wrapped to at most two lines so that its advice is never cut. */
function messageLines(s: UiState, width: number): string[] {
  if (s.confirm) return [truncate(`${s.confirm.question} (y/n)`, width)]
  if (!s.message) return [' ']
  const text = s.message.kind === 'error' ? `✗ ${s.message.text}` : s.message.text
  const lines = wrap(text, width)
  return lines.length <= 2 ? lines : [lines[0]!, truncate(lines.slice(1).join(' '), width)]
}

function MessageLine({ s, lines }: { s: UiState; lines: string[] }) {
  const theme = useTheme()
  const color = s.confirm ? theme.warn : s.message?.kind === 'error' ? theme.error : theme.ok
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end" bold={s.confirm !== null} color={color}>
          {l}
        </Text>
      ))}
    </Box>
  )
}

function StatusBar({ s }: { s: UiState }) {
  const theme = useTheme()
  const st = s.status
  if (s.mode !== 'main') return <Text color={theme.muted}>offline</Text>
  const [net, colour] = netLine(st, theme)
  return (
    <Text wrap="truncate-end" inverse={!theme.color}>
      <Text color={colour}>{net}</Text>
      {st.recovering ? <Text color={theme.warn}> · restoring: posting off</Text> : null}
      <Text color={theme.muted}>{` · ${plural(st.peers, 'peer')} · feeds ${st.feedsReachable}/${st.feeds} · ↓ ${rate(st.down)} ↑ ${rate(st.up)}`}</Text>
      {st.bt?.port != null ? <Text color={theme.muted}>{` · BT port ${st.bt.port}`}</Text> : null}
      {st.bt?.encryptedOnly ? <Text color={theme.muted}> · encrypted only</Text> : null}
      <Text color={theme.muted}>{s.me ? ` · ${s.me.name ?? ''} ${s.me.fingerprint}` : ''}</Text>
    </Text>
  )
}

/**
 * Where the node is with the network, honestly: going online (in the background, what is saved
 * is shown meanwhile), offline when that failed, then whether the DHT answers and peers came.
 */
function netLine(st: UiState['status'], theme: Theme): [string, string | undefined] {
  if (st.net === 'going') return ['◌ going online…', theme.warn]
  if (st.net === 'offline' || !st.online) return ['○ offline', theme.error]
  if (st.dhtNodes === 0) return ['○ DHT not reachable', theme.warn]
  const dht = st.dhtNodes === null ? '' : ', DHT reachable'
  return st.peers ? [`● online${dht}`, theme.ok] : [`◌ online${dht}`, theme.warn]
}

/** The keys of the screen under the help, and those that hold everywhere: from the keymap. */
function Help({ s }: { s: UiState }) {
  const theme = useTheme()
  const column = Math.floor(Math.max(40, s.size.columns) / 2)
  return (
    <Box flexDirection="row">
      {helpOf(contextOf({ ...s, help: false })).map(([title, keys]) => (
        <Box key={title} flexDirection="column" width={column}>
          <Text bold color={theme.accent}>
            {title}
          </Text>
          {keys.map(([k, what]) => (
            <Text key={k} wrap="truncate-end">
              {`  ${k.padEnd(10)}`}
              <Text color={theme.muted}>{what}</Text>
            </Text>
          ))}
        </Box>
      ))}
    </Box>
  )
}
