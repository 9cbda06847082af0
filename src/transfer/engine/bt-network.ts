import { ChrysalisError } from '../../errors.js'
import type { BtOptions, BtStatus } from '../bt-options.js'
import { MainlineDht } from '../discovery/dht.js'
import { Connections } from './connections.js'
import { PeerFinder } from './discovery.js'
import type { Torrent } from './torrent.js'

/**
 * A node's BitTorrent side on the network, started when it goes online: the TCP listener and
 * connections (unless encrypted-only), the mainline DHT when configured, and the peer finder.
 *
 *   const bt = await BtNetwork.start({ port: 6881 }, peerId, (hash20) => torrentFor(hash20))
 *   bt.status()   // { port: 6881, encryptedOnly: false, dht: { enabled: true, nodes: 40 } }
 */
export class BtNetwork {
  readonly connections: Connections
  readonly finder: PeerFinder
  private readonly dht: MainlineDht | null
  private readonly encryptedOnly: boolean

  private constructor(connections: Connections, finder: PeerFinder, dht: MainlineDht | null, encryptedOnly: boolean) {
    this.connections = connections
    this.finder = finder
    this.dht = dht
    this.encryptedOnly = encryptedOnly
  }

  static async start(bt: BtOptions, peerId: Buffer, find: (hash20: Buffer) => Torrent | null): Promise<BtNetwork> {
    const encryptedOnly = bt.encryptedOnly === true
    const connections = new Connections({ peerId, find, encryptedOnly })
    let dht: MainlineDht | null = null
    if (!encryptedOnly) {
      try {
        await connections.listen({ port: bt.port, host: bt.host })
      } catch (err) {
        throw new ChrysalisError('IO', `cannot listen for BitTorrent peers on port ${bt.port ?? 6881} (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another with --bt-port`, { cause: err })
      }
      const config = bt.dht
      if (config?.enabled) {
        const host = bt.host ?? '0.0.0.0'
        // The DHT's UDP port is the TCP one when free (as other clients do), else any.
        dht = await MainlineDht.start({ bootstrap: config.bootstrap, host, port: connections.port ?? 0 })
          .catch(() => MainlineDht.start({ bootstrap: config.bootstrap, host, port: 0 }))
          .catch(() => null)
      }
    }
    const finder = new PeerFinder({ dht, connections, port: () => connections.port, peerId })
    return new BtNetwork(connections, finder, dht, encryptedOnly)
  }

  status(): BtStatus {
    return { port: this.connections.port, encryptedOnly: this.encryptedOnly, dht: { enabled: this.dht !== null, nodes: this.dht?.nodes().length ?? 0 } }
  }

  async close(): Promise<void> {
    this.finder.close()
    await this.connections.close()
    await this.dht?.close()
  }
}
