import { displayLine } from '../display.js'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { exists, writeFileAtomic } from '../fs.js'
import type { ChrysalisNode } from '../node/node.js'
import { parseFetchTarget } from '../node/files.js'
import type { TransferView } from '../transfer/transfers.js'
import { type Command, type Context, list, seconds, str, usage } from './commands.js'
import { formatBytes } from './format.js'
import { TORRENT_SHOW } from './torrent-show.js'

/** Commands for files: share, fetch, the torrents a node holds. */
export const FILE_COMMANDS: Record<string, Command> = {
  share: {
    usage: 'share PATH [--hybrid]',
    summary: 'hash a file or directory into a BitTorrent v2 torrent, publish it in your feed, seed it from where it is',
    options: { hybrid: { type: 'boolean' } },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const target = ctx.resolvePath(ctx.args[0]!)
      const started = Date.now()
      const shared = await ctx.withNode((node) =>
        node.files.share(target, {
          hybrid: ctx.values.hybrid === true,
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
    usage: 'fetch REF|MAGNET|INFOHASH [--out DIR] [--file PATH]... [--timeout S]',
    summary: "download a post's attachments (or a torrent) from every peer that has them, verified; then seed them",
    options: { out: { type: 'string' }, file: { type: 'string', multiple: true }, timeout: { type: 'string' } },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const out = ctx.resolvePath(str(ctx, 'out') ?? '.')
      const files = list(ctx, 'file')
      const timeoutMs = ctx.values.timeout === undefined ? null : seconds(ctx, 'timeout', 0)
      parseFetchTarget(ctx.args[0]!) // a malformed argument fails before going online
      const results = await ctx.withNode(async (node) => {
        ctx.progress('going online…')
        await node.online({ bootstrap: ctx.bootstrap() })
        const targets = await node.files.resolve(ctx.args[0]!)
        const done: TransferView[] = []
        for (const t of targets) {
          const stop = showProgress(ctx, node, t.infohash)
          try {
            const fetching = node.files.fetch(t, { out, files })
            done.push(timeoutMs === null ? await fetching : await withTimeout(fetching, timeoutMs, node, t.infohash))
          } finally {
            stop()
          }
        }
        return done
      })
      ctx.print(
        results.map((r) => `Fetched ${displayLine(r.name)} (${formatBytes(r.size)}) → ${r.path ?? out}\n  infohash: ${r.infohash} · seeded while your node is online`).join('\n'),
        { fetched: results.map((r) => ({ path: r.path, infohash: r.infohash, name: r.name, bytes: r.size, downloaded: r.downloaded })) }
      )
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
    summary: 'write a standard .torrent (v2, piece layers included) for a torrent this node knows',
    options: { out: { type: 'string' }, force: { type: 'boolean' } },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const outArg = str(ctx, 'out')
      if (outArg === undefined) throw usage('torrent export needs a file: chrysalis torrent export INFOHASH --out FILE.torrent')
      const target = ctx.resolvePath(outArg)
      if (ctx.values.force !== true && (await exists(target))) throw new ChrysalisError('BAD_INPUT', `${target} already exists; choose another file or add --force to replace it`)
      const infohash = parseInfohash(ctx.args[0]!)
      const bytes = await ctx.withNode((node) => node.files.torrentFile(infohash))
      await fs.mkdir(path.dirname(target), { recursive: true })
      await writeFileAtomic(target, bytes, 0o644)
      ctx.print(`Wrote ${target} (${formatBytes(bytes.length)}).`, { file: target, infohash: infohash.toString('hex'), bytes: bytes.length })
    }
  }
}

for (const verb of ['pause', 'resume', 'cancel'] as const) {
  FILE_COMMANDS[verb] = {
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

function parseInfohash(text: string): Buffer {
  if (!/^[0-9a-f]{64}$/i.test(text)) throw usage(`"${text.slice(0, 20)}" is not an infohash: give the 64 hex digits that \`chrysalis seeding\` or \`downloads\` lists`)
  return Buffer.from(text, 'hex')
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

/** Progress on stderr every half second: bytes, rate, peers, ETA. */
function showProgress(ctx: Context, node: ChrysalisNode, infohash: Buffer): () => void {
  const timer = setInterval(() => {
    const v = node.transfers.get(infohash)
    if (!v) return
    if (v.status === 'metadata') return ctx.progress(`${v.name} · ${v.peers} peer(s)…`)
    const eta = v.downloadRate > 0 ? ` · ETA ${clock((v.size - v.have) / v.downloadRate)}` : ''
    ctx.progress(`${v.name} · ${formatBytes(v.have)} of ${formatBytes(v.size)} (${v.size ? Math.floor((100 * v.have) / v.size) : 0}%) · ${formatBytes(v.downloadRate)}/s · ${v.peers} peer(s)${eta}`)
  }, 500)
  return () => clearInterval(timer)
}

function clock(s: number): string {
  const m = Math.floor(s / 60)
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`
}

async function withTimeout(p: Promise<TransferView>, ms: number, node: ChrysalisNode, infohash: Buffer): Promise<TransferView> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const v = node.transfers.get(infohash)
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
