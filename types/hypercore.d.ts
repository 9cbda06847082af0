// Narrow shims for the Holepunch modules: typed to the calls Chrysalis makes, nothing more.
declare module 'hypercore' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'
  import type Protomux from 'protomux'

  export interface KeyPair {
    publicKey: Buffer
    secretKey: Buffer
  }
  export interface Manifest {
    version?: number
    signers: Array<{ publicKey: Buffer; namespace?: Buffer; signature?: 'ed25519' }>
  }
  export interface CoreGetOptions {
    wait?: boolean
    timeout?: number
    valueEncoding?: 'binary'
  }
  export interface DownloadRange {
    start?: number
    end?: number
    blocks?: number[]
    linear?: boolean
  }
  export interface Download {
    done(): Promise<void>
    destroy(): void
  }
  /** hypercore-storage's CorestoreStorage (RocksDB); options reach rocksdb-native. */
  export interface CoreStorage {
    readonly path: string
  }
  export default class Hypercore extends EventEmitter {
    constructor(storage: string, key?: Buffer | null, opts?: { valueEncoding?: 'binary' })
    static defaultStorage(dir: string, opts?: { writeBufferSize?: number }): CoreStorage
    static key(manifest: Manifest | Buffer): Buffer
    static discoveryKey(key: Buffer): Buffer
    readonly key: Buffer
    readonly discoveryKey: Buffer
    readonly id: string
    readonly length: number
    readonly contiguousLength: number
    readonly byteLength: number
    readonly writable: boolean
    readonly readable: boolean
    readonly closed: boolean
    readonly peers: Array<{ remotePublicKey: Buffer }>
    ready(): Promise<void>
    close(): Promise<void>
    append(block: Buffer | Buffer[]): Promise<{ length: number; byteLength: number }>
    get(index: number, opts?: CoreGetOptions): Promise<Buffer | null>
    has(start: number, end?: number): Promise<boolean>
    update(opts?: { wait?: boolean; force?: boolean }): Promise<boolean>
    download(range?: DownloadRange): Download
    findingPeers(): () => void
    /** A Protomux: attach this core to that connection's muxer. */
    replicate(isInitiator: boolean | Duplex | Protomux, opts?: { keepAlive?: boolean }): Duplex
    session(opts?: object): Hypercore
    info(opts?: { storage?: boolean }): Promise<{ length: number; contiguousLength: number; byteLength: number }>
  }
}

declare module 'corestore' {
  import type { Duplex } from 'node:stream'
  import type Hypercore from 'hypercore'
  import type { CoreStorage, KeyPair } from 'hypercore'

  export type GetOptions =
    | { name: string; exclusive?: boolean }
    | { key: Buffer; exclusive?: boolean }
    | { keyPair: KeyPair; exclusive?: boolean }

  export default class Corestore {
    /** `active: false`: open cores are not offered on every replication stream (they are attached one by one). */
    constructor(storage: string | CoreStorage, opts?: { primaryKey?: Buffer; readOnly?: boolean; active?: boolean })
    get(opts: GetOptions): Hypercore
    replicate(isInitiator: boolean | Duplex, opts?: object): Duplex
    namespace(name: string): Corestore
    findingPeers(): () => void
    ready(): Promise<void>
    close(): Promise<void>
  }
}

declare module 'hyperbee' {
  import type Hypercore from 'hypercore'

  export type Encoding = 'binary' | 'utf-8' | 'json'
  export interface Entry<K, V> {
    seq: number
    key: K
    value: V
  }
  export interface Range<K> {
    gt?: K
    gte?: K
    lt?: K
    lte?: K
  }
  export interface ReadOptions {
    reverse?: boolean
    limit?: number
    wait?: boolean
    timeout?: number
  }
  export interface DiffEntry<K, V> {
    left: Entry<K, V> | null
    right: Entry<K, V> | null
  }
  export interface HistoryEntry<K, V> extends Entry<K, V> {
    type: 'put' | 'del'
  }
  export interface Batch<K, V> {
    put(key: K, value?: V): Promise<void>
    del(key: K): Promise<void>
    get(key: K): Promise<Entry<K, V> | null>
    flush(): Promise<void>
    close(): Promise<void>
  }
  export default class Hyperbee<K = Buffer, V = Buffer> {
    constructor(core: Hypercore, opts?: { keyEncoding?: Encoding; valueEncoding?: Encoding })
    readonly core: Hypercore
    readonly version: number
    readonly writable: boolean
    ready(): Promise<void>
    close(): Promise<void>
    put(key: K, value?: V): Promise<void>
    get(key: K, opts?: { wait?: boolean; timeout?: number; update?: boolean }): Promise<Entry<K, V> | null>
    del(key: K): Promise<void>
    peek(range?: Range<K>, opts?: ReadOptions): Promise<Entry<K, V> | null>
    batch(): Batch<K, V>
    checkout(version: number): Hyperbee<K, V>
    snapshot(): Hyperbee<K, V>
    createReadStream(range?: Range<K>, opts?: ReadOptions): AsyncIterable<Entry<K, V>>
    createDiffStream(otherVersion: number, rangeAndOptions?: Range<K> & { wait?: boolean; timeout?: number }): AsyncIterable<DiffEntry<K, V>>
    createHistoryStream(opts?: { gte?: number; gt?: number; lte?: number; lt?: number; reverse?: boolean; limit?: number }): AsyncIterable<HistoryEntry<K, V>>
  }
}

declare module 'z32' {
  const z32: {
    encode(buf: Uint8Array): string
    decode(s: string): Buffer
  }
  export default z32
}
