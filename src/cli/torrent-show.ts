import { displayLine, displayText } from '../display.js'
import { magnetOf, readMagnet } from '../transfer/magnet.js'
import { readTorrentFile } from '../node/files.js'
import type { Metainfo, TorrentExtras } from '../transfer/metainfo.js'
import type { Command } from './commands.js'
import { formatBytes } from './format.js'

/**
 * `chrysalis torrent show FILE.torrent|MAGNET`: what a torrent or magnet says, as transmission-show
 * prints it; nothing is fetched and no node is opened. Every string in it comes from whoever made
 * the torrent, so the human output passes through displayLine/displayText.
 */
export interface TorrentShow {
  source: 'torrent' | 'magnet'
  kind: 'v1' | 'v2' | 'hybrid'
  name: string | null
  /** The key Chrysalis uses: the v2 hash where there is one, else the v1 hash. */
  infohash: string
  infohashV1: string | null
  infohashV2: string | null
  magnet: string | null
  pieceLength: number | null
  pieces: number | null
  size: number | null
  /** Files (pad files left out); null for a magnet, whose file list comes with the metadata. */
  files: Array<{ path: string; size: number; symlink?: string }> | null
  trackers: string[]
  webSeeds: string[]
  /** Magnet x.pe addresses. */
  peers: string[]
  comment: string | null
  createdBy: string | null
  /** ISO 8601, UTC. */
  creationDate: string | null
}

export const TORRENT_SHOW: Command = {
  usage: 'torrent show FILE.torrent|MAGNET',
  summary: 'print what a .torrent or magnet holds (v1, v2 or hybrid): name, infohashes, files, trackers, web seeds',
  args: [1, 1],
  async run(ctx) {
    const arg = ctx.args[0]!
    const view = /^magnet:/i.test(arg) ? fromMagnet(arg) : await fromFile(ctx.resolvePath(arg))
    ctx.print(formatShow(view), view)
  }
}

async function fromFile(file: string): Promise<TorrentShow> {
  const read = await readTorrentFile(file, { forms: 'the path of a .torrent file, or a magnet link' })
  return torrentView(read.meta, read.extras)
}

export function torrentView(meta: Metainfo, extras: TorrentExtras): TorrentShow {
  return {
    source: 'torrent',
    kind: meta.version,
    name: meta.name,
    infohash: meta.infohash.toString('hex'),
    infohashV1: meta.infohashV1?.toString('hex') ?? null,
    infohashV2: meta.infohashV2?.toString('hex') ?? null,
    magnet: magnetOf(meta, { trackers: extras.trackers, webSeeds: extras.webSeeds }),
    pieceLength: meta.pieceLength,
    pieces: meta.pieceCount,
    size: meta.totalLength,
    files: meta.files.map((f) => ({ path: (meta.multi ? [meta.name, ...f.path] : f.path).join('/'), size: f.length, ...(f.symlink ? { symlink: f.symlink.join('/') } : {}) })),
    trackers: extras.trackers,
    webSeeds: extras.webSeeds,
    peers: [],
    comment: extras.comment,
    createdBy: extras.createdBy,
    creationDate: extras.creationDate !== null && extras.creationDate < 253402300800 ? new Date(extras.creationDate * 1000).toISOString() : null
  }
}

function fromMagnet(link: string): TorrentShow {
  const m = readMagnet(link)
  return {
    source: 'magnet',
    kind: m.infohashV1 && m.infohashV2 ? 'hybrid' : m.infohashV2 ? 'v2' : 'v1',
    name: m.name,
    infohash: (m.infohashV2 ?? m.infohashV1)!.toString('hex'),
    infohashV1: m.infohashV1?.toString('hex') ?? null,
    infohashV2: m.infohashV2?.toString('hex') ?? null,
    magnet: link,
    pieceLength: null,
    pieces: null,
    size: m.length,
    files: null,
    trackers: m.trackers,
    webSeeds: m.webSeeds,
    peers: m.peers.map((p) => (p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`)),
    comment: null,
    createdBy: null,
    creationDate: null
  }
}

const KIND = { v1: 'BitTorrent v1', v2: 'BitTorrent v2', hybrid: 'hybrid (BitTorrent v1 and v2)' } as const

export function formatShow(v: TorrentShow): string {
  const out: string[] = []
  const row = (label: string, value: string): number => out.push(`${`${label}:`.padEnd(14)}${value}`)
  row('Name', v.name === null ? '(not given; it comes with the metadata)' : displayLine(v.name))
  row('Kind', KIND[v.kind] + (v.source === 'magnet' ? ', from a magnet' : ''))
  if (v.infohashV2) row('Infohash v2', v.infohashV2)
  if (v.infohashV1) row('Infohash v1', v.infohashV1)
  if (v.size !== null) row('Total size', `${formatBytes(v.size)} (${v.size} bytes)${v.files ? ` in ${v.files.length} file${v.files.length === 1 ? '' : 's'}` : ''}`)
  if (v.pieceLength !== null) row('Piece size', `${formatBytes(v.pieceLength)} · ${v.pieces} pieces`)
  if (v.createdBy) row('Created by', displayLine(v.createdBy))
  if (v.creationDate) row('Created on', v.creationDate.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))
  if (v.comment) out.push(`Comment:      ${displayText(v.comment).split('\n').join('\n              ')}`)
  if (v.magnet && v.source === 'torrent') row('Magnet', displayLine(v.magnet))
  const list = (title: string, items: string[]): void => {
    if (items.length === 0) return
    out.push('', `${title}:`, ...items.map((i) => `  ${displayLine(i)}`))
  }
  list('Trackers', v.trackers)
  list('Web seeds', v.webSeeds)
  list('Peers', v.peers)
  if (v.files) out.push('', 'Files:', ...fileTree(v.files))
  return out.join('\n')
}

/** Folders as a tree (each once, in order of first appearance), files with their sizes. */
function fileTree(files: Array<{ path: string; size: number; symlink?: string }>): string[] {
  const lines: string[] = []
  const shown = new Set<string>()
  for (const f of files) {
    const parts = f.path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/')
      if (shown.has(dir)) continue
      shown.add(dir)
      lines.push(`${'  '.repeat(i)}${displayLine(parts[i - 1]!)}/`)
    }
    const leaf = displayLine(parts[parts.length - 1]!)
    lines.push(`${'  '.repeat(parts.length)}${leaf}${f.symlink !== undefined ? ` → ${displayLine(f.symlink)}` : ` (${formatBytes(f.size)})`}`)
  }
  return lines
}
