/**
 * Bencode (BEP 3), strict and byte-exact, for BEP 52 metainfo: the infohash is the hash of the
 * info dictionary's bytes exactly as they appear, so both directions must be canonical.
 *
 * - Strings are raw bytes (Buffer): names need not be UTF-8 and must not be mangled.
 * - Dictionary keys are sorted by raw bytes (not UTF-16, the mistake of the `bencode` package),
 *   and kept in a Map: no prototype keys, no `__proto__` surprises.
 * - The decoder refuses unsorted or duplicate keys, leading zeros, `-0`, trailing bytes, and every
 *   size, length, count, depth or total number of values above its bounds, before allocating
 *   (BencodeError.limit says which bound).
 * - Metainfo from the wild is not always canonical where it does no harm: DecodeRules relax key
 *   order (duplicates stay refused: which value would count?) and trailing bytes after the value,
 *   for the parts of a .torrent outside the hashed `info` bytes and a v1 info (protocol.md §12).
 * - decode() can report where a top-level key's value lies, so a caller hashes `info` as it came;
 *   scanDict() checks a whole dictionary and reports its entries without building any value, so
 *   a caller decodes only the entries it needs (protocol.md §12.1).
 *
 *   const bytes = encode(new Map([[Buffer.from('name'), Buffer.from('kaypro.pdf')]]))
 *   const { value, spans } = decode(bytes, { spans: ['info'] })
 */
export type BValue = number | Buffer | BValue[] | BDict
export type BDict = Map<string, BValue>

/** Which bound an input broke, for callers (and tests) that tell a flood from a typo. */
export type BencodeLimit = 'bytes' | 'nodes' | 'string' | 'items' | 'depth'

/** Bytes that are not bencode as this module takes it: which rule or limit they broke. */
export class BencodeError extends Error {
  readonly offset: number
  /** The limit the input broke, or null when it is simply malformed. */
  readonly limit: BencodeLimit | null
  constructor(message: string, offset: number, limit: BencodeLimit | null = null) {
    super(`${message} at byte ${offset}`)
    this.name = 'BencodeError'
    this.offset = offset
    this.limit = limit
  }
}

/**
 * Bounds on a decode, all checked before the thing they bound is allocated. `maxNodes` counts
 * every value and every dictionary key (an empty dictionary is one node, `d1:ai1ee` three): it is
 * what bounds the memory of a decode, since 12 MiB of `de` would otherwise be six million Maps.
 */
export interface DecodeLimits {
  /** Largest input, in bytes. */
  maxBytes: number
  /** Most values and dictionary keys in the whole input. */
  maxNodes: number
  /** Largest string, in bytes (never more than the bytes left in the input either). */
  maxString: number
  /** Most items in one list or dictionary. */
  maxItems: number
  /** Deepest nesting of lists and dictionaries. */
  maxDepth: number
}

export const DEFAULT_LIMITS: DecodeLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxNodes: 1_000_000,
  maxString: 16 * 1024 * 1024,
  maxItems: 1_000_000,
  maxDepth: 64
}

/** Dictionary keys are held as latin1 strings: one char per byte, so byte order = string order. */
export function key(k: string | Uint8Array): string {
  return typeof k === 'string' ? Buffer.from(k, 'utf-8').toString('latin1') : Buffer.from(k).toString('latin1')
}

export function keyBytes(k: string): Buffer {
  return Buffer.from(k, 'latin1')
}

export function encode(value: BValue): Buffer {
  const chunks: Buffer[] = []
  write(value, chunks)
  return Buffer.concat(chunks)
}

function write(v: BValue, out: Buffer[]): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RangeError(`bencode integers must be safe integers, not ${v}`)
    out.push(Buffer.from(`i${v}e`, 'latin1'))
  } else if (Buffer.isBuffer(v)) {
    out.push(Buffer.from(`${v.byteLength}:`, 'latin1'), v)
  } else if (Array.isArray(v)) {
    out.push(Buffer.from('l', 'latin1'))
    for (const item of v) write(item, out)
    out.push(Buffer.from('e', 'latin1'))
  } else {
    out.push(Buffer.from('d', 'latin1'))
    // latin1 strings compare exactly like their bytes.
    for (const k of [...v.keys()].sort()) {
      const kb = keyBytes(k)
      out.push(Buffer.from(`${kb.byteLength}:`, 'latin1'), kb)
      write(v.get(k)!, out)
    }
    out.push(Buffer.from('e', 'latin1'))
  }
}

/** Relaxations of the canonical form, all off by default. */
export interface DecodeRules {
  /** Accept dictionary keys in any order (duplicates are still refused). */
  anyOrder?: boolean
  /** Accept bytes after the value (ignored). */
  trailing?: boolean
}

export interface Decoded {
  value: BValue
  /** [start, end) of the values of the requested top-level dictionary keys. */
  spans: Map<string, [number, number]>
}

export function decode(bytes: Uint8Array, opts: { spans?: string[]; limits?: Partial<DecodeLimits>; rules?: DecodeRules } = {}): Decoded {
  const want = new Set((opts.spans ?? []).map(key))
  const spans = new Map<string, [number, number]>()
  const p = new Parser(bytes, { ...DEFAULT_LIMITS, ...opts.limits }, opts.rules)
  const value = p.value(0, true, (k, start, end) => {
    if (want.has(k)) spans.set(k, [start, end])
  })!
  p.finish()
  return { value, spans }
}

/**
 * Check a whole top-level dictionary under the same rules and bounds as decode(), without
 * building any value: `onEntry` learns each key and where its value lies as soon as that value
 * has been read, in key order, so a caller can check one entry (hash `info`) before the parser
 * goes on to the next. Decode the entries it needs afterwards, from their spans.
 *
 *   scanDict(bytes, { maxNodes: 1_000_000 }, (k, start, end) => { if (k === 'info') check(start, end) })
 */
export function scanDict(bytes: Uint8Array, limits: Partial<DecodeLimits>, onEntry: (k: string, start: number, end: number) => void, rules: DecodeRules = {}): void {
  const p = new Parser(bytes, { ...DEFAULT_LIMITS, ...limits }, rules)
  if (bytes.byteLength > 0 && bytes[0] !== 0x64) throw new BencodeError('not a dictionary', 0)
  p.value(0, false, onEntry)
  p.finish()
}

/**
 * One value at the start of `bytes`, and where it ends: for framings that put raw bytes after a
 * bencoded dictionary (BEP 9 ut_metadata data). Same rules and bounds as decode().
 *
 *   const { value, end } = decodePrefix(payload, { maxNodes: 32 })   // payload.subarray(end): the data
 */
export function decodePrefix(bytes: Uint8Array, limits: Partial<DecodeLimits>): { value: BValue; end: number } {
  const p = new Parser(bytes, { ...DEFAULT_LIMITS, ...limits })
  const value = p.value(0, true)!
  return { value, end: p.offset }
}

class Parser {
  private readonly buf: Buffer
  private readonly limits: DecodeLimits
  private readonly rules: DecodeRules
  private pos = 0
  private nodes = 0
  /** Where the bytes of the last string read begin. */
  private keyStart = 0

  constructor(bytes: Uint8Array, limits: DecodeLimits, rules: DecodeRules = {}) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.limits = limits
    this.rules = rules
    if (bytes.byteLength > limits.maxBytes) throw new BencodeError(`input of ${bytes.byteLength} bytes is above the ${limits.maxBytes}-byte limit`, 0, 'bytes')
  }

  get offset(): number {
    return this.pos
  }

  finish(): void {
    if (this.rules.trailing) return
    if (this.pos !== this.buf.length) throw new BencodeError(`${this.buf.length - this.pos} trailing bytes`, this.pos)
  }

  /**
   * One value. With `build` false nothing is allocated: strings are skipped, keys compared in
   * place. `onTop` hears each top-level dictionary entry once its value has been read.
   */
  value(depth: number, build: boolean, onTop?: (k: string, start: number, end: number) => void): BValue | undefined {
    const buf = this.buf
    const c = this.peek()
    this.node()
    if (c === 0x69 /* i */) return this.int(build)
    if (c >= 0x30 && c <= 0x39) return this.string(build)
    if (depth >= this.limits.maxDepth) throw new BencodeError(`nesting deeper than ${this.limits.maxDepth}`, this.pos, 'depth')
    if (c === 0x6c /* l */) {
      this.pos++
      const list: BValue[] | undefined = build ? [] : undefined
      let n = 0
      while (this.peek() !== 0x65) {
        if (n++ >= this.limits.maxItems) throw new BencodeError(`more than ${this.limits.maxItems} items`, this.pos, 'items')
        const v = this.value(depth + 1, build)
        if (list) list.push(v!)
      }
      this.pos++
      return list
    }
    if (c === 0x64 /* d */) {
      this.pos++
      const dict: BDict | undefined = build ? new Map() : undefined
      let n = 0
      let prevStart = -1
      let prevEnd = -1
      // Any order: the keys seen so far, to refuse a duplicate wherever it comes.
      const seen = this.rules.anyOrder ? new Set<string>() : null
      while (this.peek() !== 0x65) {
        if (n++ >= this.limits.maxItems) throw new BencodeError(`more than ${this.limits.maxItems} items`, this.pos, 'items')
        const at = this.pos
        if (this.peek() < 0x30 || this.peek() > 0x39) throw new BencodeError('dictionary key is not a string', at)
        this.node()
        this.string(false)
        const kStart = this.keyStart
        const kEnd = this.pos
        if (seen) {
          const k = buf.toString('latin1', kStart, kEnd)
          if (seen.has(k)) throw new BencodeError('duplicate key', at)
          seen.add(k)
        } else if (prevStart !== -1) {
          const order = buf.compare(buf, prevStart, prevEnd, kStart, kEnd)
          if (order <= 0) throw new BencodeError(order === 0 ? 'duplicate key' : 'keys not sorted by bytes', at)
        }
        prevStart = kStart
        prevEnd = kEnd
        const start = this.pos
        const v = this.value(depth + 1, build)
        if (dict || (depth === 0 && onTop)) {
          const k = buf.toString('latin1', kStart, kEnd)
          if (dict) dict.set(k, v!)
          if (depth === 0 && onTop) onTop(k, start, this.pos)
        }
      }
      this.pos++
      return dict
    }
    throw new BencodeError(`unexpected byte 0x${c.toString(16)}`, this.pos)
  }

  private node(): void {
    if (++this.nodes > this.limits.maxNodes) throw new BencodeError(`more than ${this.limits.maxNodes} values`, this.pos, 'nodes')
  }

  private peek(): number {
    if (this.pos >= this.buf.length) throw new BencodeError('unexpected end', this.pos)
    return this.buf[this.pos]!
  }

  private int(build: boolean): number | undefined {
    const buf = this.buf
    const start = ++this.pos
    // A canonical integer is at most 17 characters ("-" and 16 digits of a safe integer).
    const end = buf.subarray(start, Math.min(buf.length, start + 18)).indexOf(0x65)
    if (end === -1) throw new BencodeError(start + 18 <= buf.length ? 'integer out of range' : 'unterminated integer', start)
    const text = buf.toString('latin1', start, start + end)
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) throw new BencodeError(`non-canonical integer "${text.slice(0, 20)}"`, start)
    const n = Number(text)
    if (!Number.isSafeInteger(n)) throw new BencodeError('integer out of range', start)
    this.pos = start + end + 1
    return build ? n : undefined
  }

  private string(build: boolean): Buffer | undefined {
    const buf = this.buf
    const start = this.pos
    const colon = buf.subarray(start, Math.min(buf.length, start + 13)).indexOf(0x3a)
    if (colon <= 0) throw new BencodeError('bad string length', start)
    const text = buf.toString('latin1', start, start + colon)
    if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new BencodeError(`non-canonical string length "${text}"`, start)
    const len = Number(text)
    if (len > this.limits.maxString) throw new BencodeError(`string of ${len} bytes is above the limit`, start, 'string')
    const from = start + colon + 1
    if (from + len > buf.length) throw new BencodeError('string runs past the end', start)
    this.keyStart = from
    this.pos = from + len
    return build ? buf.subarray(from, this.pos) : undefined
  }
}
