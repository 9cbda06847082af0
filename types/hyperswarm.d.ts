// Narrow shims for hyperswarm, hyperdht and protomux: typed to the calls Chrysalis makes.
declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events'
  export interface DhtNodeAddress {
    host: string
    port: number
  }
  export interface DhtOptions {
    bootstrap?: DhtNodeAddress[]
    host?: string
    port?: number
    ephemeral?: boolean
    firewalled?: boolean
  }
  export default class HyperDHT extends EventEmitter {
    constructor(opts?: DhtOptions)
    ready(): Promise<void>
    fullyBootstrapped(): Promise<void>
    address(): { host: string; port: number }
    destroy(opts?: { force?: boolean }): Promise<void>
    readonly destroyed: boolean
    /** A query stream: each reply lists peers announcing the topic at one DHT node. */
    lookup(topic: Buffer): AsyncIterable<{ peers: Array<{ publicKey: Buffer }> }> & { destroy(): void }
  }
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'
  import type { DhtNodeAddress, DhtOptions } from 'hyperdht'
  export interface Testnet {
    nodes: HyperDHT[]
    bootstrap: DhtNodeAddress[]
    createNode(opts?: DhtOptions): HyperDHT
    destroy(): Promise<void>
  }
  export default function createTestnet(
    size?: number,
    opts?: ((fn: () => unknown, opts?: { order?: number }) => void) | { teardown?: (fn: () => unknown) => void; host?: string; port?: number }
  ): Promise<Testnet>
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  import type HyperDHT from 'hyperdht'
  import type { KeyPair } from 'hypercore'
  import type { Duplex } from 'node:stream'

  export interface SwarmConnection extends Duplex {
    readonly remotePublicKey: Buffer
    readonly publicKey: Buffer
    readonly isInitiator: boolean
    readonly rawStream?: { remoteHost?: string }
  }
  export interface PeerInfo {
    readonly publicKey: Buffer
    readonly topics: Buffer[]
    readonly client: boolean
  }
  export interface Discovery {
    flushed(): Promise<boolean>
    refresh(opts?: { server?: boolean; client?: boolean }): Promise<void>
    destroy(): Promise<void>
  }
  export default class Hyperswarm extends EventEmitter<{
    connection: [SwarmConnection, PeerInfo]
    update: []
  }> {
    constructor(opts: { keyPair?: KeyPair; dht?: HyperDHT; maxPeers?: number; firewall?: (remotePublicKey: Buffer) => boolean })
    readonly keyPair: KeyPair
    readonly dht: HyperDHT
    readonly connections: Set<SwarmConnection>
    readonly connecting: number
    join(topic: Buffer, opts?: { server?: boolean; client?: boolean }): Discovery
    leave(topic: Buffer): Promise<void>
    joinPeer(publicKey: Buffer): void
    leavePeer(publicKey: Buffer): void
    listen(): Promise<void>
    flush(): Promise<boolean>
    /** Leave every topic, waiting for each unannounce. */
    clear(): Promise<void>
    /** `force`: without leaving topics first (no unannounce round trips). */
    destroy(opts?: { force?: boolean }): Promise<void>
  }
}

declare module 'protomux' {
  import type { Duplex } from 'node:stream'

  /** Structurally compact-encoding's encoder (its type is not exported). */
  export interface Encoder<T> {
    preencode(state: { start: number; end: number; buffer: Uint8Array | null }, value: T): void
    encode(state: { start: number; end: number; buffer: Uint8Array | null }, value: T): void
    decode(state: { start: number; end: number; buffer: Uint8Array | null }): T
  }

  export interface Message<T> {
    send(value: T): boolean
  }
  /** `H`: what the channel's handshake encoding carries (raw bytes unless one is given). */
  export interface Channel<H = Uint8Array> {
    readonly opened: boolean
    readonly closed: boolean
    readonly messages: Array<Message<Uint8Array>>
    /** False while the connection's write buffer is full (wait for ondrain). */
    readonly drained: boolean
    open(handshake?: H): void
    close(): void
    /** Append a message type (numbered in the order added); its encoding frames what is sent and received. */
    addMessage<T>(opts: { encoding: Encoder<T>; onmessage: (m: T) => void }): Message<T>
  }
  export interface ChannelOptions<H = Uint8Array> {
    protocol: string
    id?: Buffer | null
    unique?: boolean
    handshake?: Encoder<H>
    messages?: Array<{ encoding: Encoder<Uint8Array>; onmessage: (m: Uint8Array) => void }>
    onopen?: (handshake: H) => void
    onclose?: (isRemote: boolean) => void
    ondestroy?: () => void
    ondrain?: () => void
  }
  export default class Protomux {
    static from(stream: Duplex): Protomux
    readonly stream: Duplex
    createChannel<H = Uint8Array>(opts: ChannelOptions<H>): Channel<H> | null
    /** Be asked (`notify(id)`) when the remote opens a channel of `protocol` (any id when id is null). */
    pair(opts: { protocol: string; id?: Buffer | null }, notify: (id: Buffer) => void | Promise<void>): void
    unpair(opts: { protocol: string; id?: Buffer | null }): void
    opened(opts: { protocol: string; id?: Buffer | null }): boolean
  }
}
