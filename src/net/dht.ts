import HyperDHT, { type DhtNodeAddress } from 'hyperdht'
import createTestnet from 'hyperdht/testnet.js'
import { ChrysalisError } from '../errors.js'

/**
 * `--bootstrap HOST:PORT` (repeatable) or CHRYSALIS_BOOTSTRAP (comma-separated). Without either,
 * the public HyperDHT bootstrap nodes are used.
 */
export function parseBootstrap(values: string[]): DhtNodeAddress[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => {
      const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(v)
      const port = m ? Number(m[2]) : NaN
      if (!m || port < 1 || port > 65535) {
        throw new ChrysalisError('USAGE', `"${v}" is not a bootstrap address; use HOST:PORT, e.g. 127.0.0.1:49737`)
      }
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port }
    })
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * The DHT node for a swarm. With only loopback bootstrap nodes (tests, a private network on one
 * machine) it binds to 127.0.0.1 and reports itself reachable, which is what lets nodes in
 * separate processes connect on loopback (holepunch.md §7.6): a DHT bound to all interfaces would
 * advertise the machine's external address and its connections time out.
 */
export function createDht(bootstrap: DhtNodeAddress[] | null): HyperDHT {
  if (bootstrap === null) return new HyperDHT()
  if (bootstrap.length > 0 && bootstrap.every((b) => isLoopback(b.host))) {
    return new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false, ephemeral: true })
  }
  return new HyperDHT({ bootstrap })
}

/**
 * A small DHT for others to bootstrap from (`chrysalis bootstrap`): three persistent nodes in this
 * process, the first listening on HOST:PORT. One node alone accepts announcements but lookups
 * through it find nothing (measured here: 0 of 3 across processes); three behave like a network.
 */
export async function startBootstrap(opts: { host: string; port: number }): Promise<{ address: DhtNodeAddress; destroy: () => Promise<void> }> {
  const testnet = await createTestnet(3, { host: opts.host, port: opts.port })
  const first = testnet.nodes[0]!.address()
  return { address: { host: opts.host, port: first.port }, destroy: () => testnet.destroy() }
}
