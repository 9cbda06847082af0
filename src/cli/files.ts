import { displayLine } from '../display.js'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import type { ChrysalisNode } from '../node/node.js'
import { parseFetchTarget, readTorrentFile } from '../node/files.js'
import { parseInfohash } from '../node/infohash.js'
import type { NodeStatus } from '../node/node.js'
import { parsePeerAddress } from '../transfer/magnet.js'
import type { TransferView } from '../transfer/transfers.js'
import { type Command, type Context, hybridOf, list, seconds, str, usage } from './commands.js'
import { formatBytes } from './format.js'
import { TORRENT_SHOW } from './torrent-show.js'

/** Commands for files: share, fetch, the torrents a node holds. */
export const FILE_COMMANDS: Record<string, Command> = {
  share: {
    usage: 'share PATH [--v2-only]',
    summary: 'hash a file or directory into a hybrid BitTorrent torrent (v1 + v2; --v2-only: v2), publish it in your feed, seed it from where it is',
    // --hybrid: the default now, still accepted.
    options: { 'v2-only': { type: 'boolean', help: 'a BitTorrent v2 torrent, not a hybrid (v1 + v2) one' }, hybrid: { type: 'boolean', help: 'a hybrid torrent (the default)' } },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const target = ctx.resolvePath(ctx.args[0]!)
      const hybrid = hybridOf(ctx)
      const { trackers } = await ctx.config()
      const started = Date.now()
      const shared = await ctx.withNode((node) =>
        node.files.share(target, {
          hybrid,
          ...(trackers ? { trackers } : {}),
          onProgress: (done, total) => ctx.progress(`hashing ${path.basename(target)}: ${formatBytes(done)} of ${formatBytes(total)} (${Math.floor((100 * done) / total)}%) ${rate(done, started)}`)
        })
      )
      ctx.print(
        [
          `Shared ${displayLine(shared.name)} (${formatBytes(shared.size)}, ${shared.files} file(s), ${formatBytes(shared.pieceLength)} pieces).`,
          `  infohash: ${shared.infohash}`,
          ...(shared.infohashV1 ? [`  v1:       ${shared.infohashV1}`] : []),
          `  magnet:   ${shared.magnet}`,
          'It is seeded whenever your node is online (`chrysalis serve`).'
        ].join('\n'),
        shared
      )
    }
  },

  fetch: {
    usage: 'fetch REF|MAGNET|FILE.torrent|INFOHASH [--out DIR] [--file PATH]... [--peer HOST:PORT]... [--timeout S]',
    summary: "download a post's attachments or a torrent (v1, v2 or hybrid) from every peer and web seed that has them, verified; then seed them",
    options: {
      out: { type: 'string', help: 'the folder to download into (default: the current one)' },
      file: { type: 'string', multiple: true, help: 'only this file or folder of the torrent' },
      peer: { type: 'string', multiple: true, help: 'a peer to try beside those the swarm finds' },
      timeout: { type: 'string', help: 'give up after this many seconds (from 0.1 to 3600; what arrived is kept)' }
    },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const out = ctx.resolvePath(str(ctx, 'out') ?? '.')
      const files = list(ctx, 'file')
      const timeoutMs = ctx.values.timeout === undefined ? null : seconds(ctx, 'timeout', 0)
      const peers = list(ctx, 'peer').map((p) => {
        const peer = parsePeerAddress(p)
        if (!peer) throw usage(`--peer takes HOST:PORT (an IPv4 address or name, or [IPv6]), e.g. 192.168.1.10:6881, not "${p.slice(0, 60)}"`)
        return peer
      })
      // A malformed argument or an unreadable .torrent fails before going online.
      const arg = parseFetchTarget(ctx.args[0]!, (p) => ctx.resolvePath(p))
      if (arg.kind === 'file') await readTorrentFile(arg.file)
      const results = await ctx.withNode(async (node) => {
        const progress = showProgress(ctx, node)
        try {
          progress.phase('going online…')
          await ctx.online(node, timeoutMs === null ? {} : { waitMs: timeoutMs / 2 })
          // After going online: a post may have to come from peers.
          if (arg.kind === 'ref') progress.phase(`looking for post ${ctx.args[0]!} here and from peers…`)
          const targets = await node.files.resolve(ctx.args[0]!, { peers, resolvePath: (p) => ctx.resolvePath(p) })
          const done: Fetched[] = []
          for (const t of targets) {
            const started = Date.now()
            progress.watch(t)
            const fetching = node.files.fetch(t, { out, ...(files.length ? { files } : {}) })
            const view = timeoutMs === null ? await fetching : await withTimeout(fetching, timeoutMs, node, t.infohash)
            done.push(fetchedView(view, (Date.now() - started) / 1000))
          }
          return done
        } finally {
          progress.stop()
        }
      })
      ctx.print(
        results
          .map((r) => `Fetched ${displayLine(r.name)} (${formatBytes(r.bytes)}) in ${r.seconds.toFixed(1)} s → ${r.path ?? out}\n  infohash: ${r.infohash} · seeded while your node is online`)
          .join('\n'),
        { fetched: results }
      )
    }
  },

  status: {
    usage: 'status',
    summary: "the node's state: online, peers, followed feeds reachable, the BitTorrent port, encrypted-only, the mainline DHT",
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      // Through a running `serve` this is that node's live state; otherwise what going online would use.
      const status: StatusView = await ctx.withNode(async (node) => {
        const s = node.status()
        if (s.online) return s
        const bt = await ctx.bt()
        const encryptedOnly = bt.encryptedOnly === true
        const dht = bt.dht ?? { enabled: false }
        return {
          ...s,
          bt: { port: null, encryptedOnly, dht: { enabled: dht.enabled, nodes: 0 } },
          configured: {
            btPort: encryptedOnly ? null : (bt.port ?? DEFAULT_BT_PORT),
            dhtBootstrap: dht.enabled ? (dht.publicRouters ? 'public' : dht.bootstrap.map((n) => `${n.host}:${n.port}`)) : null,
            trackers: bt.trackers ?? []
          }
        }
      })
      ctx.print(formatStatus(status), status)
    }
  },

  seeding: {
    usage: 'seeding',
    summary: 'list the torrents this node seeds, with their state and peers',
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const rows = await ctx.withNode((node) => Promise.resolve(node.files.list().filter((t) => t.status === 'seeding' || t.role === 'shared')))
      ctx.print(rows.length ? rows.map(formatTransfer).join('\n') : 'Nothing is seeded yet: `chrysalis share PATH` or `chrysalis fetch REF`.', { seeding: rows })
    }
  },

  downloads: {
    usage: 'downloads',
    summary: 'list fetched torrents, with state, progress and peers',
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const rows = await ctx.withNode((node) => Promise.resolve(node.files.list().filter((t) => t.role === 'fetched')))
      ctx.print(rows.length ? rows.map(formatTransfer).join('\n') : 'No downloads yet: `chrysalis fetch REF`.', { downloads: rows })
    }
  },

  'torrent show': TORRENT_SHOW,

  'torrent export': {
    usage: 'torrent export INFOHASH --out FILE.torrent [--force]',
    summary: 'write a standard .torrent (v2 or hybrid, piece layers included) for a torrent this node knows',
    options: { out: { type: 'string', help: 'the .torrent file to write' }, force: { type: 'boolean', help: 'replace the file if it exists' } },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const outArg = str(ctx, 'out')
      if (outArg === undefined) throw usage('torrent export needs a file: chrysalis torrent export INFOHASH --out FILE.torrent')
      const target = ctx.resolvePath(outArg)
      const infohash = parseInfohash(ctx.args[0]!)
      await ctx.withNode((node) => node.files.exportTorrent(infohash, target, { force: ctx.values.force === true }))
      const bytes = (await fs.stat(target)).size
      ctx.print(`Wrote ${target} (${formatBytes(bytes)}).`, { file: target, infohash: infohash.toString('hex'), bytes })
    }
  },

  pause: transferCommand('pause'),
  resume: transferCommand('resume'),
  cancel: transferCommand('cancel')
}

/** pause, resume and cancel: one torrent by either infohash. */
function transferCommand(verb: 'pause' | 'resume' | 'cancel'): Command {
  return {
    usage: `${verb} INFOHASH`,
    summary:
      verb === 'pause' ? 'stop fetching or seeding a torrent until resumed'
      : verb === 'resume' ? 'fetch or seed a paused torrent again (when the node is online)'
      : 'forget a torrent: a partial download is deleted, complete files are kept',
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const infohash = parseInfohash(ctx.args[0]!)
      const view = await ctx.withNode(async (node) => {
        if (verb === 'cancel') return node.files.remove(infohash).then(() => null)
        return verb === 'pause' ? node.files.pause(infohash) : node.files.resume(infohash)
      })
      ctx.print(view ? formatTransfer(view) : `Forgot ${infohash.toString('hex')}.`, view ?? { cancelled: infohash.toString('hex') })
    }
  }
}

/** What `fetch --json` reports of each torrent. */
export type Fetched = Pick<TransferView, 'path' | 'infohash' | 'infohashV1' | 'infohashV2' | 'name' | 'downloaded' | 'sources' | 'banned'> & {
  /** Bytes of the files fetched. */
  bytes: number
  /** The download itself (first data to complete) when the engine says, else the whole fetch. */
  seconds: number
}

function fetchedView(v: TransferView, elapsed: number): Fetched {
  return {
    path: v.path,
    infohash: v.infohash,
    infohashV1: v.infohashV1,
    infohashV2: v.infohashV2,
    name: v.name,
    bytes: v.size,
    downloaded: v.downloaded,
    // The download's own time; a torrent complete before this run has none: the whole fetch.
    seconds: v.seconds ?? Math.round(elapsed * 1000) / 1000,
    sources: v.sources,
    banned: v.banned
  }
}

/** The BitTorrent port when none is configured (the engine falls back to a free one when it is taken). */
const DEFAULT_BT_PORT = 6881

/** `status`: the node's, and when it is offline, what going online would use. */
type StatusView = NodeStatus & {
  configured?: { btPort: number | null; dhtBootstrap: 'public' | string[] | null; trackers: string[] }
}

export function formatStatus(s: StatusView): string {
  const bt = s.bt
  const plain = bt.encryptedOnly ? '' : ' · TCP traffic is not encrypted'
  if (s.online || !s.configured) {
    const port = bt.encryptedOnly ? 'encrypted-only, files travel only over hyperswarm' : bt.port !== null ? `TCP port ${bt.port}` : 'TCP port not known yet'
    return [
      `online · ${s.peers} peer(s) · ${s.feedsReachable}/${s.feeds} followed feed(s) reachable${s.recovering ? ' · recovering' : ''}`,
      `BitTorrent: ${port} · mainline DHT ${bt.dht.enabled ? `on (${bt.dht.nodes} node(s))` : 'off'}${plain}`
    ].join('\n')
  }
  const c = s.configured
  const port = bt.encryptedOnly ? 'encrypted-only, files travel only over hyperswarm' : `TCP port ${c.btPort ?? DEFAULT_BT_PORT}`
  const dht = c.dhtBootstrap === null ? 'off' : c.dhtBootstrap === 'public' ? 'on (public routers)' : `on (${c.dhtBootstrap.join(', ')})`
  return [
    'offline: no `chrysalis serve` runs for this home',
    `BitTorrent when online: ${port} · mainline DHT ${dht}${plain}${c.trackers.length ? ` · ${c.trackers.length} tracker(s) in magnets` : ''}`
  ].join('\n')
}

export function formatTransfer(t: TransferView): string {
  const pct = t.size > 0 ? Math.floor((100 * t.have) / t.size) : 0
  const rates = t.downloadRate || t.uploadRate ? ` · ↓${formatBytes(t.downloadRate)}/s ↑${formatBytes(t.uploadRate)}/s` : ''
  return [
    `${displayLine(t.name)}  ${t.status}${t.reason ? ` (${displayLine(t.reason)})` : ''} · ${formatBytes(t.have)} of ${formatBytes(t.size)} (${pct}%) · ${t.peers} peer(s)${rates}`,
    `  ${t.infohash}${t.path ? `  ${t.path}` : ''}`
  ].join('\n')
}

function rate(bytes: number, since: number): string {
  const s = (Date.now() - since) / 1000
  return s > 0.2 ? `${formatBytes(bytes / s)}/s` : ''
}

/** How often progress is written without a terminal (whole lines, for logs). */
const LOG_EVERY_MS = 3000

/**
 * Progress of a fetch on stderr: on a terminal one line rewritten every half second (bytes, rate,
 * peers, ETA); without one a whole line every 3 s, saying too what a download waits for. Before a
 * torrent is under way (going online, finding a post, a torrent the engine has no view of yet) the
 * line says what the fetch is doing: a long wait is never silent.
 */
function showProgress(ctx: Context, node: ChrysalisNode): { phase(text: string): void; watch(t: { infohash: Buffer; name: string | null }): void; stop(): void } {
  let phase = ''
  let target: { infohash: Buffer; name: string | null } | null = null
  const line = (): string => (target ? (transferLine(node, target) ?? `${nameOf(target)} · starting…`) : phase)
  const tty = ctx.stderrIsTTY
  const show = (): void => {
    const text = line()
    if (text === '') return
    if (tty) ctx.progress(text)
    else ctx.log(text)
  }
  const timer = setInterval(show, tty ? 500 : LOG_EVERY_MS)
  return {
    phase(text) {
      phase = text
      target = null
      if (tty) show()
    },
    watch(t) {
      target = t
      if (tty) show()
    },
    stop: () => clearInterval(timer)
  }
}

/** What a fetch is called before its metadata names it. */
function nameOf(t: { infohash: Buffer; name: string | null }): string {
  return t.name !== null ? displayLine(t.name) : `${t.infohash.toString('hex').slice(0, 16)}…`
}

/** A torrent's progress, or null while the engine has no view of it. */
function transferLine(node: ChrysalisNode, t: { infohash: Buffer; name: string | null }): string | null {
  const v = node.files.get(t.infohash)
  if (!v) return null
  const name = v.status === 'metadata' ? nameOf(t) : displayLine(v.name)
  // The engine's count of peers known (DHT, trackers, magnet, --peer) when it reports one.
  const known = (v as TransferView & { peersKnown?: number }).peersKnown ?? v.peers
  if (v.status === 'metadata') return v.peers === 0 ? `${name} · waiting for peers (${known} known)` : `${name} · fetching metadata from ${v.peers} peer(s)`
  if (v.status === 'downloading' && v.peers === 0) return `${name} · ${formatBytes(v.have)} of ${formatBytes(v.size)} · waiting for peers (${known} known)`
  const eta = v.downloadRate > 0 ? ` · ETA ${clock((v.size - v.have) / v.downloadRate)}` : ''
  return `${name} · ${formatBytes(v.have)} of ${formatBytes(v.size)} (${v.size ? Math.floor((100 * v.have) / v.size) : 0}%) · ${formatBytes(v.downloadRate)}/s · ${v.peers} peer(s)${eta}`
}

function clock(s: number): string {
  const m = Math.floor(s / 60)
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`
}

async function withTimeout(p: Promise<TransferView>, ms: number, node: ChrysalisNode, infohash: Buffer): Promise<TransferView> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const v = node.files.get(infohash)
      const got = v && v.size ? `${formatBytes(v.have)} of ${formatBytes(v.size)}` : 'no metadata yet'
      reject(new ChrysalisError('NO_PEERS', `the download did not finish in ${ms / 1000} s (${got}, ${v?.peers ?? 0} peer(s)); what arrived is kept: run the same fetch again to resume`))
    }, ms)
  })
  p.catch(() => {}) // after a timeout the node closes, which rejects it again
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}
