// A network that does not answer: going online and closing must not hang on the DHT.
import test from 'brittle'
import dgram from 'node:dgram'
import { makeNode } from './helpers.js'
import { untilDeadline } from '../src/node/deadline.js'

test('offline: online() and close() return with a DHT that never answers; the timeline is there all along', async (t) => {
  // A bound UDP port on 127.0.0.1 that reads nothing: the bootstrap node that never answers.
  const silent = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())))
  const node = await makeNode(t, 'Ada')
  await node.post({ text: 'Kaypro II manual, 1982' })

  const online = node.online({ bootstrap: [{ host: '127.0.0.1', port: silent.address().port }], bt: { host: '127.0.0.1', port: 0 }, waitMs: 1000 })
  t.ok((await untilDeadline(online.then(() => true), Date.now() + 8000)) === true, 'online() returned (it waited 1 s for the DHT, then went on in the background)')
  t.is(node.status().online, true)
  t.alike((await node.timeline()).posts.map((p) => p.text), ['Kaypro II manual, 1982'], 'reading never waited for the network')
  t.ok((await untilDeadline(node.close().then(() => true), Date.now() + 8000)) === true, 'close() returned: unannouncing is bounded')
})
