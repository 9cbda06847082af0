import test from 'brittle'
import { randomBytes } from 'node:crypto'
import { isDiscoveryError } from '../src/transfer/discovery/errors.js'
import { WebSeed, checkLayout, fileUrl, pieceSpan, planRange, type WebSeedFile, type WebSeedLayout } from '../src/transfer/discovery/webseed.js'
import { webSeedServer, type WebSeedMode } from './helpers-tracker.js'

const PIECE = 16384

/** A layout from file lengths (pad: a pad file) in v1 order, or piece-aligned for v2. */
function layoutOf(name: string, multi: boolean, files: Array<{ path: string[]; length: number; pad?: boolean }>, aligned = false): WebSeedLayout {
  let offset = 0
  const out: WebSeedFile[] = []
  for (const f of files) {
    if (aligned && f.length > 0) offset = Math.ceil(offset / PIECE) * PIECE
    out.push({ ...f, offset })
    offset += f.length
  }
  return { name, multi, pieceLength: PIECE, files: out, ...(aligned ? { aligned } : {}) }
}

/** The torrent's data as a peer would hash it (v1: pads are zeros; aligned: gaps are not data). */
function dataOf(layout: WebSeedLayout, contents: Map<WebSeedFile, Buffer>): Buffer {
  const last = layout.files[layout.files.length - 1]!
  const out = Buffer.alloc(last.offset + last.length)
  for (const f of layout.files) contents.get(f)?.copy(out, f.offset)
  return out
}

function pieces(layout: WebSeedLayout): number[] {
  const out: number[] = []
  for (let i = 0; ; i++) {
    try {
      pieceSpan(layout, i)
      out.push(i)
    } catch {
      // A piece past the end (or in the gap after an aligned layout's last file) ends the list.
      if (i * PIECE >= layout.files[layout.files.length - 1]!.offset + layout.files[layout.files.length - 1]!.length) return out
    }
  }
}

/** Serves each non-pad file at its BEP 19 URL under `prefix`; returns the server and contents. */
async function serve(t: { teardown: (fn: () => unknown) => void }, layout: WebSeedLayout, prefix: string, mode?: () => WebSeedMode): Promise<{ base: string; data: Buffer; requests: Array<{ path: string; range: string | undefined }> }> {
  const contents = new Map<WebSeedFile, Buffer>()
  const files = new Map<string, Buffer>()
  for (const f of layout.files) {
    if (f.pad) continue
    const bytes = randomBytes(f.length)
    contents.set(f, bytes)
    files.set(fileUrl('http://x' + prefix, layout, f).pathname.split('/').map(decodeURIComponent).join('/'), bytes)
  }
  const server = await webSeedServer(t, files, mode)
  return { base: server.base + prefix, data: dataOf(layout, contents), requests: server.requests }
}

test('webseed: BEP 19 URLs, percent-encoded', (t) => {
  const single = layoutOf('Kaypro II manual.pdf', false, [{ path: [], length: 10 }])
  t.is(fileUrl('http://h/mirror/k.pdf', single, single.files[0]!).href, 'http://h/mirror/k.pdf', 'single file: the URL is the file')
  t.is(fileUrl('http://h/mirror/', single, single.files[0]!).href, 'http://h/mirror/Kaypro%20II%20manual.pdf', 'single file, URL ends with /: URL + name')
  const multi = layoutOf('CP/M 2.2'.replace('/', '-'), true, [{ path: ['a#b', 'c?d é.txt'], length: 10 }])
  t.is(fileUrl('http://h/m', multi, multi.files[0]!).href, 'http://h/m/CP-M%202.2/a%23b/c%3Fd%20%C3%A9.txt', 'multi-file: URL / name / path, each component encoded')
  t.is(fileUrl('http://h/m/', multi, multi.files[0]!).href, 'http://h/m/CP-M%202.2/a%23b/c%3Fd%20%C3%A9.txt')
  t.exception.all(() => checkLayout(layoutOf('x', true, [{ path: ['..', 'etc'], length: 1 }])), /cannot be part/, '".." is refused')
  t.exception.all(() => checkLayout(layoutOf('x', true, [{ path: ['%2E%2e'], length: 1 }])), /cannot be part/, 'and its percent-encoded form')
  t.exception.all(() => new WebSeed('file:///etc/', single), /only http/, 'only http(s) web seeds')
})

test('webseed: ranges map to files, pad files and gaps are zeros', (t) => {
  const v1 = layoutOf('t', true, [{ path: ['a'], length: 20000 }, { path: ['.pad', '12768'], length: 12768, pad: true }, { path: ['b'], length: 5000 }])
  t.alike(pieceSpan(v1, 2), { start: 32768, length: 5000 }, 'the last piece is short')
  t.alike(planRange(v1, 16384, 16384 + 100).map((s) => [s.file, s.fileOffset, s.length, s.at, s.zero]), [
    [0, 16384, 3616, 0, false],
    [1, 0, 12768, 3616, true],
    [2, 0, 100, 16384, false]
  ])
  const v2 = layoutOf('t', true, [{ path: ['a'], length: 20000 }, { path: ['e'], length: 0 }, { path: ['b'], length: 5000 }], true)
  t.is(v2.files[2]!.offset, 32768, 'aligned: the next file starts on a piece boundary')
  t.alike(pieceSpan(v2, 1), { start: 16384, length: 3616 }, 'aligned: a piece ends with its file')
  t.alike(pieceSpan(v2, 2), { start: 32768, length: 5000 })
  t.exception.all(() => pieceSpan(v2, 3), /not in any file/)
  t.exception.all(() => checkLayout({ ...v2, files: v2.files.map((f, i) => (i === 2 ? { ...f, offset: 30000 } : f)) }), /piece boundaries/)
  t.exception.all(() => checkLayout({ ...v1, files: v1.files.map((f, i) => (i === 2 ? { ...f, offset: 30000 } : f)) }), /contiguous/)
})

test('webseed: single file, every piece equals the file bytes', async (t) => {
  const layout = layoutOf('manual.pdf', false, [{ path: [], length: 5 * PIECE + 123 }])
  const { base, data, requests } = await serve(t, layout, '/pub/')
  const seed = new WebSeed(base, layout)
  t.teardown(() => seed.close())
  for (const i of pieces(layout)) {
    const { start, length } = pieceSpan(layout, i)
    t.alike(await seed.readPiece(i), data.subarray(start, start + length), `piece ${i}`)
  }
  t.is(requests.length, 6)
  t.is(requests[5]!.range, `bytes=${5 * PIECE}-${5 * PIECE + 122}`, 'one Range request per piece')
  t.is(seed.bytes, data.length)
  t.is(seed.state(), 'ok')

  const mirror = new WebSeed(base.replace('/pub/', '/r/pub/'), layout)
  t.teardown(() => mirror.close())
  t.alike(await mirror.readPiece(2), data.subarray(2 * PIECE, 3 * PIECE), 'through a redirect, Range kept')
  t.is(requests.at(-1)!.range, requests.at(-2)!.range)
})

test('webseed: multi-file, pieces spanning files, pad files never requested', async (t) => {
  const v1 = layoutOf('Kaypro II', true, [
    { path: ['docs', 'a b.txt'], length: 20000 },
    { path: ['docs', 'c#.bin'], length: 7 },
    { path: ['é'], length: 30000 }
  ])
  const s1 = await serve(t, v1, '/m')
  const seed1 = new WebSeed(s1.base, v1)
  t.teardown(() => seed1.close())
  for (const i of pieces(v1)) {
    const { start, length } = pieceSpan(v1, i)
    t.alike(await seed1.readPiece(i), s1.data.subarray(start, start + length), `v1 piece ${i}`)
  }
  t.ok(s1.requests.some((r) => r.path === '/m/Kaypro%20II/docs/c%23.bin'), 'a piece spanning three files asked each of them')
  t.alike(await seed1.read(19990, 20), s1.data.subarray(19990, 20010), 'any byte range')

  const hybrid = layoutOf('h', true, [
    { path: ['a'], length: 20000 },
    { path: ['.pad', '12768'], length: 12768, pad: true },
    { path: ['b'], length: 40000 },
    { path: ['.pad', '9152'], length: 9152, pad: true }
  ])
  const s2 = await serve(t, hybrid, '/h/')
  const seed2 = new WebSeed(s2.base, hybrid)
  t.teardown(() => seed2.close())
  for (const i of pieces(hybrid)) {
    const { start, length } = pieceSpan(hybrid, i)
    t.alike(await seed2.readPiece(i), s2.data.subarray(start, start + length), `hybrid piece ${i} (pads are zeros)`)
  }
  t.absent(s2.requests.some((r) => r.path.includes('.pad')), 'no pad file was requested')

  const v2 = layoutOf('v2', true, [{ path: ['a'], length: 20000 }, { path: ['b'], length: 5000 }], true)
  const s3 = await serve(t, v2, '/v2/')
  const seed3 = new WebSeed(s3.base, v2)
  t.teardown(() => seed3.close())
  for (const i of pieces(v2)) {
    const { start, length } = pieceSpan(v2, i)
    t.alike(await seed3.readPiece(i), s3.data.subarray(start, start + length), `aligned piece ${i}: one file`)
  }
  t.is(s3.requests.length, 3, 'one request per aligned piece')
})

test('webseed: a server that ignores Range is sliced from the start, refused elsewhere', async (t) => {
  const layout = layoutOf('f.bin', false, [{ path: [], length: 3 * PIECE }])
  const { base, data } = await serve(t, layout, '/f.bin', () => 'ignore-range')
  const seed = new WebSeed(base.replace(/\/f\.bin$/, '/'), layout)
  t.teardown(() => seed.close())
  t.alike(await seed.readPiece(0), data.subarray(0, PIECE), 'piece 0 from a 200 answer: the first bytes, then we hang up')
  try {
    await seed.readPiece(1)
    t.fail('accepted a whole file for piece 1')
  } catch (err) {
    t.ok(isDiscoveryError(err, 'no-range') && err.code === 'WEBSEED_FAILED', 'no Range support past the start: refused')
  }
  t.is(seed.state(), 'dropped', 'and the seed is dropped (retrying cannot help)')
})

test('webseed: too many bytes are cut off; a wrong range is refused; failures back off then drop', async (t) => {
  let mode: WebSeedMode = 'too-many'
  const layout = layoutOf('f.bin', false, [{ path: [], length: 4 * PIECE }])
  const { base, data } = await serve(t, layout, '/', () => mode)
  let now = 1000
  const seed = new WebSeed(base, layout, { now: () => now, limits: { maxFailures: 3, backoffMs: 100 } })
  t.teardown(() => seed.close())
  const kindOf = async (i: number): Promise<string> => seed.readPiece(i).then(() => 'ok', (err: unknown) => (isDiscoveryError(err) ? err.kind : String(err)))
  t.is(await kindOf(1), 'too-large', 'a body longer than the range is cut off')
  t.is(seed.state(), 'backoff')
  t.is(await kindOf(1), 'unavailable', 'resting: not asked')
  now += 100
  mode = 'wrong-range'
  t.is(await kindOf(1), 'malformed', 'a Content-Range for other bytes is refused')
  now += 199
  t.is(seed.state(), 'backoff', 'the rest doubles (200 ms)')
  now += 1
  mode = 'range'
  t.alike(await seed.readPiece(1), data.subarray(PIECE, 2 * PIECE), 'an honest answer is used')
  t.is(seed.state(), 'ok', 'and resets the count')
  mode = 'too-many'
  for (let i = 0; i < 3; i++) {
    t.is(await kindOf(2), 'too-large')
    now += 1_000_000
  }
  t.is(seed.state(), 'dropped', 'dropped after 3 failures in a row')
})

test('webseed: a bad piece (the caller verifies) drops the seed; missing files fail', async (t) => {
  const layout = layoutOf('f.bin', false, [{ path: [], length: 2 * PIECE }])
  const { base } = await serve(t, layout, '/')
  const seed = new WebSeed(base, layout)
  t.teardown(() => seed.close())
  await seed.readPiece(0)
  seed.reportBadPiece()
  t.is(seed.state(), 'dropped')
  const missing = new WebSeed(base + 'nope/', layout)
  t.teardown(() => missing.close())
  const err = await missing.readPiece(0).catch((e: unknown) => e)
  t.ok(isDiscoveryError(err, 'http-status'), '404 is a failure')
})
