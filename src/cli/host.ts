import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { DhtNodeAddress } from 'hyperdht'
import { ChrysalisError, isChrysalisError } from '../errors.js'
import { parseBootstrap } from '../net/dht.js'
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

/** ~/Downloads when there is one (where people look), else HOME/downloads. */
export function defaultDownloads(home: string): string {
  const downloads = path.join(os.homedir(), 'Downloads')
  return fs.existsSync(downloads) ? downloads : path.join(home, 'downloads')
}

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

/**
 * Open HOME's node for the terminal UI the way `serve` does: refused while another node runs
 * there, waiting (bounded) while another command holds the home; online on the given bootstrap (else CHRYSALIS_BOOTSTRAP, else the public DHT); keeps
 * followed feeds live; answers other CLI processes' commands through the local socket (`serve`,
 * which main.ts gives: it runs them).
 */
export async function openHostedNode(
  home: string,
  bootstrap: string[],
  downloads: string,
  btFlags: BtFlags,
  serve: (node: ChrysalisNode) => Promise<() => Promise<void>>
): Promise<{ node: ChrysalisNode; close: () => Promise<void> }> {
  const bt = await btOf(home, bootstrap, btFlags) // a bad config fails before anything opens
  await refuseIfServing(home)
  // The terminal belongs to the UI (it shows that it is opening): no notice while waiting.
  const node = await openWhenFree(home, { notice: null, onServing: () => refuseIfServing(home) })
  let stop: (() => Promise<void>) | null = null
  try {
    await fs.promises.mkdir(downloads, { recursive: true })
    await node.online({ bootstrap: bootstrapOf(bootstrap), bt })
    node.live()
    stop = await serve(node)
  } catch (err) {
    await node.close()
    throw err
  }
  return {
    node,
    async close() {
      await stop?.()
      await node.close()
    }
  }
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
