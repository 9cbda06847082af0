import type { BtDhtConfig } from './discovery/dht-config.js'

/**
 * How a node speaks BitTorrent to the world (the CLI builds it from flags, the environment and
 * HOME/config.json). The node API's defaults are the safe ones for tests: no mainline DHT unless
 * a config says so.
 */
export interface BtOptions {
  /**
   * TCP port for incoming BitTorrent peers (`--bt-port`, CHRYSALIS_BT_PORT). Undefined: 6881,
   * falling back to a free port when it is taken; 0: any free port.
   */
  port?: number
  /** Address the TCP listener binds (default '0.0.0.0'; tests pass '127.0.0.1'). */
  host?: string
  /**
   * Keep every file transfer on hyperswarm connections (encrypted): no TCP listener, no outgoing
   * TCP, no mainline DHT or tracker announces (`--encrypted-only`).
   */
  encryptedOnly?: boolean
  /** The mainline DHT (btDhtConfig()); default off. */
  dht?: BtDhtConfig
  /** Trackers named in the magnets and .torrents of what this node shares. */
  trackers?: string[]
}

/** What `status` shows of the BitTorrent side. */
export interface BtStatus {
  /** TCP port in use for incoming peers; null when none (encrypted-only, or offline). */
  port: number | null
  encryptedOnly: boolean
  /** Mainline DHT: on or off, and nodes in its routing table. */
  dht: { enabled: boolean; nodes: number }
}
