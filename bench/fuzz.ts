// `npm run fuzz [-- --seed N --inputs N --only NAME --repro NAME:INDEX]`: every decoder of
// untrusted bytes, fed random inputs and mutations of the test vectors (test/fixtures/*.json).
// A decoder may refuse an input only with its own error (BencodeError, DecodeError,
// ChrysalisError, WireError; decodeRecord never throws): anything else escaped and is a bug. Each input is
// made from (seed, decoder, index) alone, so `--repro` rebuilds any one of them.
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ChrysalisError } from '../src/errors.js'
import { DecodeError } from '../src/codec/primitives.js'
import { decodeRecord } from '../src/feeds/records.js'
import * as net from '../src/net/messages.js'
import { BencodeError, decode, encode, type BValue } from '../src/transfer/bencode.js'
import { inspectTorrent, parseTorrent } from '../src/transfer/metainfo.js'
import { readMagnet } from '../src/transfer/magnet.js'
import records from '../test/fixtures/records.json' with { type: 'json' }
import messages from '../test/fixtures/messages.json' with { type: 'json' }
import torrents from '../test/fixtures/torrents.json' with { type: 'json' }
import trackers from '../test/fixtures/trackers.json' with { type: 'json' }
import { parseAnnounceResponse as parseHttpAnnounce } from '../src/transfer/discovery/http-tracker.js'
import * as udp from '../src/transfer/discovery/udp-tracker.js'
import wire from '../test/fixtures/wire.json' with { type: 'json' }
import { WireError } from '../src/transfer/wire/errors.js'
import { decodeExtendedHandshake, decodeMetadataMessage } from '../src/transfer/wire/extension.js'
import { Framer } from '../src/transfer/wire/framer.js'
import { decodeMessage } from '../src/transfer/wire/messages.js'

interface Target {
  name: string
  /** Inputs the mutations start from. */
  seeds: Buffer[]
  /** Throws only on a bug: expected refusals are caught by fuzz(); `false` is a refusal too. */
  decode(bytes: Buffer): boolean | void
  /** Its seeds are bencode: also mutate their decoded trees (values that parse but mean harm). */
  bencode?: boolean
}

const hex = (h: string): Buffer => Buffer.from(h, 'hex')
const torrentSeeds = torrents.torrents.flatMap((t) => [hex(t.torrent), hex(t.info)])
const udpSeeds = [trackers.udp.connectResponse, trackers.udp.announceResponse4, trackers.udp.announceResponse6, trackers.udp.error].map(hex)
/** The transaction id as the packet states it, so mutations get past the id check. */
const txOf = (b: Buffer): number => (b.length >= 8 ? b.readUInt32BE(4) : 0)
const fixture = (rel: string): Buffer => fs.readFileSync(new URL(`../test/fixtures/${rel}`, import.meta.url))
// v1, v2 and hybrid torrents made by libtorrent, and a few of its own test torrents.
const anySeeds = [
  ...['folder-v1', 'folder-v2', 'folder-hybrid', 'single-hybrid'].map((n) => fixture(`lt-made/${n}.torrent`)),
  // Canonical bencode only: the tree mutations decode their seeds strictly.
  ...['sample', 'symlink2', 'v2_symlinks'].map((n) => fixture(`libtorrent-torrents/${n}.torrent`))
]
const magnetSeeds = (JSON.parse(fixture('lt-made/vectors.json').toString('utf-8')) as { torrents: Array<{ magnet: string }> }).torrents
  .map((t) => Buffer.from(`${t.magnet}&x.pe=[::1]:6881&x.pe=127.0.0.1:51413&xl=71000&xt.2=urn:btih:PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTUB`))
// The handshake followed by every message, and each message alone after a handshake.
/** A chrysalis/v1 message's vectors, those of a later revision (flags, appended fields) included. */
const netSeeds = (codec: 'hello' | 'notify' | 'ack'): Buffer[] => [...messages[codec], ...messages.future.filter((m) => m.codec === codec)].map((m) => hex(m.hex))
const wireHandshake = hex(wire.handshake.hex)
const wireSeeds = [Buffer.concat([wireHandshake, ...wire.messages.map((m) => hex(m.hex))]), ...wire.messages.map((m) => Buffer.concat([wireHandshake, hex(m.hex)]))]

/** A BitTorrent byte stream through the framer and the codec, as a PeerWire reads it. */
function wireStream(b: Buffer): void {
  const ctx = { pieceCount: wire.pieceCount }
  const framer = new Framer({ onHandshake: () => {}, onFrame: (id, payload) => void decodeMessage(id, payload, ctx) }, ctx)
  // In two chunks, so the mutations also meet the framer's chunk boundaries.
  const cut = b.length >> 1
  framer.push(b.subarray(0, cut))
  framer.push(b.subarray(cut))
}

/** Every decoder that reads bytes from someone else. */
export const TARGETS: Target[] = [
  {
    name: 'bencode',
    seeds: [...torrentSeeds, Buffer.from('d1:ai1e1:bl0:i-5edeee')],
    bencode: true,
    decode: (b) => {
      const { value } = decode(b)
      // Canonical both ways: whatever decodes re-encodes to the very same bytes.
      if (!encode(value).equals(b)) throw new Error('decode → encode changed the bytes')
    }
  },
  { name: 'metainfo', seeds: torrentSeeds, bencode: true, decode: (b) => void parseTorrent(b) },
  { name: 'metainfo.any', seeds: [...torrentSeeds, ...anySeeds], bencode: true, decode: (b) => void inspectTorrent(b) },
  { name: 'magnet', seeds: magnetSeeds, decode: (b) => void readMagnet(b.toString('utf-8')) },
  {
    name: 'records',
    seeds: records.records.map((r) => hex(r.hex)),
    decode: (b) => {
      const r = decodeRecord(b)
      if (typeof r.ok !== 'boolean') throw new Error('decodeRecord returned no verdict')
      return r.ok
    }
  },
  { name: 'net.hello', seeds: netSeeds('hello'), decode: (b) => void net.hello.decode(b) },
  { name: 'net.notify', seeds: netSeeds('notify'), decode: (b) => void net.notify.decode(b) },
  { name: 'net.ack', seeds: netSeeds('ack'), decode: (b) => void net.ack.decode(b) },
  { name: 'tracker.http', seeds: [hex(trackers.http.response), hex(trackers.http.nonCompact)], bencode: true, decode: (b) => void parseHttpAnnounce(b) },
  { name: 'tracker.udp.connect', seeds: udpSeeds, decode: (b) => void udp.parseConnectResponse(b, txOf(b)) },
  { name: 'tracker.udp.announce4', seeds: udpSeeds, decode: (b) => void udp.parseAnnounceResponse(b, txOf(b), 4) },
  { name: 'tracker.udp.announce6', seeds: udpSeeds, decode: (b) => void udp.parseAnnounceResponse(b, txOf(b), 6) },
  { name: 'wire.stream', seeds: wireSeeds, decode: wireStream },
  { name: 'wire.extendedHandshake', seeds: [hex(wire.extendedHandshake.hex)], bencode: true, decode: (b) => void decodeExtendedHandshake(b) },
  { name: 'wire.metadata', seeds: wire.metadata.map((m) => hex(m.hex)), decode: (b) => void decodeMetadataMessage(b) }
]

/** mulberry32: small, fast, and the same everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One input's own generator: seed, decoder and index mixed (FNV-1a). */
function inputRng(seed: number, target: number, index: number): () => number {
  let h = 0x811c9dc5
  for (const n of [seed, target, index]) {
    for (let i = 0; i < 4; i++) h = Math.imul(h ^ ((n >>> (8 * i)) & 0xff), 0x01000193)
  }
  return prng(h)
}

// Bytes that mean something to one of the decoders: bencode's structure, uint markers, digits.
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff, 0x64, 0x6c, 0x69, 0x65, 0x3a, 0x30, 0x31, 0x39, 0x2d]

function randomBytes(r: () => number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) out[i] = r() < 0.3 ? INTERESTING[Math.floor(r() * INTERESTING.length)]! : Math.floor(r() * 256)
  return out
}

/** A random, mostly well-formed bencode value: reaches deep into the decoders. */
function randomBencode(r: () => number, depth = 0): string {
  const k = r()
  if (depth > 4 || k < 0.3) return `i${Math.floor((r() - 0.5) * 2 ** (r() * 60))}e`
  if (k < 0.6) {
    const s = randomBytes(r, Math.floor(r() * 8)).toString('latin1')
    return `${s.length}:${s}`
  }
  const n = Math.floor(r() * 5)
  if (k < 0.8) return `l${Array.from({ length: n }, () => randomBencode(r, depth + 1)).join('')}e`
  const keys = [...new Set(Array.from({ length: n }, () => ['', 'info', 'length', 'name', 'piece length', 'file tree', 'pieces root', 'meta version', 'piece layers'][Math.floor(r() * 9)]!))].sort()
  return `d${keys.map((key) => `${key.length}:${key}${randomBencode(r, depth + 1)}`).join('')}e`
}

function mutate(r: () => number, input: Buffer, seeds: Buffer[]): Buffer {
  let b = Buffer.from(input)
  const pick = (n: number): number => Math.floor(r() * n)
  for (let rounds = 1 + pick(4); rounds > 0; rounds--) {
    const at = pick(b.length + 1)
    switch (pick(8)) {
      case 0: // bit flip
        if (b.length > 0) b[at % b.length]! ^= 1 << pick(8)
        break
      case 1: // an interesting byte
        if (b.length > 0) b[at % b.length] = INTERESTING[pick(INTERESTING.length)]!
        break
      case 2: // truncation
        b = b.subarray(0, at)
        break
      case 3: // splice with another seed
        b = Buffer.concat([b.subarray(0, at), seeds[pick(seeds.length)]!.subarray(pick(64))])
        break
      case 4: {
        // length inflation: a bencode length or a compact uint made huge
        const big = r() < 0.5 ? Buffer.from(String(10 ** (1 + pick(12)))) : Buffer.from([0xfd + pick(3), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])
        b = Buffer.concat([b.subarray(0, at), big, b.subarray(Math.min(b.length, at + 1 + pick(3)))])
        break
      }
      case 5: {
        // a duplicated segment
        const len = pick(Math.min(64, b.length - at + 1))
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)])
        break
      }
      case 6: // random bytes inserted
        b = Buffer.concat([b.subarray(0, at), randomBytes(r, 1 + pick(8)), b.subarray(at)])
        break
      default: // a segment deleted
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + pick(16))])
    }
  }
  return b
}

const INTS = [0, 1, -1, 2, 16383, 16384, 32768, 2 ** 24, 2 ** 44, 2 ** 44 + 1, 2 ** 53 - 1, -(2 ** 53 - 1)]
const NAMES = ['', '.', '..', 'a/b', 'CON', 'a\\b', 'x'.repeat(256), '\u0000', 'é', 'pieces root', 'length', '']

/** A decoded tree changed in one place: a number, a string, a key, a value dropped or added. */
function mutateTree(r: () => number, v: BValue, depth = 0): BValue {
  const pick = (n: number): number => Math.floor(r() * n)
  const here = r() < 0.25 || depth > 8
  if (typeof v === 'number') return here ? INTS[pick(INTS.length)]! : v
  if (Buffer.isBuffer(v)) {
    if (!here) return v
    return r() < 0.5 ? Buffer.from(NAMES[pick(NAMES.length)]!, 'utf-8') : randomBytes(r, [0, 20, 31, 32, 33, 64][pick(6)]!)
  }
  if (Array.isArray(v)) {
    if (here && v.length > 0) return r() < 0.5 ? v.slice(1) : [...v, v[pick(v.length)]!]
    return v.map((x) => (r() < 0.5 ? mutateTree(r, x, depth + 1) : x))
  }
  const out = new Map(v)
  const keys = [...out.keys()]
  if (here && keys.length > 0) {
    const k = keys[pick(keys.length)]!
    const what = pick(3)
    if (what === 0) out.delete(k)
    else if (what === 1) out.set(Buffer.from(NAMES[pick(NAMES.length)]!, 'utf-8').toString('latin1'), out.get(k)!)
    else out.set(k, INTS[pick(INTS.length)]!)
    return out
  }
  for (const k of keys) if (r() < 0.5) out.set(k, mutateTree(r, out.get(k)!, depth + 1))
  return out
}

/** The input number `index` for a target: random bytes, random bencode, or a mutated vector. */
export function makeInput(seed: number, targetIndex: number, index: number): Buffer {
  const target = TARGETS[targetIndex]!
  const r = inputRng(seed, targetIndex, index)
  const kind = r()
  if (kind < 0.15) return randomBytes(r, Math.floor(r() * 64))
  if (kind < 0.25) return Buffer.from(randomBencode(r), 'latin1')
  if (target.bencode && kind < 0.6) {
    const seed = target.seeds[Math.floor(r() * target.seeds.length)]!
    let tree = decode(seed).value
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) tree = mutateTree(r, tree)
    return encode(tree)
  }
  return mutate(r, target.seeds[Math.floor(r() * target.seeds.length)]!, target.seeds)
}

const expected = (err: unknown): boolean => err instanceof BencodeError || err instanceof DecodeError || err instanceof ChrysalisError || err instanceof WireError

export interface TargetStats {
  name: string
  inputs: number
  refused: number
  escaped: number
  slowestMs: number
  slowestIndex: number
  /** The slowest input decoded again, median of five: its own cost, without the machine's noise. */
  slowestAgainMs: number
  ms: number
}

export interface FuzzResult {
  seed: number
  targets: TargetStats[]
  /** The first few escaped exceptions, enough to reproduce each. */
  escapes: Array<{ target: string; index: number; error: string; input: string }>
  peakRssBytes: number
  peakHeapBytes: number
  ms: number
}

export function fuzz(opts: { seed: number; inputs: number; only?: string }): FuzzResult {
  const started = performance.now()
  const escapes: FuzzResult['escapes'] = []
  let peakRss = 0
  let peakHeap = 0
  const sample = (): void => {
    const m = process.memoryUsage()
    peakRss = Math.max(peakRss, m.rss)
    peakHeap = Math.max(peakHeap, m.heapUsed)
  }
  const targets: TargetStats[] = []
  TARGETS.forEach((target, ti) => {
    if (opts.only && target.name !== opts.only) return
    const stats: TargetStats = { name: target.name, inputs: 0, refused: 0, escaped: 0, slowestMs: 0, slowestIndex: -1, slowestAgainMs: 0, ms: 0 }
    const t0 = performance.now()
    for (let i = 0; i < opts.inputs; i++) {
      const input = makeInput(opts.seed, ti, i)
      const s = performance.now()
      try {
        if (target.decode(input) === false) stats.refused++
      } catch (err) {
        if (expected(err)) stats.refused++
        else {
          stats.escaped++
          if (escapes.length < 10) escapes.push({ target: target.name, index: i, error: String((err as Error)?.stack ?? err).split('\n').slice(0, 3).join(' | '), input: input.subarray(0, 256).toString('hex') })
        }
      }
      const took = performance.now() - s
      if (took > stats.slowestMs) {
        stats.slowestMs = took
        stats.slowestIndex = i
      }
      stats.inputs++
      if ((i & 1023) === 0) sample()
    }
    stats.ms = performance.now() - t0
    if (stats.slowestIndex !== -1) stats.slowestAgainMs = timeAgain(target, makeInput(opts.seed, ti, stats.slowestIndex))
    sample()
    targets.push(stats)
  })
  return { seed: opts.seed, targets, escapes, peakRssBytes: Math.max(peakRss, process.resourceUsage().maxRSS * 1024), peakHeapBytes: peakHeap, ms: performance.now() - started }
}

function timeAgain(target: Target, input: Buffer): number {
  const times: number[] = []
  for (let k = 0; k < 5; k++) {
    const s = performance.now()
    try {
      target.decode(input)
    } catch {
      // refused or escaped: counted in the run, only the time matters here
    }
    times.push(performance.now() - s)
  }
  return times.sort((a, b) => a - b)[2]!
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seed = Number(arg('seed') ?? process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0
  const repro = arg('repro')
  if (repro) {
    const [name, index] = repro.split(':')
    const ti = TARGETS.findIndex((t) => t.name === name)
    if (ti === -1) throw new Error(`no decoder named ${name}; decoders: ${TARGETS.map((t) => t.name).join(', ')}`)
    const input = makeInput(seed, ti, Number(index))
    console.log(`seed ${seed} ${name}:${index} input ${input.toString('hex')}`)
    TARGETS[ti]!.decode(input)
    console.log('decoded without error')
  } else {
    const inputs = Number(arg('inputs') ?? 100_000)
    const only = arg('only')
    console.log(`chrysalis fuzz · seed ${seed} · ${inputs} inputs per decoder · node ${process.version}`)
    const r = fuzz({ seed, inputs, ...(only ? { only } : {}) })
    const w = Math.max(...r.targets.map((t) => t.name.length))
    console.log(`${'decoder'.padEnd(w)}  ${'inputs'.padStart(8)} ${'refused'.padStart(8)} ${'escaped'.padStart(8)} ${'slowest'.padStart(10)} ${'again'.padStart(9)}  ${'total'.padStart(7)}`)
    for (const t of r.targets) {
      console.log(`${t.name.padEnd(w)}  ${String(t.inputs).padStart(8)} ${String(t.refused).padStart(8)} ${String(t.escaped).padStart(8)} ${`${t.slowestMs.toFixed(2)} ms`.padStart(10)} ${`${t.slowestAgainMs.toFixed(2)} ms`.padStart(9)}  ${`${(t.ms / 1000).toFixed(1)} s`.padStart(7)}   (slowest: --repro ${t.name}:${t.slowestIndex})`)
    }
    for (const e of r.escapes) console.log(`ESCAPED ${e.target}:${e.index} (--seed ${seed} --repro ${e.target}:${e.index}): ${e.error}\n  input ${e.input}`)
    const total = r.targets.reduce((a, t) => a + t.inputs, 0)
    const escaped = r.targets.reduce((a, t) => a + t.escaped, 0)
    console.log(`${total} inputs, ${escaped} escaped exceptions, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB, peak heap ${(r.peakHeapBytes / 2 ** 20).toFixed(0)} MiB, ${(r.ms / 1000).toFixed(1)} s`)
    process.exitCode = escaped > 0 ? 1 : 0
  }
}
