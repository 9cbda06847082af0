import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import type { BtOptions } from '../transfer/bt-options.js'
import { btDhtConfig, parseBtBootstrap, type BtDhtConfig } from '../transfer/discovery/dht-config.js'
import type { BtFlags } from './bt-flags.js'

/** What HOME/config.json may hold (every key optional; unknown keys are ignored). */
export interface NodeConfig {
  btPort?: number
  encryptedOnly?: boolean
  /** "HOST:PORT,HOST:PORT" or ["HOST:PORT", …] */
  btBootstrap?: string[]
  /** Tracker announce URLs put in the magnets of what this node shares. */
  trackers?: string[]
}

export const CONFIG_FILE = 'config.json'
/** A config of a few settings: anything larger is not one. */
const CONFIG_BYTES = 64 * 1024
const TRACKER_SCHEMES = ['http:', 'https:', 'udp:']
const MAX_TRACKERS = 100

/**
 * The node's BitTorrent side from the command line, the environment and HOME/config.json, in
 * that order of precedence. Pure but for reading the config file.
 *
 *   const bt = btOptionsOf({ flags, env: process.env, config: await readConfig(home), hyperswarmBootstrap: true })
 *   await node.online({ bootstrap, bt })
 *
 * The mainline DHT: `--no-bt-dht` turns it off; a BT bootstrap (flag, CHRYSALIS_BT_BOOTSTRAP or
 * config btBootstrap) names its nodes; with none of these and an explicit hyperswarm bootstrap
 * (--bootstrap / CHRYSALIS_BOOTSTRAP: a private network such as a test) it is off; only with
 * neither are the public routers used. `--encrypted-only` keeps every file transfer on hyperswarm,
 * so it is off then too.
 */
export function btOptionsOf(input: {
  flags: BtFlags
  env: Readonly<Record<string, string | undefined>>
  config: NodeConfig
  /** --bootstrap or CHRYSALIS_BOOTSTRAP was given (a private hyperswarm network). */
  hyperswarmBootstrap: boolean
}): BtOptions {
  const { flags, env, config } = input
  const port =
    flags.btPort !== undefined ? parsePort(flags.btPort, '--bt-port')
    : env.CHRYSALIS_BT_PORT !== undefined && env.CHRYSALIS_BT_PORT !== '' ? parsePort(env.CHRYSALIS_BT_PORT, 'CHRYSALIS_BT_PORT')
    : config.btPort
  const encryptedOnly = flags.encryptedOnly === true || config.encryptedOnly === true
  const dht = dhtOf(input, encryptedOnly)
  return {
    ...(port !== undefined ? { port } : {}),
    encryptedOnly,
    dht,
    trackers: config.trackers ?? []
  }
}

function dhtOf(input: Parameters<typeof btOptionsOf>[0], encryptedOnly: boolean): BtDhtConfig {
  const { flags, env, config } = input
  const flagNodes = flags.btBootstrap ?? []
  const envNodes = env.CHRYSALIS_BT_BOOTSTRAP !== undefined && env.CHRYSALIS_BT_BOOTSTRAP.trim() !== '' ? env.CHRYSALIS_BT_BOOTSTRAP : undefined
  if (flags.noBtDht === true || flagNodes.length > 0 || envNodes !== undefined) {
    // btDhtConfig checks the flags and the variable (and that --no-bt-dht comes alone).
    const dht = btDhtConfig({ flags: flagNodes, env: envNodes, noDht: flags.noBtDht === true })
    return encryptedOnly ? { enabled: false } : dht
  }
  if (config.btBootstrap !== undefined && config.btBootstrap.length > 0) {
    // Checked when the config was read; parsed again here for the nodes.
    return encryptedOnly ? { enabled: false } : { enabled: true, bootstrap: parseBtBootstrap(config.btBootstrap, CONFIG_FILE + ' btBootstrap'), publicRouters: false }
  }
  if (encryptedOnly || input.hyperswarmBootstrap) return { enabled: false }
  return btDhtConfig({})
}

function parsePort(text: string, source: string): number {
  const port = Number(text)
  if (!/^\d{1,5}$/.test(text.trim()) || port > 65535) {
    throw new ChrysalisError('USAGE', `${source} takes a TCP port number from 0 to 65535 (0: any free port), not "${text.slice(0, 40)}"`)
  }
  return port
}

/**
 * HOME/config.json, checked key by key: a missing file is an empty config; a malformed one is
 * refused with one line naming the file and the key.
 */
export async function readConfig(home: string): Promise<NodeConfig> {
  const file = path.join(home, CONFIG_FILE)
  let text: string
  try {
    const fh = await fs.open(file, 'r')
    try {
      // Bounded whatever the file claims or becomes while read.
      const buf = Buffer.alloc(CONFIG_BYTES + 1)
      let got = 0
      for (;;) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, got)
        if (bytesRead === 0) break
        got += bytesRead
        if (got > CONFIG_BYTES) throw new ChrysalisError('BAD_INPUT', `${file} is larger than ${CONFIG_BYTES / 1024} KiB, too large for a config; fix or remove it`)
      }
      text = buf.subarray(0, got).toString('utf-8')
    } finally {
      await fh.close()
    }
  } catch (err) {
    if (err instanceof ChrysalisError) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return {}
    throw new ChrysalisError('IO', `${file} cannot be read (${code ?? 'error'}); fix its permissions or remove it`)
  }
  return parseConfig(text, file)
}

/** Check a config's text; `file` names it in errors. */
export function parseConfig(text: string, file: string): NodeConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 80) : 'not JSON'
    throw new ChrysalisError('BAD_INPUT', `${file} is not valid JSON (${why}); fix or remove it`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ChrysalisError('BAD_INPUT', `${file} must hold a JSON object such as {"btPort": 6881}; fix or remove it`)
  }
  const o = raw as Record<string, unknown>
  const bad = (key: string, what: string): ChrysalisError =>
    new ChrysalisError('BAD_INPUT', `${file}: "${key}" ${what}; fix or remove it`)
  const config: NodeConfig = {}
  if (o.btPort !== undefined) {
    if (typeof o.btPort !== 'number' || !Number.isInteger(o.btPort) || o.btPort < 0 || o.btPort > 65535) throw bad('btPort', 'must be a port number from 0 to 65535')
    config.btPort = o.btPort
  }
  if (o.encryptedOnly !== undefined) {
    if (typeof o.encryptedOnly !== 'boolean') throw bad('encryptedOnly', 'must be true or false')
    config.encryptedOnly = o.encryptedOnly
  }
  if (o.btBootstrap !== undefined) {
    const list = typeof o.btBootstrap === 'string' ? [o.btBootstrap] : o.btBootstrap
    if (!Array.isArray(list) || !list.every((v): v is string => typeof v === 'string')) throw bad('btBootstrap', 'must be "HOST:PORT,…" or a list of "HOST:PORT" strings')
    try {
      parseBtBootstrap(list, 'btBootstrap')
    } catch (err) {
      throw new ChrysalisError('BAD_INPUT', `${file}: ${(err as Error).message.replace(/; use /, '; fix or remove it, use ')}`)
    }
    config.btBootstrap = list.filter((v) => v.trim() !== '')
  }
  if (o.trackers !== undefined) {
    if (!Array.isArray(o.trackers)) throw bad('trackers', 'must be a list of tracker URLs (http, https or udp)')
    if (o.trackers.length > MAX_TRACKERS) throw bad('trackers', `lists more than ${MAX_TRACKERS} trackers`)
    const trackers: string[] = []
    for (const v of o.trackers as unknown[]) {
      if (typeof v !== 'string' || !isTrackerUrl(v)) throw bad('trackers', `holds ${JSON.stringify(v)?.slice(0, 60)}, not a tracker URL (http, https or udp)`)
      if (!trackers.includes(v)) trackers.push(v)
    }
    config.trackers = trackers
  }
  return config
}

function isTrackerUrl(v: string): boolean {
  if (v.length > 2048) return false
  try {
    const u = new URL(v)
    return TRACKER_SCHEMES.includes(u.protocol) && u.hostname !== ''
  } catch {
    return false
  }
}
