// The world around a follower (bench/following.ts), in its own process so that the follower's
// RSS is its own: a loopback DHT testnet and `online` authors, each with its own store
// (AUTHORS_DIR/I) and swarm (on one shared DHT node) announcing its feed, as a Chrysalis node
// does. Lines on stdin: `post I` appends a post to author I's feed and answers `posted I`.
//
//   node --import tsx bench/following_world.ts AUTHORS_DIR SEEDS_JSON ONLINE
import fs from 'node:fs/promises'
import path from 'node:path'
import readline from 'node:readline'
import Corestore from 'corestore'
import createTestnet from 'hyperdht/testnet.js'
import { Identity } from '../src/identity/keys.js'
import { OwnFeed } from '../src/feeds/feed.js'
import { Network } from '../src/net/network.js'

const [seedDir, seedsFile, onlineArg] = process.argv.slice(2)
const seeds = JSON.parse(await fs.readFile(seedsFile!, 'utf8')) as string[]
const online = Number(onlineArg)
const testnet = await createTestnet(3)
const dht = testnet.createNode()
dht.setMaxListeners(0) // one listener per swarm
const authors: OwnFeed[] = []
await Promise.all(
  seeds.slice(0, online).map(async (hex, i) => {
    const id = Identity.fromSeed(Buffer.from(hex, 'hex'))
    const store = new Corestore(path.join(seedDir!, String(i)))
    const feed = new OwnFeed(store.get({ keyPair: id.keyPair() }), id.publicKey)
    await feed.ready()
    authors[i] = feed
    const net: Network = new Network({ keyPair: id.keyPair(), store, dht, hello: () => ({ name: `Author ${i}`, bio: '', topics: [] }) })
    await net.joinFeed(feed.core.discoveryKey)
  })
)
console.log(JSON.stringify({ bootstrap: testnet.bootstrap }))
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.split(' ')
  if (cmd === 'post') {
    const i = Number(arg)
    await authors[i]!.post({ text: `news from author ${i} at ${Date.now()}`, topics: [], mentions: [], attachments: [] })
    console.log(`posted ${i}`)
  }
}
