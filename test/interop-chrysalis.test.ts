// Chrysalis to Chrysalis, whole processes on 127.0.0.1: over TCP (the BitTorrent listener on
// --bt-port; by address alone, with no hyperswarm path between the two, and after finding each other
// on hyperswarm), and over hyperswarm alone with --encrypted-only (no TCP listener at all).
import test from 'brittle'
import path from 'node:path'
import { tmpDir } from './helpers.js'
import { run } from './helpers-cli.js'
import { fetch, FOLDER, freeTcpPort, hashTree, hyperswarm, makeFiles, newHome, serve, share, tcpOpen } from './helpers-interop.js'

const NAME = 'Apple II reference'

test('interop: Chrysalis → Chrysalis over TCP, by address alone and after meeting on hyperswarm', async (t) => {
  const dir = await tmpDir(t)
  const net = await hyperswarm(t)
  const root = path.join(dir, 'src', NAME)
  const hashes = await makeFiles(root, FOLDER)
  const btPort = await freeTcpPort()
  const seeder = await newHome(dir, 'seeder', net)
  const shared = await share(seeder, root)
  await serve(t, seeder, { btPort })

  const status = await run([...seeder.args, '--json', 'status'])
  t.is(status.code, 0, `status --json through the running node ${status.stderr}`)
  const bt = (JSON.parse(status.stdout || '{}') as { bt?: { port: number | null; encryptedOnly: boolean } }).bt
  t.is(bt?.port, btPort, 'status --json: bt.port is the listener')
  t.is(bt?.encryptedOnly, false)

  // By address alone: the fetcher is on another hyperswarm network, so TCP is the only way.
  const elsewhere = await hyperswarm(t)
  const tcpOnly = await newHome(dir, 'tcpOnly', elsewhere)
  const a = await fetch(tcpOnly, shared.magnet, path.join(dir, 'a'), { peers: [`127.0.0.1:${btPort}`] })
  t.is(a.code, 0, `--peer over TCP: exit 0 ${a.stderr}`)
  t.alike(await hashTree(path.join(dir, 'a', NAME)), hashes, '--peer over TCP: the exact bytes')

  // Found on hyperswarm (the torrent's topic), the bulk data may take TCP; the bytes must be right.
  const swarm = await newHome(dir, 'swarm', net)
  const b = await fetch(swarm, shared.magnet, path.join(dir, 'b'))
  t.is(b.code, 0, `found on hyperswarm: exit 0 ${b.stderr}`)
  t.alike(await hashTree(path.join(dir, 'b', NAME)), hashes, 'found on hyperswarm: the exact bytes')
})

test('interop: Chrysalis → Chrysalis over hyperswarm alone (--encrypted-only): no TCP listener', async (t) => {
  const dir = await tmpDir(t)
  const net = await hyperswarm(t)
  const root = path.join(dir, 'src', NAME)
  const hashes = await makeFiles(root, FOLDER)
  const btPort = await freeTcpPort()
  const seeder = await newHome(dir, 'seeder', [...net, '--encrypted-only'])
  const shared = await share(seeder, root)
  await serve(t, seeder, { btPort, listens: false })

  const status = await run([...seeder.args, '--json', 'status'])
  t.is(status.code, 0, `status --json through the running node ${status.stderr}`)
  const bt = (JSON.parse(status.stdout || '{}') as { bt?: { port: number | null; encryptedOnly: boolean } }).bt
  t.is(bt?.port, null, 'status --json: bt.port null')
  t.is(bt?.encryptedOnly, true, 'status --json: bt.encryptedOnly')
  t.absent(await tcpOpen(btPort), `nothing listens on --bt-port ${btPort}`)

  const fetcher = await newHome(dir, 'fetcher', [...net, '--encrypted-only'])
  const r = await fetch(fetcher, shared.magnet, path.join(dir, 'out'))
  t.is(r.code, 0, `exit 0 ${r.stderr}`)
  t.alike(await hashTree(path.join(dir, 'out', NAME)), hashes, 'the exact bytes, over hyperswarm')
})
