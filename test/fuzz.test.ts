// A short seeded run of `npm run fuzz` (bench/fuzz.ts): every decoder of remote bytes, random and
// mutated inputs; a decoder may refuse, never throw anything but its own error.
import test from 'brittle'
import { TARGETS, fuzz } from '../bench/fuzz.js'

test('fuzz: 2,000 inputs per decoder, seed 11, no exception escapes', (t) => {
  const r = fuzz({ seed: 11, inputs: 2000 })
  t.is(r.targets.length, TARGETS.length, `${TARGETS.map((d) => d.name).join(', ')}`)
  for (const d of r.targets) t.is(d.escaped, 0, `${d.name}: ${d.inputs} inputs, ${d.refused} refused, slowest ${d.slowestMs.toFixed(1)} ms`)
  for (const e of r.escapes) t.comment(`escaped ${e.target}:${e.index}: ${e.error}`)
  t.comment(`${(r.ms / 1000).toFixed(1)} s, peak heap ${Math.round(r.peakHeapBytes / 2 ** 20)} MiB`)
})
