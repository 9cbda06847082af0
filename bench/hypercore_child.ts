// The downloading side of bench/hypercore_transfer.ts, in its own process:
//   node --import tsx bench/hypercore_child.ts KEY_HEX LENGTH HOST:PORT[,HOST:PORT...]
// Joins the core's discovery key on a loopback DHT (every bootstrap address must be loopback; the
// DHT binds to 127.0.0.1), downloads all LENGTH blocks into a fresh corestore and prints one JSON
// line: { connectMs, seconds, blocks, bytes }. connectMs: join → first peer with the length known;
// seconds: from there to every block stored and verified.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import { createDht, isLoopback, parseBootstrap } from '../src/net/dht.js'

async function main(): Promise<void> {
  const [keyHex, lengthArg, bootstrapArg] = process.argv.slice(2)
  if (keyHex === undefined || lengthArg === undefined || bootstrapArg === undefined) {
    throw new Error('usage: hypercore_child.ts KEY_HEX LENGTH HOST:PORT[,HOST:PORT...]')
  }
  const expected = Number(lengthArg)
  const bootstrap = parseBootstrap([bootstrapArg])
  if (bootstrap.length === 0 || !bootstrap.every((b) => isLoopback(b.host))) {
    throw new Error(`loopback bootstrap only, got ${bootstrapArg}`)
  }

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chrysalis-bench-hc-child-'))
  const store = new Corestore(path.join(dir, 'store'))
  const swarm = new Hyperswarm({ dht: createDht(bootstrap) })
  try {
    swarm.on('connection', (conn) => {
      conn.on('error', () => {})
      store.replicate(conn)
    })
    const core = store.get({ key: Buffer.from(keyHex, 'hex') })
    await core.ready()

    const t0 = performance.now()
    const found = core.findingPeers()
    swarm.join(core.discoveryKey, { server: false, client: true })
    swarm.flush().then(found, found)
    const deadline = Date.now() + 30_000
    while (core.length < expected) {
      if (Date.now() > deadline) throw new Error(`no peer with ${expected} blocks after 30 s (length ${core.length})`)
      await core.update({ wait: true })
      if (core.length < expected) await new Promise((r) => setTimeout(r, 50))
    }
    const t1 = performance.now()
    await core.download({ start: 0, end: expected }).done()
    const t2 = performance.now()
    if (core.contiguousLength < expected) throw new Error(`contiguousLength ${core.contiguousLength} < ${expected}`)
    console.log(JSON.stringify({ connectMs: t1 - t0, seconds: (t2 - t1) / 1000, blocks: expected, bytes: core.byteLength }))
  } finally {
    await swarm.destroy()
    await store.close()
    await fs.rm(dir, { recursive: true, force: true })
  }
}

await main()
