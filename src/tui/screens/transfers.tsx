import { Box, Text } from 'ink'
import type { TransferView } from '../../transfer/transfers.js'
import type { TuiPeerInfo } from '../controller.js'
import type { AttachmentsState, TransferState, UiState } from '../store.js'
import { bar, bytes, clean, eta, plural, rate, truncate, wrap } from '../text.js'
import { attachmentLine, authorLabel, ScrollInfo, useTheme, useWindow, type Dims } from '../widgets.js'

/** The Transfers screen, one transfer's details, and the files attached to a post. */

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
function progress(item: TransferView, theme: ReturnType<typeof useTheme>): { fraction: number; colour: string | undefined; line2: string } {
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
export function TransferDetail({ s, t, dims }: { s: UiState; t: TransferState; dims: Dims }) {
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
// A post's attached files

/** The files of a post: the list, then the selected one's infohash and whole magnet, wrapped. */
export function AttachmentsScreen({ s, a, dims }: { s: UiState; a: AttachmentsState; dims: Dims }) {
  const theme = useTheme()
  const files = a.post.attachments
  const file = files[a.selected]
  const magnet = file ? a.magnets[file.infohash] : undefined
  const magnetLines = magnet ? wrap(magnet, dims.width - 2) : []
  const fixed = 5 + Math.max(1, magnetLines.length)
  const { start, end } = useWindow(a.selected, files.length, () => 1, Math.max(1, dims.rows - fixed))
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between" height={1}>
        <Text wrap="truncate-end" color={theme.muted}>{`${plural(files.length, 'file')} attached to the post of ${authorLabel(a.post)}`}</Text>
        <ScrollInfo start={start} end={end} count={files.length} />
      </Box>
      {files.slice(start, end).map((f, k) => {
        const sel = start + k === a.selected
        return (
          <Text key={f.infohash} wrap="truncate-end" bold={sel}>
            <Text color={sel ? theme.selection : theme.muted} inverse={sel && !theme.color}>{sel ? '› ' : '  '}</Text>
            <Text color={theme.file}>{attachmentLine(f, s.availability)}</Text>
          </Text>
        )
      })}
      <Text wrap="truncate-end" color={theme.muted}>{file ? `infohash ${file.infohash}` : ''}</Text>
      <Text bold>Magnet</Text>
      {magnetLines.length ? (
        magnetLines.map((l, i) => (
          <Text key={i} color={theme.file}>{`  ${l}`}</Text>
        ))
      ) : (
        <Text color={theme.muted}>  …</Text>
      )}
      <Text wrap="truncate-end" color={theme.muted}>{`f fetches the post's files into ${clean(s.downloads)}`}</Text>
    </Box>
  )
}
