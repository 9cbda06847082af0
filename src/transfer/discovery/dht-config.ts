/**
 * Which mainline DHT a node joins, from `--bt-bootstrap HOST:PORT[,…]` (repeatable),
 * CHRYSALIS_BT_BOOTSTRAP (comma-separated) and `--no-bt-dht`. Pure: no network, no environment.
 *
 *   btDhtConfig({ flags: ['127.0.0.1:6881'], env: process.env.CHRYSALIS_BT_BOOTSTRAP, noDht: false })
 *   // → { enabled: true, bootstrap: [{ host: '127.0.0.1', port: 6881 }], publicRouters: false }
 *
 * The flag wins over the variable; with neither and the DHT on, the public routers
 * (PUBLIC_ROUTERS): this is the only path that hands them to MainlineDht.start().
 */
import { ChrysalisError } from '../../errors.js'
import { LIMITS, PUBLIC_ROUTERS, type DhtNode } from './dht.js'

export type BtDhtConfig = { enabled: false } | { enabled: true; bootstrap: DhtNode[]; publicRouters: boolean }

export interface BtDhtInput {
  /** Values of --bt-bootstrap (each may hold a comma-separated list). */
  flags?: readonly string[]
  /** CHRYSALIS_BT_BOOTSTRAP. */
  env?: string | undefined
  /** --no-bt-dht */
  noDht?: boolean
}

export function btDhtConfig(input: BtDhtInput): BtDhtConfig {
  const flags = input.flags ?? []
  if (input.noDht === true) {
    if (flags.length > 0) throw new ChrysalisError('USAGE', '--no-bt-dht turns the mainline DHT off; drop --bt-bootstrap or --no-bt-dht')
    return { enabled: false }
  }
  if (flags.length > 0) return { enabled: true, bootstrap: parseBtBootstrap(flags, '--bt-bootstrap'), publicRouters: false }
  if (input.env !== undefined && input.env.trim() !== '') {
    return { enabled: true, bootstrap: parseBtBootstrap([input.env], 'CHRYSALIS_BT_BOOTSTRAP'), publicRouters: false }
  }
  return { enabled: true, bootstrap: PUBLIC_ROUTERS.map((r) => ({ ...r })), publicRouters: true }
}

/** HOST:PORT entries, comma-separated or repeated; hosts are IPv4 addresses or names (BEP 5 is IPv4). */
export function parseBtBootstrap(values: readonly string[], source = '--bt-bootstrap'): DhtNode[] {
  const nodes = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .map((v) => {
      const m = /^([^:\s[\]]+):(\d{1,5})$/.exec(v)
      const port = m ? Number(m[2]) : NaN
      if (!m || port < 1 || port > 65535) {
        throw new ChrysalisError('USAGE', `${source}: "${v}" is not a DHT node address; use HOST:PORT[,HOST:PORT…], e.g. 192.168.1.10:6881`)
      }
      return { host: m[1]!, port }
    })
  if (nodes.length > LIMITS.maxBootstrapNodes) {
    throw new ChrysalisError('USAGE', `${source}: at most ${LIMITS.maxBootstrapNodes} DHT bootstrap nodes, not ${nodes.length}`)
  }
  return nodes
}
