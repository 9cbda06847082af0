// lastAtOrBefore: the one binary search behind fileOfPiece, PieceMap.spans and the web seed's
// file lookup, checked against a linear scan on random non-decreasing keys.
import test from 'brittle'
import { lastAtOrBefore } from '../src/transfer/sorted.js'

function linear(keys: number[], x: number): number {
  let last = 0
  for (let i = 0; i < keys.length; i++) if (keys[i]! <= x) last = i
  return last
}

test('lastAtOrBefore: the last key at or before x, as a linear scan finds it', (t) => {
  let mismatches = 0
  for (let round = 0; round < 500; round++) {
    const keys: number[] = []
    let k = 0
    for (let n = Math.floor(Math.random() * 20) + 1; n > 0; n--) keys.push((k += Math.floor(Math.random() * 3))) // repeats: empty files
    for (let x = -1; x <= k + 1; x++) if (lastAtOrBefore(keys.length, (i) => keys[i]!, x) !== linear(keys, x)) mismatches++
  }
  t.is(mismatches, 0, '500 random key lists, every position')
  t.is(lastAtOrBefore(0, () => 0, 5), 0, 'no keys: 0')
  t.is(lastAtOrBefore(3, (i) => [0, 10, 10][i]!, 10), 2, 'equal keys: the last of them')
})
