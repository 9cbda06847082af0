import { displayLine } from '../display.js'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { ChrysalisNode } from '../node/node.js'
import type { DhtNodeAddress } from 'hyperdht'
import { startBootstrap } from '../net/dht.js'
import { MainlineDht } from '../transfer/discovery/dht.js'
import { encodeId, parseId } from '../identity/encoding.js'
import { formatNotification, formatPeople, formatPost, formatPosts, formatProfile, formatThread } from './format.js'
import type { BtOptions, BtStatus } from '../transfer/bt-options.js'
import type { NodeConfig } from './bt-config.js'
import type { HostedNode } from './host.js'

export type OptionSpec = {
  type: 'string' | 'boolean'
  multiple?: boolean
  short?: string
  /** For --help: the value's name (else as the usage writes it, else VALUE). */
  value?: string
  /** For --help: what the option does. */
  help?: string
}

export interface Context {
  home: string
  json: boolean
  values: Record<string, string | boolean | Array<string | boolean> | undefined>
  args: string[]
  /** Print the result: the human text, or with --json the data as one JSON document. */
  print(human: string, data: unknown): void
  /** Open the node for HOME, run fn, and close it again whatever happens. */
  withNode<T>(fn: (node: ChrysalisNode) => Promise<T>): Promise<T>
  /** DHT bootstrap nodes from --bootstrap or CHRYSALIS_BOOTSTRAP; null = the public HyperDHT. */
  bootstrap(): DhtNodeAddress[] | null
  /** HOME/config.json, checked (a malformed one throws one line naming the file and the key). */
  config(): Promise<NodeConfig>
  /** The node's BitTorrent side from the flags, the environment and HOME/config.json. */
  bt(): Promise<BtOptions>
  /**
   * Take the node online with the hyperswarm bootstrap and the BitTorrent options (a no-op when it
   * is), waiting at most `waitMs` for the DHT (a command's --timeout covers going online too).
   */
  online(node: ChrysalisNode, opts?: { waitMs?: number }): Promise<void>
  /** Report progress on stderr (never on stdout, which --json keeps for the result): a terminal's one rewritten line. */
  progress(line: string): void
  /** Whether stderr is a terminal (progress() shows), else progress goes through log(). */
  stderrIsTTY: boolean
  /** A whole line on stderr (progress without a terminal; nothing for a routed command). */
  log(line: string): void
  /** Answer other CLI processes' commands for this home through `node` (the local socket). */
  serveRequests(node: ChrysalisNode): Promise<() => Promise<void>>
  /** HOME's node hosted for the terminal UI, online and answering other commands (host.ts). */
  host(downloads: string): Promise<HostedNode>
  readStdin(): Promise<string>
  /** A path argument made absolute against the caller's working directory. */
  resolvePath(p: string): string
}

export interface Command {
  usage: string
  summary: string
  options?: Record<string, OptionSpec>
  /** [min, max] positional arguments after the command name(s). */
  args: [number, number]
  /** Opens the node: runs through a running `serve` for the same home when there is one. */
  usesNode?: boolean
  /** Holds the home for as long as it runs (serve): refused while another node runs there. */
  servesHome?: boolean
  run(ctx: Context): Promise<void>
}

const LIMIT = { limit: { type: 'string', help: 'how many, from 1 to 1000 (default 20)' } } as const

export const COMMANDS: Record<string, Command> = {
  whoami: {
    usage: 'whoami',
    summary: 'show your identity ID, fingerprint, name and bio',
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const me = await ctx.withNode((node) => node.whoami())
      ctx.print(formatProfile(me), me)
    }
  },

  profile: {
    usage: 'profile [--name NAME] [--bio BIO]',
    summary: 'show or change your name and bio',
    options: { name: { type: 'string', help: 'your new name' }, bio: { type: 'string', help: 'your new bio' } },
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const name = str(ctx, 'name')
      const bio = str(ctx, 'bio')
      const me = await ctx.withNode((node) =>
        name === undefined && bio === undefined
          ? node.whoami()
          : node.setProfile({ ...(name !== undefined ? { name } : {}), ...(bio !== undefined ? { bio } : {}) })
      )
      ctx.print(formatProfile(me), me)
    }
  },

  post: {
    usage: 'post TEXT [--topic T]... [--mention ID]... [--attach PATH]... [--v2-only]',
    summary: 'publish a post (TEXT "-" reads it from stdin); #hashtags and @IDs count too; --attach shares files with it (hybrid torrents; --v2-only: v2) and prints their magnets',
    options: {
      topic: { type: 'string', multiple: true, help: 'an interest topic of the post' },
      mention: { type: 'string', multiple: true, help: 'an identity to mention, who is notified' },
      attach: { type: 'string', multiple: true, help: 'a file or directory to share with the post' },
      'v2-only': { type: 'boolean', help: 'attach BitTorrent v2 torrents, not hybrid (v1 + v2) ones' }
    },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const text = await textArg(ctx, 0)
      const attach = list(ctx, 'attach').map((p) => ctx.resolvePath(p))
      if (ctx.values['v2-only'] === true && attach.length === 0) throw usage('--v2-only goes with --attach')
      const hybrid = hybridOf(ctx)
      const { trackers } = await ctx.config()
      const { post, magnets } = await ctx.withNode(async (node) => {
        const post = await node.post({
          text,
          topics: list(ctx, 'topic'),
          mentions: list(ctx, 'mention'),
          attach,
          hybrid,
          onProgress: (file, done, total) => ctx.progress(`hashing ${path.basename(file)}: ${Math.floor((100 * done) / total)}%`)
        })
        const magnets = await Promise.all(post.attachments.map((a) => node.files.magnet(a.infohash, trackers ? { trackers } : {})))
        return { post, magnets }
      })
      const links = magnets.map((m, i) => `  ${displayLine(post.attachments[i]!.name)}: ${m}`)
      ctx.print(
        `Posted.\n${formatPost(post)}${links.length ? `\nMagnets (any BitTorrent client fetches these while your node is online):\n${links.join('\n')}` : ''}`,
        { ...post, attachments: post.attachments.map((a, i) => ({ ...a, magnet: magnets[i]! })) }
      )
    }
  },

  comment: {
    usage: 'comment REF TEXT [--topic T]... [--mention ID]...',
    summary: 'answer a post or a comment (TEXT "-" reads it from stdin)',
    options: {
      topic: { type: 'string', multiple: true, help: 'an interest topic of the comment' },
      mention: { type: 'string', multiple: true, help: 'an identity to mention, who is notified' }
    },
    args: [2, 2],
    usesNode: true,
    async run(ctx) {
      const text = await textArg(ctx, 1)
      const post = await ctx.withNode((node) => node.comment(ctx.args[0]!, text, { topics: list(ctx, 'topic'), mentions: list(ctx, 'mention') }))
      ctx.print(`Commented.\n${formatPost(post)}`, post)
    }
  },

  edit: {
    usage: 'edit REF TEXT',
    summary: 'replace the text of one of your posts (the signed history keeps the old one)',
    args: [2, 2],
    usesNode: true,
    async run(ctx) {
      const text = await textArg(ctx, 1)
      const post = await ctx.withNode((node) => node.edit(ctx.args[0]!, text))
      ctx.print(`Edited.\n${formatPost(post)}`, post)
    }
  },

  delete: {
    usage: 'delete REF',
    summary: 'delete one of your posts (readers show it as deleted; the signed history keeps it)',
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const post = await ctx.withNode((node) => node.delete(ctx.args[0]!))
      ctx.print(`Deleted ${post.ref}.`, post)
    }
  },

  feed: {
    usage: 'feed [ID] [--limit N] [--before POST-ID]',
    summary: "list someone's posts and comments, newest first (yours without ID)",
    options: { ...LIMIT, before: { type: 'string', help: 'only posts older than this one (its POST-ID)' } },
    args: [0, 1],
    usesNode: true,
    async run(ctx) {
      const before = str(ctx, 'before')
      const { posts, empty } = await ctx.withNode(async (node) => {
        const posts = await node.feed(ctx.args[0], { limit: limit(ctx), ...(before !== undefined ? { before } : {}) })
        // An empty feed of someone not followed: most likely only not fetched yet.
        if (posts.length > 0 || ctx.args[0] === undefined || before !== undefined) return { posts, empty: 'No posts here yet.' }
        const id = encodeId(parseId(ctx.args[0]))
        const known = [(await node.whoami()).id, ...(await node.followingList()).map((p) => p.id)]
        return { posts, empty: known.includes(id) ? 'No posts here yet.' : `No posts of ${id} here yet: \`chrysalis follow\` it and run \`chrysalis sync\` to fetch them.` }
      })
      ctx.print(formatPosts(posts, empty), { posts })
    }
  },

  timeline: {
    usage: 'timeline [--limit N] [--before CURSOR]',
    summary: 'the newest posts of you and the people you follow',
    options: { ...LIMIT, before: { type: 'string', help: 'the next page: the cursor the previous page printed' } },
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const before = str(ctx, 'before')
      const page = await ctx.withNode((node) => node.timeline({ limit: limit(ctx), ...(before !== undefined ? { before } : {}) }))
      const more = page.next ? `\n\nOlder posts: chrysalis timeline --before ${page.next}` : ''
      ctx.print(formatPosts(page.posts, 'Your timeline is empty: post something, or follow someone.') + more, page)
    }
  },

  thread: {
    usage: 'thread REF',
    summary: 'a post and its comments as a tree',
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const thread = await ctx.withNode(async (node) => {
        const thread = await node.thread(ctx.args[0]!)
        // Nothing of it here, not even a comment: say so, and fail (a script asked for a post that is not there).
        if (thread.root === null && thread.comments.length === 0) {
          const mine = thread.rootRef.startsWith((await node.whoami()).id + '/')
          throw new ChrysalisError(
            'NOT_FOUND',
            mine ? `you have no post ${thread.rootRef}; check the ref with \`chrysalis feed\``
            : `post ${thread.rootRef} is not here; follow its author and run \`chrysalis sync\`, then try again`
          )
        }
        return thread
      })
      ctx.print(formatThread(thread), thread)
    }
  },

  follow: relationCommand('follow', 'follow an identity: its posts join your timeline', 'Following'),
  unfollow: relationCommand('unfollow', 'stop following an identity', 'Stopped following'),
  block: relationCommand('block', 'hide an identity everywhere (and stop following it)', 'Blocked'),
  unblock: relationCommand('unblock', 'undo a block', 'Unblocked'),

  notifications: {
    usage: 'notifications [--limit N]',
    summary: 'comments on your posts, mentions of you and who followed you, newest first',
    options: { ...LIMIT },
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const list = await ctx.withNode((node) => node.notifications({ limit: limit(ctx) }))
      ctx.print(list.length ? list.map(formatNotification).join('\n\n') : 'No notifications yet.', { notifications: list })
    }
  },

  following: {
    usage: 'following',
    summary: 'the identities you follow',
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const people = await ctx.withNode((node) => node.followingList())
      ctx.print(formatPeople(people, 'You follow nobody yet: chrysalis follow ID'), { following: people })
    }
  },

  blocked: {
    usage: 'blocked',
    summary: 'the identities you blocked',
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const people = await ctx.withNode((node) => node.blockedList())
      ctx.print(formatPeople(people, 'You blocked nobody.'), { blocked: people })
    }
  },

  sync: {
    usage: 'sync [--timeout S]',
    summary: 'go online, bring every followed feed up to date, print what changed, exit',
    options: { timeout: { type: 'string', help: 'seconds to wait for peers, from 0.1 to 3600 (default 10)' } },
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const result = await withOnlineNode(ctx, seconds(ctx, 'timeout', 10), 'going online…', (node, timeoutMs) => {
        ctx.progress(`syncing ${node.followingCount()} followed feed(s)…`)
        return node.sync({ timeoutMs })
      })
      const lines = result.feeds.map(
        (f) => `${(f.name !== null ? displayLine(f.name) : '(no name)').padEnd(20)} ${f.reachable ? '' : '(no peer has it now) '}${f.changedPosts} new or changed post(s), ${f.length} blocks`
      )
      if (result.recovered === true) lines.push('Recovered your feed from a peer: you can post again.')
      if (result.recovered === false) lines.push('Your restored feed was not found on any reachable peer yet; posting stays off. Try again when a device or follower that has it is online.')
      ctx.print([`${result.peers} peer(s) connected.`, ...(lines.length ? lines : ['You follow nobody yet.'])].join('\n'), result)
    }
  },

  discover: {
    usage: 'discover TOPIC [--timeout S]',
    summary: 'join an interest topic and list the people found there (and whom your follows follow)',
    options: { timeout: { type: 'string', help: 'seconds to look for people, from 0.1 to 3600 (default 10)' } },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const result = await withOnlineNode(ctx, seconds(ctx, 'timeout', 10), `looking for people on "${ctx.args[0]!}"…`, (node, timeoutMs) =>
        node.discover(ctx.args[0]!, { timeoutMs })
      )
      const lines = result.people.map((p) => `${p.name !== null ? displayLine(p.name) : '(no name)'} (${p.fingerprint})  ${p.id}\n  ${p.bio ? displayLine(p.bio) + ' · ' : ''}${p.via}${p.following ? ' · following' : ''}`)
      ctx.print(lines.length ? lines.join('\n') : `Nobody found on "${result.topic}" yet.`, result)
    }
  },

  serve: {
    usage: 'serve',
    summary: 'keep your node online: announce, replicate, serve what you follow, until Ctrl-C',
    args: [0, 0],
    servesHome: true,
    async run(ctx) {
      await ctx.withNode(async (node) => {
        // A server waits for its announcements (a minute at most), so that "serving" means findable.
        await ctx.online(node, { waitMs: 60_000 })
        node.live()
        const stopServing = await ctx.serveRequests(node)
        const me = await node.whoami()
        const bt = node.status().bt
        // The BitTorrent port, once the engine knows it (now, or a little later: then a line of its own).
        let portShown = bt.port !== null || bt.encryptedOnly
        ctx.print(`serving ${me.name ?? '(no name)'} (${me.fingerprint}) ${me.id}${portShown ? `\n${btLine(bt)}` : ''}`, { serving: me.id, bt })
        const render = (): void => {
          const s = node.status()
          if (!portShown && s.bt.port !== null) {
            portShown = true
            if (!ctx.json) ctx.print(btLine(s.bt), null)
          }
          ctx.progress(`online · ${s.peers} peer(s) · ${s.feedsReachable}/${s.feeds} followed feed(s) reachable${s.recovering ? ' · recovering' : ''}`)
        }
        const timer = setInterval(render, 1000)
        render()
        const sig = await waitForSignal()
        clearInterval(timer)
        ctx.progress(`${sig}: closing…`)
        await stopServing()
      })
    }
  },

  bootstrap: {
    usage: 'bootstrap [--host H] [--port P] [--mainline [--mainline-port P]]',
    summary: 'run a DHT bootstrap node for a LAN, a private network or tests (until Ctrl-C); --mainline also a BitTorrent one',
    options: {
      host: { type: 'string', help: 'the address to listen on (default 127.0.0.1)' },
      port: { type: 'string', help: 'the UDP port (default 49737)' },
      mainline: { type: 'boolean', help: 'run a BitTorrent mainline DHT node too' },
      'mainline-port': { type: 'string', value: 'P', help: "the mainline node's UDP port (default 49738)" }
    },
    args: [0, 0],
    async run(ctx) {
      const host = str(ctx, 'host') ?? '127.0.0.1'
      const port = portOption(ctx, 'port', '49737')
      if (!ctx.values.mainline && str(ctx, 'mainline-port') !== undefined) throw usage('--mainline-port goes with --mainline')
      const mainlinePort = portOption(ctx, 'mainline-port', '49738')
      const node = await startBootstrap({ host, port })
      const address = `${node.address.host}:${node.address.port}`
      // A mainline DHT node with no bootstrap of its own: others join through it (BEP 5).
      const mainline = ctx.values.mainline ? await MainlineDht.start({ bootstrap: [], host, port: mainlinePort }).catch(async (err: unknown) => {
        await node.destroy()
        throw err
      }) : null
      const bt = mainline ? `${host}:${mainline.address().port}` : null
      ctx.print(
        [
          `bootstrap node listening on ${address}`,
          `use it with: chrysalis --bootstrap ${address} …`,
          ...(bt ? [`mainline DHT node listening on ${bt}`, `use it with: chrysalis --bt-bootstrap ${bt} …`] : [])
        ].join('\n'),
        { bootstrap: address, ...(bt ? { mainline: bt } : {}) }
      )
      await waitForSignal()
      await mainline?.close()
      await node.destroy()
    }
  },

}


/** What `serve` says of its BitTorrent side. */
function btLine(bt: BtStatus): string {
  if (bt.encryptedOnly) return 'BitTorrent: encrypted-only, files travel only over hyperswarm connections (no TCP port, no mainline DHT)'
  return `BitTorrent: TCP port ${bt.port ?? '?'} (not encrypted, like other clients) · mainline DHT ${bt.dht.enabled ? 'on' : 'off'}`
}



function relationCommand(verb: 'follow' | 'unfollow' | 'block' | 'unblock', summary: string, done: string): Command {
  return {
    usage: `${verb} ID`,
    summary,
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const person = await ctx.withNode((node) => node[verb](ctx.args[0]!))
      ctx.print(`${done} ${person.name !== null ? displayLine(person.name) : '(no name yet)'} (${person.fingerprint}) ${person.id}.`, person)
    }
  }
}

export function seconds(ctx: Context, name: string, fallback: number): number {
  const v = str(ctx, name)
  if (v === undefined) return fallback * 1000
  const n = Number(v)
  if (!/^\d*\.?\d+$/.test(v) || n <= 0 || n > 3600) throw usage(`--${name} takes seconds, from 0.1 to 3600, not "${v}"`)
  return n * 1000
}

export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(sig)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

export function str(ctx: Context, name: string): string | undefined {
  const v = ctx.values[name]
  return typeof v === 'string' ? v : undefined
}

export function list(ctx: Context, name: string): string[] {
  const v = ctx.values[name]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

/** --limit: digits only, from 1 to `max`; `fallback` when not given. */
export function limit(ctx: Context, fallback = 20, max = 1000): number {
  const v = str(ctx, 'limit')
  if (v === undefined) return fallback
  const n = Number(v)
  if (!/^\d+$/.test(v) || n < 1 || n > max) throw usage(`--limit takes a whole number from 1 to ${max}, not "${v.slice(0, 20)}"`)
  return n
}

/**
 * Open the node, take it online and run `work` within one --timeout: going online gets at most
 * half of it (for the DHT to take our announcements), `work` what is left (`remainingMs`).
 */
export function withOnlineNode<T>(ctx: Context, timeoutMs: number, progress: string, work: (node: ChrysalisNode, remainingMs: number) => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  return ctx.withNode(async (node) => {
    ctx.progress(progress)
    await ctx.online(node, { waitMs: timeoutMs / 2 })
    return work(node, Math.max(1, deadline - Date.now()))
  })
}

function portOption(ctx: Context, name: string, fallback: string): number {
  const text = str(ctx, name) ?? fallback
  const port = Number(text)
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw usage(`--${name} takes a port number from 1 to 65535, not "${text}"`)
  return port
}

async function textArg(ctx: Context, i: number): Promise<string> {
  const text = ctx.args[i]!
  return text === '-' ? (await ctx.readStdin()).replace(/\n$/, '') : text
}

/** share, post --attach: hybrid torrents (v1 + v2) unless --v2-only. */
export function hybridOf(ctx: Context): boolean {
  if (ctx.values['v2-only'] === true && ctx.values.hybrid === true) throw usage('--hybrid and --v2-only contradict each other; hybrid is the default')
  return ctx.values['v2-only'] !== true
}

export function usage(message: string): ChrysalisError {
  return new ChrysalisError('USAGE', message)
}
