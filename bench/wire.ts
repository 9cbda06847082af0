// `node --import tsx bench/wire.ts [MiB]`: the peer wire alone (src/transfer/wire/), two processes on
// 127.0.0.1: a seeder answering 16 KiB requests from memory, a downloader keeping QUEUE requests in
// flight. No disk, no hashing: the wire's own ceiling and CPU cost per GiB. A measurement, not a test.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { PeerWire, type WireTorrent } from '../src/transfer/wire/peer.js'

const BLOCK = 16384
const QUEUE = 500
const PIECE = 256 * 1024
const torrent = (pieces: number): WireTorrent => ({ infohash: Buffer.alloc(20, 7), pieceCount: pieces })

if (process.argv[2] === 'seed') {
  const data = Buffer.alloc(PIECE, 0x5a)
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    const peer = new PeerWire(socket, { peerId: Buffer.alloc(20, 1), resolve: () => torrent(Number(process.argv[3])) })
    peer.on('handshake', () => peer.haveAll())
    peer.on('interested', () => peer.unchoke())
    peer.on('request', (m) => peer.piece(m.index, m.begin, data.subarray(m.begin, m.begin + m.length)))
    peer.on('close', () => {
      const cpu = process.cpuUsage()
      process.send!({ cpu: (cpu.user + cpu.system) / 1e6 }, () => process.exit(0))
    })
  })
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }))
} else {
  const mib = Number(process.argv[2] ?? 512)
  const pieces = (mib * 1024 * 1024) / PIECE
  const child = fork(new URL(import.meta.url).pathname, ['seed', String(pieces)], { execArgv: ['--import', 'tsx'] })
  const [{ port }] = (await once(child, 'message')) as [{ port: number }]
  const socket = net.connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await once(socket, 'connect')
  const peer = new PeerWire(socket, { peerId: Buffer.alloc(20, 2), torrent: torrent(pieces) })
  const total = pieces * (PIECE / BLOCK)
  let sent = 0
  let got = 0
  let bytes = 0
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const ask = (): void => {
    while (sent < total && sent - got < QUEUE) {
      const i = sent++
      peer.request(Math.floor(i / (PIECE / BLOCK)), (i % (PIECE / BLOCK)) * BLOCK, BLOCK)
    }
  }
  const done = new Promise<void>((resolve) =>
    peer.on('piece', (m) => {
      bytes += m.block.length
      if (++got === total) resolve()
      else ask()
    })
  )
  peer.on('unchoke', ask)
  peer.once('handshake', () => peer.interested())
  await done
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  const seederCpu = once(child, 'message') as Promise<[{ cpu: number }]>
  peer.destroy()
  const [{ cpu: sCpu }] = await seederCpu
  const gib = bytes / 2 ** 30
  console.log(`wire ${mib} MiB: ${(bytes / 2 ** 20 / secs).toFixed(0)} MiB/s; CPU s/GiB downloader ${((cpu.user + cpu.system) / 1e6 / gib).toFixed(2)}, seeder ${(sCpu / gib).toFixed(2)}`)
}
