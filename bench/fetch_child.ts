// The fetching side of the transfer bench: a node in its own process, on the loopback testnet
// given as HOST:PORT, fetching MAGNET into OUT. Prints {seconds, bytes} (fetch call to verified).
import { parseBootstrap } from '../src/net/dht.js'
import { ChrysalisNode } from '../src/node/node.js'

const [home, bootstrap, magnet, out] = process.argv.slice(2) as [string, string, string, string]
const nodes = parseBootstrap([bootstrap])
if (!nodes.every((n) => n.host === '127.0.0.1')) throw new Error('loopback only')
const node = await ChrysalisNode.open({ home })
await node.online({ bootstrap: nodes })
const [target] = await node.files.resolve(magnet)
const t0 = performance.now()
const view = await node.files.fetch(target!, { out })
const seconds = (performance.now() - t0) / 1000
await node.close()
console.log(JSON.stringify({ seconds, bytes: view.size }))
