/**
 * Searching what is kept in order: file offsets, first pieces. One binary search, so each place
 * that maps a position to a file says only what its keys are.
 *
 *   const i = lastAtOrBefore(files.length, (i) => files[i]!.offset, pos)   // the file holding pos
 */

/**
 * The last index i in [0, count) whose key is at or before `x`, for keys that never decrease;
 * 0 when none is (or count is 0). `keyAt` is called O(log count) times.
 */
export function lastAtOrBefore(count: number, keyAt: (i: number) => number, x: number): number {
  let lo = 0
  let hi = count - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (keyAt(mid) <= x) lo = mid
    else hi = mid - 1
  }
  return lo
}
