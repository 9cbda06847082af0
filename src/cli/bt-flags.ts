/**
 * The BitTorrent flags as parsed from the command line, kept apart from their checking
 * (bt-config.ts) so the terminal UI reads them before the network stack is loaded.
 *
 *   btFlagsOf(parseArgs({ args, options }).values)  // → { btPort: '6881', encryptedOnly: false, … }
 */
export interface BtFlags {
  /** --bt-port */
  btPort?: string
  /** --encrypted-only */
  encryptedOnly?: boolean
  /** --bt-bootstrap (repeatable, each comma-separated) */
  btBootstrap?: readonly string[]
  /** --no-bt-dht */
  noBtDht?: boolean
}

/** The options every command takes for the BitTorrent side (node:util parseArgs specs). */
export const BT_OPTIONS = {
  'bt-port': { type: 'string' },
  'encrypted-only': { type: 'boolean' },
  'bt-bootstrap': { type: 'string', multiple: true },
  'no-bt-dht': { type: 'boolean' }
} as const

/** The BitTorrent flags among parsed options. */
export function btFlagsOf(values: Record<string, unknown>): BtFlags {
  const port = values['bt-port']
  const nodes = values['bt-bootstrap']
  return {
    ...(typeof port === 'string' ? { btPort: port } : {}),
    encryptedOnly: values['encrypted-only'] === true,
    btBootstrap: Array.isArray(nodes) ? nodes.filter((x): x is string => typeof x === 'string') : [],
    noBtDht: values['no-bt-dht'] === true
  }
}
