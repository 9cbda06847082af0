import { Box, Text } from 'ink'
import type { TransferView as Transfer } from '../transfer/transfers.js'
import type { TuiPeerInfo } from './controller.js'
import type { ComposeScreen, ProfileScreen, ThreadScreen, TransferScreen, UiState } from './store.js'
import { threadRows } from './store.js'
import { age, bar, bytes, clean, eta, oneLine, plural, rate, truncate, wrap } from './text.js'
import { attachmentLine, authorLabel, FieldView, MultiFieldView, PostRow, postRows, ScrollInfo, useTheme, useWindow } from './widgets.js'

export interface Dims {
  width: number
  rows: number
}

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

export function ThreadView({ s, t, dims }: { s: UiState; t: ThreadScreen; dims: Dims }) {
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
            {(r.post?.attachments ?? []).map((a) => (
              <Text key={a.infohash} wrap="truncate-end" color={theme.file}>{`  ${indent}${attachmentLine(a, s.availability)}`}</Text>
            ))}
          </Box>
        )
      })}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// Profile

export function ProfileView({ s, p, dims }: { s: UiState; p: ProfileScreen; dims: Dims }) {
  const theme = useTheme()
  const header = 6
  const { start, end } = useWindow(p.selected, p.posts.length, (i) => postRows(p.posts[i]!), Math.max(3, dims.rows - header - 1))
  const pr = p.profile
  const mine = p.id === s.me?.id
  const relation = mine ? 'this is you' : p.blocked ? 'blocked' : p.following ? 'following' : 'not following'
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold color={theme.author}>{pr?.name ? oneLine(pr.name, 40) : '(no name)'}</Text>
        <Text color={theme.muted}>{` ${pr?.fingerprint ?? ''} · ${relation}`}</Text>
      </Text>
      <Text wrap="truncate-end" color={theme.muted}>{`ID ${p.id}`}</Text>
      <Text wrap="truncate-end">{pr?.bio ? oneLine(pr.bio, dims.width) : p.loading ? 'Loading…' : '(no bio)'}</Text>
      <Text wrap="truncate-end" color={theme.muted}>
        {`Follows: ${p.follows.length ? p.follows.map((f) => (f.name ? oneLine(f.name, 20) : f.fingerprint)).join(', ') : p.loading ? '…' : 'nobody yet'}`}
      </Text>
      <Box justifyContent="space-between" height={1}>
        <Text bold>{`Posts and comments${p.loading ? ' (loading…)' : ''}`}</Text>
        <ScrollInfo start={start} end={end} count={p.posts.length} />
      </Box>
      {p.posts.length === 0 && !p.loading ? <Text color={theme.muted}>Nothing here yet (or their feed is not reachable now).</Text> : null}
      {p.posts.slice(start, end).map((post, i) => (
        <PostRow key={post.ref} post={post} selected={start + i === p.selected} width={dims.width} now={s.now} availability={s.availability} />
      ))}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// People

export function PeopleScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const p = s.people
  const discover = p.section === 'discover'
  const list = discover ? p.found : p.following
  const selected = discover ? p.foundSelected : p.selected
  const per = discover ? 2 : 1
  const { start, end } = useWindow(selected, list.length, () => per, dims.rows - 2)
  return (
    <Box flexDirection="column">
      <Box height={1}>
        <Text inverse={!discover} bold={!discover} color={!discover ? theme.accent : theme.muted}>{` Following (${p.following.length}) `}</Text>
        <Text> </Text>
        <Text inverse={discover} bold={discover} color={discover ? theme.accent : theme.muted}>
          {` Discover${p.topic ? `: #${p.topic} (${p.found.length} found)` : ''} `}
        </Text>
        <Text> </Text>
        <ScrollInfo start={start} end={end} count={list.length} />
      </Box>
      {discover && p.topic === null ? <Text color={theme.muted}>Press d and type an interest topic, like vintage-manuals.</Text> : null}
      {discover && p.topic !== null && p.found.length === 0 ? <Text color={theme.muted}>{`Looking for people on #${p.topic}… they appear here as they are found.`}</Text> : null}
      {!discover && p.following.length === 0 ? (
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
        : p.following.slice(start, end).map((person, k) => {
            const sel = start + k === selected
            return (
              <Text key={person.id} wrap="truncate-end" bold={sel}>
                <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
                <Text color={theme.author}>{`${person.name ? oneLine(person.name, 30) : '(no name yet)'} (${person.fingerprint})`}</Text>
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
  if (n.items.length === 0) return <Text color={theme.muted}>No notifications yet: comments on your posts and mentions of you appear here.</Text>
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text color={theme.muted}>Comments on your posts and mentions of you</Text>
        <ScrollInfo start={start} end={end} count={n.items.length} />
      </Box>
      {n.items.slice(start, end).map((item, k) => {
        const sel = start + k === n.selected
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

// ---------------------------------------------------------------------------------------------
// Transfers

export function TransfersScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const t = s.transfers
  const { start, end } = useWindow(t.selected, t.items.length, () => 3, dims.rows - 1)
  if (t.items.length === 0) {
    return <Text color={theme.muted}>Nothing shared or fetched yet: a fetches a magnet, an infohash or a .torrent; f on a post with files fetches them; c, then an attachment, shares one.</Text>
  }
  const barWidth = Math.max(10, Math.min(30, dims.width - 50))
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text color={theme.muted}>Downloads and seeding</Text>
        <ScrollInfo start={start} end={end} count={t.items.length} />
      </Box>
      {t.items.slice(start, end).map((item, k) => {
        const sel = start + k === t.selected
        const { fraction, colour, line2 } = progress(item, theme)
        return (
          <Box key={item.infohash} flexDirection="column" height={3}>
            <Text wrap="truncate-end" bold={sel}>
              <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
              <Text>{`${clean(item.name)} `}</Text>
              <Text color={theme.muted}>{`${item.role} · ${bytes(item.size)}`}</Text>
            </Text>
            <Text wrap="truncate-end">
              {'  '}
              <Text color={colour}>{bar(fraction, barWidth)}</Text>
              <Text>{` ${Math.floor(fraction * 100)}% `}</Text>
              <Text color={theme.muted}>{line2}</Text>
            </Text>
            <Text wrap="truncate-end" color={item.reason ? theme.error : theme.muted}>{`  ${clean(item.reason ?? (item.path ? `→ ${item.path}` : ''))}`}</Text>
          </Box>
        )
      })}
    </Box>
  )
}

/** A transfer's progress: the fraction, its colour and the line beside the bar. */
function progress(item: Transfer, theme: ReturnType<typeof useTheme>): { fraction: number; colour: string | undefined; line2: string } {
  const fraction = item.size ? item.have / item.size : 1
  const done = item.have >= item.size
  const colour = item.status === 'stopped' ? theme.error : item.status === 'paused' ? theme.warn : done ? theme.ok : theme.accent
  const line2 = item.status === 'metadata'
    ? `getting the file list from peers · ${plural(item.peers, 'peer')}`
    : done
    ? `${item.status === 'paused' ? 'paused' : item.status === 'stopped' ? 'stopped' : 'seeding'} · ${plural(item.peers, 'peer')} · ↑ ${rate(item.uploadRate)} · ${bytes(item.uploaded)} sent`
    : `${item.status === 'paused' ? 'paused' : `↓ ${rate(item.downloadRate)}`} · ${plural(item.peers, 'peer')} · ${bytes(item.have)} of ${bytes(item.size)} · ETA ${eta(item.size - item.have, item.downloadRate)}`
  return { fraction, colour, line2 }
}

/** Fields the BitTorrent engine adds to a transfer's view: read only when there. */
interface TransferExtra {
  infohashV1?: string | null
  infohashV2?: string | null
  sources?: { peers: number; webSeeds: number }
}

const KIND_LABEL: Record<NonNullable<TuiPeerInfo['kind']>, string> = { bittorrent: 'BitTorrent', chrysalis: 'Chrysalis', webseed: 'web seed' }

/** A peer's kind as the user reads it: a classic BitTorrent client, a Chrysalis peer or a web seed. */
export function peerKind(p: TuiPeerInfo): string {
  return (p.kind && KIND_LABEL[p.kind]) ?? 'peer'
}

/** Peers by kind, for the title of the list: "2 BitTorrent · 1 Chrysalis · 1 web seed". */
export function peerSummary(peers: TuiPeerInfo[]): string {
  if (peers.length === 0) return 'no peers connected'
  const counts = new Map<string, number>()
  for (const p of peers) counts.set(peerKind(p), (counts.get(peerKind(p)) ?? 0) + 1)
  return [...counts].map(([k, n]) => `${n} ${k === 'peer' ? (n === 1 ? 'peer' : 'peers') : k === 'web seed' && n > 1 ? 'web seeds' : k}`).join(' · ')
}

/** One transfer: progress, where it goes, its infohashes, the whole magnet, and every peer by kind. */
export function TransferDetail({ s, t, dims }: { s: UiState; t: TransferScreen; dims: Dims }) {
  const theme = useTheme()
  const item = s.transfers.items.find((x) => x.infohash === t.infohash)
  const w = dims.width
  const magnetLines = t.magnet ? wrap(t.magnet, w - 2) : []
  const extra = (item ?? {}) as TransferExtra
  const hashes: string[] = []
  if (typeof extra.infohashV1 === 'string') hashes.push(`v1 infohash ${extra.infohashV1}`)
  if (typeof extra.infohashV2 === 'string') hashes.push(`v2 infohash ${extra.infohashV2}`)
  if (hashes.length === 0) hashes.push(`infohash ${t.infohash}`)
  const fixed = 3 + hashes.length + 1 + Math.max(1, magnetLines.length) + 2
  const { start, end } = useWindow(t.selected, t.peers.length, () => 1, Math.max(1, dims.rows - fixed))
  if (!item) return <Text color={theme.muted}>This transfer is no longer here (Esc goes back).</Text>
  const { fraction, colour, line2 } = progress(item, theme)
  const barWidth = Math.max(10, Math.min(30, w - 50))
  const sources = extra.sources && typeof extra.sources.peers === 'number' && typeof extra.sources.webSeeds === 'number'
    ? ` · received from peers ${bytes(extra.sources.peers)}, web seeds ${bytes(extra.sources.webSeeds)}`
    : ''
  const col = (text: string, n: number): string => truncate(text, n - 1).padEnd(n)
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>{`${clean(item.name)} `}</Text>
        <Text color={theme.muted}>{`${item.role} · ${bytes(item.size)} · ${item.status}`}</Text>
      </Text>
      <Text wrap="truncate-end">
        <Text color={colour}>{bar(fraction, barWidth)}</Text>
        <Text>{` ${Math.floor(fraction * 100)}% `}</Text>
        <Text color={theme.muted}>{line2}</Text>
      </Text>
      <Text wrap="truncate-end" color={item.reason ? theme.error : theme.muted}>{clean(item.reason ?? (item.path ? `→ ${item.path}${sources}` : sources.slice(3)))}</Text>
      {hashes.map((h) => (
        <Text key={h} wrap="truncate-end" color={theme.muted}>{h}</Text>
      ))}
      <Text bold>Magnet</Text>
      {magnetLines.length ? (
        magnetLines.map((l, i) => (
          <Text key={i} color={theme.file}>{`  ${l}`}</Text>
        ))
      ) : (
        <Text color={theme.muted}>  (known once the file list has arrived from a peer)</Text>
      )}
      <Box justifyContent="space-between" height={1}>
        <Text bold>{`Peers: ${peerSummary(t.peers)}`}</Text>
        <ScrollInfo start={start} end={end} count={t.peers.length} />
      </Box>
      {t.peers.length ? (
        <Text color={theme.muted} wrap="truncate-end">{`  ${col('kind', 11)}${col('transport', 11)}${col('client', 19)}${'down'.padEnd(11)}${'up'.padEnd(11)}address`}</Text>
      ) : null}
      {t.peers.slice(start, end).map((p, k) => {
        const sel = start + k === t.selected
        const client = p.client ? clean(p.client) : '—'
        const where = p.address ? clean(p.address) : p.id.slice(0, 12)
        return (
          <Text key={p.id} wrap="truncate-end" bold={sel}>
            <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
            <Text color={p.kind === 'bittorrent' ? theme.accent : p.kind === 'chrysalis' ? theme.ok : theme.file}>{col(peerKind(p), 11)}</Text>
            <Text>{col(p.transport ?? '—', 11)}{col(client, 19)}{`↓ ${bytes(p.downloaded)}`.padEnd(11)}{`↑ ${bytes(p.uploaded)}`.padEnd(11)}</Text>
            <Text color={theme.muted}>{where}</Text>
          </Text>
        )
      })}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// Identity

/** The recovery phrase in four numbered columns, read down (as `chrysalis init` prints it). */
function PhraseBox({ phrase }: { phrase: string }) {
  const words = phrase.split(' ')
  const rows = [0, 1, 2, 3, 4, 5].map((r) => [0, 6, 12, 18].map((c) => `${String(r + c + 1).padStart(2)}. ${(words[r + c] ?? '').padEnd(9)}`).join('  '))
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>Recovery phrase</Text>
      <Text>Anyone who sees these words can become you. Write them down; any key hides them.</Text>
      {rows.map((row, i) => (
        <Text key={i}>{row}</Text>
      ))}
    </Box>
  )
}

export function IdentityScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const me = s.me
  const { edit, backup } = s.identity
  const w = dims.width - 14
  return (
    <Box flexDirection="column">
      <Text bold>Your identity</Text>
      <Text wrap="truncate-end">{`  Name         ${me?.name ? oneLine(me.name, w) : '(no name)'}`}</Text>
      <Text wrap="truncate-end">{`  Fingerprint  ${me?.fingerprint ?? ''}`}</Text>
      <Text wrap="truncate-end">{`  ID           ${me?.id ?? ''}`}</Text>
      <Text wrap="truncate-end">{`  Bio          ${me?.bio ? oneLine(me.bio, w) : '(none)'}`}</Text>
      {s.status.recovering ? (
        <Text color={theme.warn} wrap="truncate-end">
          {'  Restored: posting is off until your feed is found on a peer. n: this identity never posted.'}
        </Text>
      ) : null}
      <Text color={theme.muted} wrap="truncate-end">{'  Share your ID so others can follow you (select it with the mouse to copy).'}</Text>
      <Text> </Text>
      {s.identity.phrase !== null ? <PhraseBox phrase={s.identity.phrase} /> : null}
      {edit ? (
        <Box flexDirection="column" borderStyle="round" paddingX={1}>
          <Text bold>Edit profile</Text>
          <Box>
            <Text>{'Name  '}</Text>
            <FieldView f={edit.name} focus={edit.focus === 0} width={w - 4} />
          </Box>
          <Box>
            <Text>{'Bio   '}</Text>
            <FieldView f={edit.bio} focus={edit.focus === 1} width={w - 4} placeholder="what you collect, what you are looking for" />
          </Box>
        </Box>
      ) : null}
      {backup ? (
        <Box flexDirection="column" borderStyle="round" paddingX={1}>
          <Text bold>Export an encrypted backup</Text>
          <Box>
            <Text>{'File        '}</Text>
            <FieldView f={backup.file} focus={backup.focus === 0} width={w - 10} />
          </Box>
          <Box>
            <Text>{'Passphrase  '}</Text>
            <FieldView f={backup.passphrase} focus={backup.focus === 1} mask width={w - 10} />
          </Box>
          <Box>
            <Text>{'Again       '}</Text>
            <FieldView f={backup.again} focus={backup.focus === 2} mask width={w - 10} />
          </Box>
          <Text color={theme.muted}>Anyone with the file and the passphrase is you: keep them apart.</Text>
        </Box>
      ) : null}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// Compose

export function ComposeView({ c, dims }: { c: ComposeScreen; dims: Dims }) {
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

// ---------------------------------------------------------------------------------------------
// First run

const CHOICES = [
  ['n', 'Create a new identity', 'a pseudonym and a keypair made on this computer'],
  ['r', 'Restore from the recovery phrase', 'the 24 words shown when the identity was made'],
  ['b', 'Restore from an encrypted backup file', 'made with Identity → b, or `chrysalis identity export`']
] as const

export function SetupScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const st = s.setup
  const w = dims.width - 16
  switch (st.step) {
    case 'choose':
      return (
        <Box flexDirection="column">
          <Text bold>Welcome to Chrysalis.</Text>
          <Text>Share the files you care about with the people who care about them; no server decides what stays up.</Text>
          <Text> </Text>
          {CHOICES.map(([k, title, what], i) => (
            <Text key={k} wrap="truncate-end" bold={st.selected === i}>
              <Text color={st.selected === i ? theme.selection : theme.muted} inverse={st.selected === i && !theme.color}>{st.selected === i ? '› ' : '  '}</Text>
              <Text color={theme.accent}>{`${k}  `}</Text>
              {title}
              <Text color={theme.muted}>{` — ${what}`}</Text>
            </Text>
          ))}
        </Box>
      )
    case 'create':
      return (
        <Box flexDirection="column">
          <Text bold>Create your identity</Text>
          <Text color={theme.muted}>A pseudonym is fine; your name and bio are public and can be changed later.</Text>
          <Text> </Text>
          <Box>
            <Text bold={st.focus === 0}>{'Name  '}</Text>
            <FieldView f={st.name} focus={st.focus === 0} width={w} placeholder="e.g. Kaypro Fan" />
          </Box>
          <Box>
            <Text bold={st.focus === 1}>{'Bio   '}</Text>
            <FieldView f={st.bio} focus={st.focus === 1} width={w} placeholder="optional: what you collect" />
          </Box>
          {st.busy ? <Text color={theme.muted}>Creating…</Text> : null}
        </Box>
      )
    case 'phrase': {
      const words = st.phrase.split(' ')
      const rows: string[] = []
      for (let i = 0; i < 6; i++) {
        rows.push([0, 6, 12, 18].map((c) => `${String(i + c + 1).padStart(2)}. ${(words[i + c] ?? '').padEnd(9)}`).join('  '))
      }
      return (
        <Box flexDirection="column">
          <Text bold>{`Your identity is ${st.fingerprint}.`}</Text>
          <Text>Recovery phrase: write these 24 words down, in order, and keep them safe.</Text>
          <Text>They are shown only now; with them you can restore this identity anywhere.</Text>
          <Text> </Text>
          {rows.map((r) => (
            <Text key={r} bold>{`  ${r}`}</Text>
          ))}
          <Text> </Text>
          <Text color={theme.warn}>Press y once you have written them down.</Text>
        </Box>
      )
    }
    case 'restore-phrase':
      return (
        <Box flexDirection="column">
          <Text bold>Restore from the recovery phrase</Text>
          <Text color={theme.muted}>Type or paste the 24 words, separated by spaces.</Text>
          <Text> </Text>
          <FieldView f={st.phrase} focus width={dims.width - 2} placeholder="word1 word2 … word24" />
          {st.busy ? <Text color={theme.muted}>Restoring…</Text> : null}
        </Box>
      )
    case 'restore-backup':
      return (
        <Box flexDirection="column">
          <Text bold>Restore from an encrypted backup</Text>
          <Text> </Text>
          <Box>
            <Text bold={st.focus === 0}>{'File        '}</Text>
            <FieldView f={st.file} focus={st.focus === 0} width={w - 6} placeholder="path of the backup file" />
          </Box>
          <Box>
            <Text bold={st.focus === 1}>{'Passphrase  '}</Text>
            <FieldView f={st.passphrase} focus={st.focus === 1} mask width={w - 6} />
          </Box>
          {st.busy ? <Text color={theme.muted}>Decrypting (this takes a few seconds on purpose)…</Text> : null}
        </Box>
      )
  }
}
