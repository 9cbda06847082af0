import fs from 'node:fs'
import type { DhtNodeAddress } from 'hyperdht'
import { ChrysalisError, isChrysalisError } from '../errors.js'
import { createDht, parseBootstrap } from '../net/dht.js'
import { ChrysalisNode } from '../node/node.js'
import { callNode } from '../node/socket.js'
import type { BtOptions } from '../transfer/bt-options.js'
import { btOptionsOf, readConfig } from './bt-config.js'
import type { BtFlags } from './bt-flags.js'

/**
 * Opening a home's node for the CLI and the terminal UI: the network options from flags, the
 * environment and the home's config; waiting (bounded) while another process holds the home;
 * refusing while a node serves it; and the node a TUI hosts, online and answering other
 * commands. Imported by main.ts and the TUI launchers; it imports neither.
 *
 *   const node = await openWhenFree(home, { notice: null, onServing: () => refuseIfServing(home) })
 */

/** BtOptions from the flags, the environment and HOME/config.json (flags win, then the environment). */
export async function btOf(home: string, bootstrapFlags: string[], flags: BtFlags): Promise<BtOptions> {
  const hyperswarmBootstrap = bootstrapFlags.length > 0 || (process.env.CHRYSALIS_BOOTSTRAP ?? '') !== ''
  return btOptionsOf({ flags, env: process.env, config: await readConfig(home), hyperswarmBootstrap })
}

/** DHT bootstrap nodes from --bootstrap flags, else CHRYSALIS_BOOTSTRAP; null = the public HyperDHT. */
export function bootstrapOf(flags: string[]): DhtNodeAddress[] | null {
  const values = flags.length ? flags : process.env.CHRYSALIS_BOOTSTRAP ? [process.env.CHRYSALIS_BOOTSTRAP] : []
  return values.length ? parseBootstrap(values) : null
}

/** A node hosted for the terminal UI: open at once, going online in the background. */
export interface HostedNode {
  node: ChrysalisNode
  /**
   * Settles once going online has ended and other commands are answered; rejects when the node
   * could not go online (it stays open, offline: what is saved here can still be read).
   */
  online: Promise<void>
  /** How many DHT nodes this node knows now: 0 while the DHT is not reachable. */
  dhtNodes(): number
  /** Stop answering other commands and close the node (going online or not). */
  close(): Promise<void>
}

/**
 * Open HOME's node for the terminal UI the way `serve` does: refused while another node runs
 * there, waiting (bounded) while another command holds the home. It returns as soon as the node
 * is open, so that the UI shows what is saved at once; then, in the background (`online`), it goes
 * online on the given bootstrap (else CHRYSALIS_BOOTSTRAP, else the public DHT), keeps followed
 * feeds live and answers other CLI processes' commands through the local socket (`serve`, which
 * main.ts gives: it runs them). With no DHT reachable, going online takes tens of seconds.
 */
export async function openHostedNode(
  home: string,
  bootstrap: string[],
  downloads: string,
  btFlags: BtFlags,
  serve: (node: ChrysalisNode) => Promise<() => Promise<void>>
): Promise<HostedNode> {
  const bt = await btOf(home, bootstrap, btFlags) // a bad config fails before anything opens
  const dhtBootstrap = bootstrapOf(bootstrap)
  await refuseIfServing(home)
  // The terminal belongs to the UI (it shows that it is opening): no notice while waiting.
  const node = await openWhenFree(home, { notice: null, onServing: () => refuseIfServing(home) })
  try {
    await fs.promises.mkdir(downloads, { recursive: true })
  } catch (err) {
    await node.close()
    throw err
  }
  let closing = false
  let stop: (() => Promise<void>) | null = null
  let dhtNodes = 0
  let going = true
  // The DHT is made here (as the node would make it) to count the nodes it knows, and to end
  // going online at once on close.
  const dht = createDht(dhtBootstrap)
  dht.on('add-node', () => dhtNodes++)
  dht.on('remove-node', () => (dhtNodes = Math.max(0, dhtNodes - 1)))
  const goOnline = async (): Promise<void> => {
    try {
      await node.online({ dht, bt })
    } catch (err) {
      if (!node.status().online) await dht.destroy() // the node did not take it
      throw err
    }
    if (!closing) node.live()
  }
  const online = (async () => {
    const went = await goOnline().then(() => null, (err: unknown) => ({ err }))
    going = false
    // Other commands are answered either way: offline, those that need the network say so.
    if (!closing) stop = await serve(node)
    if (went) throw went.err
  })()
  online.catch(() => {}) // the UI says it; never an unhandled rejection
  const hosted: HostedNode = {
    node,
    online,
    dhtNodes: () => dhtNodes,
    async close() {
      closing = true
      const serving = stop
      stop = null
      await serving?.()
      // Closing the node while it goes online would let its BitTorrent side start after the close:
      // without its DHT, going online ends at once (else it may take tens of seconds); then the
      // node closes whole.
      if (going) await dht.destroy({ force: true })
      await online.catch(() => {})
      await (stop as (() => Promise<void>) | null)?.() // serve was starting when close began
      await node.close()
    }
  }
  return hosted
}

/** Refuse when a node is already serving HOME (it answers on the home's socket). */
export async function refuseIfServing(home: string): Promise<void> {
  if ((await callNode(home, { argv: ['--json', 'whoami'], stdin: null })) !== null) {
    throw new ChrysalisError('HOME_LOCKED', `a chrysalis node is already running for ${home}; stop it first`)
  }
}

const DEFAULT_HOME_WAIT = 30

/** How long a command waits for a home another process is using: CHRYSALIS_HOME_WAIT seconds, default 30. */
function homeWaitSeconds(): number {
  const text = process.env.CHRYSALIS_HOME_WAIT
  if (text === undefined || text === '') return DEFAULT_HOME_WAIT
  const s = Number(text)
  if (!Number.isFinite(s) || s < 0) throw new ChrysalisError('USAGE', `CHRYSALIS_HOME_WAIT takes a number of seconds, not "${text}"`)
  return s
}

/**
 * Open HOME's node. While another process holds the home (its store is locked), poll for it with
 * backoff up to CHRYSALIS_HOME_WAIT seconds, saying so once through `notice`; between polls,
 * `onServing` looks for a node that started serving HOME meanwhile (and routes or refuses).
 */
export async function openWhenFree(home: string, opts: { notice: ((line: string) => void) | null; onServing: () => Promise<void> }): Promise<ChrysalisNode> {
  const seconds = homeWaitSeconds()
  const deadline = Date.now() + seconds * 1000
  let delay = 50
  let told = false
  for (;;) {
    try {
      return await ChrysalisNode.open({ home })
    } catch (err) {
      if (!isChrysalisError(err, 'HOME_LOCKED') || seconds === 0) throw err
      if (Date.now() >= deadline) {
        throw new ChrysalisError(
          'HOME_LOCKED',
          `another chrysalis process has been using ${home} for ${seconds} s; let it finish or close it, then try again (CHRYSALIS_HOME_WAIT=SECONDS waits longer)`
        )
      }
    }
    if (!told) opts.notice?.(`waiting for another chrysalis process using ${home}…`)
    told = true
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(delay, deadline - Date.now()))))
    delay = Math.min(delay * 2, 500)
    await opts.onServing()
  }
}
