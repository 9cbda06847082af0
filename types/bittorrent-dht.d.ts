// Narrow shim for bittorrent-dht 11 (BEP 5 over k-rpc): typed to the calls Chrysalis makes
// (src/transfer/discovery/dht.ts). Read node_modules/bittorrent-dht/client.js and k-rpc/index.js
// before widening it.
declare module 'bittorrent-dht' {
  import type { EventEmitter } from 'node:events'

  export interface DhtContact {
    host: string
    port: number
  }

  /**
   * The options we pass. They flow unchanged to k-rpc and k-rpc-socket: `bootstrap` (false or a
   * list; k-rpc falls back to its public routers when it is undefined), `socket` (the UDP socket
   * k-rpc-socket uses instead of creating one), `concurrency` (queries in flight), `timeout`
   * (per query, ms). `maxPeers`, `maxTables`, `maxValues` bound the stores of bittorrent-dht.
   */
  export interface DhtOptions {
    bootstrap: false | DhtContact[]
    socket?: import('node:dgram').Socket
    concurrency?: number
    timeout?: number
    maxPeers?: number
    maxTables?: number
    maxValues?: number
  }

  export default class DHT extends EventEmitter<{
    ready: []
    listening: []
    close: []
    error: [Error]
    warning: [Error]
    node: [DhtContact]
    /** A peer for `infoHash`, from a get_peers reply (`from`) or our own store (`from` null). */
    peer: [DhtContact, Buffer, DhtContact | null]
    /** Someone announced `peer` for `infoHash` to us. */
    announce: [DhtContact, Buffer, DhtContact]
  }> {
    constructor(opts: DhtOptions)
    readonly listening: boolean
    readonly destroyed: boolean
    readonly nodeId: Buffer
    /** Internal (k-rpc): read only to check that our bootstrap list is the one in use. */
    readonly _rpc: { readonly bootstrap: DhtContact[] }
    listen(port: number, host: string): void
    address(): { address: string; family: string; port: number }
    addNode(node: DhtContact): void
    announce(infoHash: Buffer, port: number, cb: (err: Error | null) => void): void
    /** Peers arrive as 'peer' events; cb runs when the traversal ends. Returns an abort function. */
    lookup(infoHash: Buffer, cb: (err: Error | null, visited?: number) => void): () => void
    toJSON(): { nodes: DhtContact[] }
    destroy(cb?: () => void): void
  }
}
