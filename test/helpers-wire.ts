// Loopback sockets and fixtures for the BitTorrent wire tests.
import crypto from 'node:crypto'
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import createTestnet from 'hyperdht/testnet.js'
import Hyperswarm from 'hyperswarm'
import type { Message } from '../src/transfer/wire/messages.js'
import type { PeerWire, PeerWireEvents } from '../src/transfer/wire/peer.js'
import type { Test } from './helpers.js'

/**
 * A connected TCP pair on 127.0.0.1, destroyed when the test ends; `highWaterMark` for the
 * accepted side's write buffer (as connections.ts sets it).
 */
export async function socketPair(t: Test, opts: { highWaterMark?: number } = {}): Promise<[net.Socket, net.Socket]> {
  const server = opts.highWaterMark === undefined ? net.createServer() : net.createServer({ highWaterMark: opts.highWaterMark })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const client = net.connect(port, '127.0.0.1')
  await once(client, 'connect')
  const [socket] = await accepted
  server.close()
  t.teardown(() => {
    client.destroy()
    socket.destroy()
  })
  return [client, socket]
}

/** Two raw connections over hyperswarm on a loopback testnet: [client, server]. */
export async function hyperswarmPair(t: Test): Promise<[Duplex, Duplex]> {
  const testnet = await createTestnet(3, (fn, o) => t.teardown(fn, o))
  const a = new Hyperswarm({ dht: testnet.createNode() })
  const b = new Hyperswarm({ dht: testnet.createNode() })
  t.teardown(async () => {
    await a.destroy()
    await b.destroy()
  }, { order: -1 })
  const conns = Promise.all([once(a, 'connection'), once(b, 'connection')]) as Promise<[[Duplex], [Duplex]]>
  const topic = crypto.randomBytes(32)
  await b.join(topic, { server: true, client: false }).flushed()
  a.join(topic, { server: false, client: true })
  const [[ca], [cb]] = await conns
  return [ca, cb]
}

export interface WireVectors {
  pieceCount: number
  handshake: { hex: string; infohash: string; peerId: string; caps: Record<string, boolean> }
  extendedHandshake: { hex: string; m: Record<string, number>; metadataSize: number; p: number; reqq: number; v: string; yourip: string }
  metadata: Array<{ hex: string; message: Record<string, unknown> }>
  messages: Array<{ name: string; hex: string; message: Record<string, unknown> }>
}

export const VECTORS = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'wire.json'), 'utf-8')) as WireVectors

const BUFFER_FIELDS = new Set(['bits', 'block', 'payload', 'root', 'hashes', 'data'])

/** A vector's JSON message with its hex fields as Buffers. */
export function revive<T = Message>(m: Record<string, unknown>): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(m)) out[k] = BUFFER_FIELDS.has(k) ? Buffer.from(v as string, 'hex') : v
  return out as T
}

/** The arguments of a PeerWire's next `event`, typed. */
export function next<K extends keyof PeerWireEvents>(peer: PeerWire, event: K): Promise<PeerWireEvents[K]> {
  return once(peer, event) as Promise<PeerWireEvents[K]>
}
