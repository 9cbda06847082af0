import { useEffect, useSyncExternalStore } from 'react'
import { Box, Text, useInput, useStdin, useStdout } from 'ink'
import type { Controller } from './controller.js'
import { ADD_FETCH_KEY, handleKey } from './keys.js'
import { TAB_TITLES, TABS, top, type UiState } from './store.js'
import type { Theme } from './theme.js'
import { rate, plural, truncate, wrap } from './text.js'
import { ComposeView, IdentityScreen, NotificationsScreen, PeopleScreen, ProfileView, SetupScreen, ThreadView, TimelineScreen, TransferDetail, TransfersScreen, type Dims } from './screens.js'
import { FieldView, Keys, MultiFieldView, ThemeContext, useTheme } from './widgets.js'

/**
 * The whole terminal UI: a header with the tabs, the screen, then a message line, the status
 * bar and the keys of the moment. Everything it shows comes from the store; every key goes to
 * handleKey. Frames stay one row shorter than the terminal, so Ink never clears the screen.
 */
export function App({ controller, theme }: { controller: Controller; theme: Theme }) {
  const s = useSyncExternalStore(controller.store.subscribe, controller.store.get)
  const { isRawModeSupported } = useStdin()
  const { stdout } = useStdout()
  useInput((input, key) => handleKey(controller, input, key), { isActive: isRawModeSupported === true })
  useEffect(() => {
    const onResize = (): void => controller.store.update((x) => ({ ...x, size: { columns: stdout.columns || 80, rows: stdout.rows || 24 } }))
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
        <Keys keys={s.confirm ? [['y', 'yes'], ['n', 'no']] : footerKeys(s)} />
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
  const where = t?.kind === 'thread' ? ' › Thread' : t?.kind === 'profile' ? ' › Profile' : t?.kind === 'compose' ? ' › Compose' : t?.kind === 'transfer' ? ' › Transfer' : ''
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
  if (s.mode === 'starting' || s.mode === 'opening') return <Text color={theme.muted}>{s.mode === 'opening' ? 'Opening your node and going online…' : 'Starting…'}</Text>
  if (s.mode === 'closing') return <Text color={theme.muted}>Closing: saving and leaving the network…</Text>
  if (s.mode === 'failed') return <Text>Your node could not be opened (the reason is below). q quits.</Text>
  if (s.mode === 'setup') return <SetupScreen s={s} dims={dims} />
  const t = top(s)
  if (t?.kind === 'thread') return <ThreadView s={s} t={t} dims={dims} />
  if (t?.kind === 'profile') return <ProfileView s={s} p={t} dims={dims} />
  if (t?.kind === 'compose') return <ComposeView c={t} dims={dims} />
  if (t?.kind === 'transfer') return <TransferDetail s={s} t={t} dims={dims} />
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
  const hint = p.kind === 'reply' ? 'Enter sends (Ctrl-S once it has several lines) · Esc cancels' : p.multiline ? 'Ctrl-S saves · Esc cancels' : ''
  return (
    <Box flexDirection="column" borderStyle="round" borderColor={theme.accent} paddingX={1} width={width} height={promptHeight(s)}>
      {p.multiline ? (
        <>
          <Text bold wrap="truncate-end">
            {p.title}
            <Text color={theme.muted}>{`  ${hint}`}</Text>
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
  return (
    <Text wrap="truncate-end" inverse={!theme.color}>
      <Text color={st.online && st.peers ? theme.ok : theme.warn}>{st.online ? (st.peers ? '● online' : '◌ online, no peers') : '○ offline'}</Text>
      {st.recovering ? <Text color={theme.warn}> · restoring: posting off</Text> : null}
      <Text color={theme.muted}>{` · ${plural(st.peers, 'peer')} · feeds ${st.feedsReachable}/${st.feeds} · ↓ ${rate(st.down)} ↑ ${rate(st.up)}`}</Text>
      {st.bt?.port != null ? <Text color={theme.muted}>{` · BT port ${st.bt.port}`}</Text> : null}
      {st.bt?.encryptedOnly ? <Text color={theme.muted}> · encrypted only</Text> : null}
      <Text color={theme.muted}>{s.me ? ` · ${s.me.name ?? ''} ${s.me.fingerprint}` : ''}</Text>
    </Text>
  )
}

/** The keys of the moment, shown in the footer; help lists them all. */
export function footerKeys(s: UiState): Array<[string, string]> {
  if (s.mode === 'setup') {
    switch (s.setup.step) {
      case 'choose':
        return [['↑↓', 'choose'], ['Enter', 'go'], ['n/r/b', 'pick'], ['q', 'quit']]
      case 'create':
        return [['Tab', 'next field'], ['Enter', 'create'], ['Esc', 'back'], ['Ctrl-C', 'quit']]
      case 'phrase':
        return [['y', 'I wrote the words down'], ['Ctrl-C', 'quit']]
      default:
        return [['Tab', 'next field'], ['Enter', 'restore'], ['Esc', 'back'], ['Ctrl-C', 'quit']]
    }
  }
  if (s.mode === 'failed') return [['q', 'quit']]
  if (s.mode !== 'main') return [['Ctrl-C', 'quit']]
  if (s.prompt?.kind === 'add-fetch') return [['Enter', 'fetch'], ['Tab', 'complete path'], ['Esc', 'cancel']]
  if (s.prompt) return [['Enter', s.prompt.multiline ? 'send' : 'ok'], ['Esc', 'cancel']]
  if (s.help) return [['?/Esc', 'close help'], ['q', 'quit']]
  const t = top(s)
  if (t?.kind === 'compose') return [['Ctrl-S', 'post'], ['Tab', 'next field, complete path'], ['Enter', 'attach'], ['Esc', 'close, keep draft']]
  if (t?.kind === 'thread') return [['↑↓', 'move'], ['r/Enter', 'reply'], ['e', 'edit'], ['d', 'delete'], ['f', 'fetch'], ['p', 'profile'], ['Esc', 'back'], ['?', 'help']]
  if (t?.kind === 'profile') return [['↑↓', 'posts'], ['Enter', 'thread'], ['f', 'follow/unfollow'], ['b', 'block/unblock'], ['Esc', 'back'], ['?', 'help']]
  if (t?.kind === 'transfer') return [['↑↓', 'peers'], ['p', 'pause/resume'], ['x', 'cancel'], ['m', 'copy magnet'], ['t', '.torrent'], ['Esc', 'back'], ['?', 'help']]
  if (s.tab === 'identity' && s.identity.phrase !== null) return [['any key', 'hide the words']]
  if (s.tab === 'identity' && (s.identity.edit || s.identity.backup)) return [['Tab', 'next field'], ['Enter', 'save'], ['Esc', 'cancel']]
  switch (s.tab) {
    case 'timeline':
      return [['↑↓', 'move'], ['Enter', 'thread'], ['r', 'reply'], ['f', 'fetch'], ['p', 'profile'], ['c', 'compose'], ['?', 'help'], ['q', 'quit']]
    case 'people':
      return s.people.section === 'discover'
        ? [['↑↓', 'move'], ['f', 'follow/unfollow'], ['Enter', 'profile'], ['d', 'topic'], ['←→', 'following'], ['?', 'help']]
        : [['↑↓', 'move'], ['Enter', 'profile'], ['d', 'discover'], ['i', 'follow ID'], ['x', 'unfollow'], ['b', 'block'], ['?', 'help']]
    case 'notifications':
      return [['↑↓', 'move'], ['Enter', 'open thread'], ['1-5', 'tabs'], ['?', 'help'], ['q', 'quit']]
    case 'transfers':
      return [[ADD_FETCH_KEY, 'add magnet'], ['Enter', 'peers'], ['p', 'pause'], ['x', 'cancel'], ['m', 'copy magnet'], ['t', '.torrent'], ['?', 'help']]
    case 'identity':
      return [['e', 'edit profile'], ['b', 'export backup'], ['w', 'recovery words'], ...(s.status.recovering ? ([['n', 'never posted']] as Array<[string, string]>) : []), ['?', 'help'], ['q', 'quit']]
  }
}

const HELP: Array<Array<[string, Array<[string, string]>]>> = [
  [
    ['Everywhere', [['1-5 Tab', 'the five screens'], ['c', 'compose a post'], ['Esc', 'back, close'], ['?', 'this help'], ['q Ctrl-C', 'quit']]],
    ['Lists', [['↑↓ j k', 'move'], ['PgUp PgDn', 'a page'], ['g G', 'first, last'], ['Enter', 'open']]],
    ['Timeline, threads', [['r', 'reply'], ['e d', 'edit, delete your own'], ['f', "fetch a post's files"], ['p', "author's profile"], ['u', 'reload']]]
  ],
  [
    ['People', [['d', 'discover by topic'], ['i', 'follow by pasted ID'], ['f x b', 'follow, unfollow, block'], ['←→', 'following / discover']]],
    ['Transfers', [[ADD_FETCH_KEY, 'fetch magnet/hash/.torrent'], ['Enter', 'details: magnet, peers'], ['p x', 'pause / resume, cancel'], ['m t', 'copy magnet, export .torrent']]],
    ['Compose', [['Tab', 'next field, complete path'], ['Enter', 'new line / attach'], ['Ctrl-S', 'post'], ['Ctrl-X', 'drop last attachment']]],
    ['Identity', [['e b', 'edit profile, export backup'], ['w', 'show the recovery words']]]
  ]
]

function Help({ s }: { s: UiState }) {
  const theme = useTheme()
  const column = Math.floor(Math.max(40, s.size.columns) / 2)
  return (
    <Box flexDirection="row">
      {HELP.map((groups, i) => (
        <Box key={i} flexDirection="column" width={column}>
          {groups.map(([title, keys]) => (
            <Box key={title} flexDirection="column">
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
      ))}
    </Box>
  )
}
