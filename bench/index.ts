// `npm run bench`: measurements, not tests. Numbers go into the issue notes, never into asserts.
import os from 'node:os'
import { appendRate, remoteNewest, type Row } from './feeds.js'
import { networkBench } from './network.js'
import { transferBench } from './transfer.js'
import { tuiBench } from './tui.js'
import { homeSizeBench } from './home-size.js'
import { btMatrix } from './bt-matrix.js'
import { followingBench } from './following.js'


const rows: Row[] = []
console.log(`chrysalis bench · node ${process.version} · ${os.cpus().length} cores · ${os.cpus()[0]?.model ?? ''}`)
rows.push(...(await tuiBench()))
rows.push(...(await appendRate(2000)))
rows.push(...(await remoteNewest(10_000, 50)))
rows.push(...(await networkBench()))
rows.push(...(await followingBench(1000, 100))) // issue 13: one node following 1,000 feeds
rows.push(...(await transferBench(512, 3)))
rows.push(...(await btMatrix())) // BENCH_BT_MIB (default 512), BENCH_BT_RUNS (3), BENCH_BT_ONLY
rows.push(...(await homeSizeBench(50)))

const width = Math.max(...rows.map((r) => r.what.length))
for (const r of rows) console.log(`${r.what.padEnd(width)}  ${r.value}`)
