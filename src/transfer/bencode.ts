/**
 * Bencode (BEP 3), strict and byte-exact, for BEP 52 metainfo: the infohash is the hash of the
 * info dictionary's bytes exactly as they appear, so both directions must be canonical.
 *
 * - Strings are raw bytes (Buffer): names need not be UTF-8 and must not be mangled.
 * - Dictionary keys are sorted by raw bytes (not UTF-16, the mistake of the `bencode` package),
 *   and kept in a Map: no prototype keys, no `__proto__` surprises.
 * - The decoder refuses unsorted or duplicate keys, leading zeros, `-0`, trailing bytes, and every
 *   length, count or depth above its bounds, before allocating.
 * - decode() can report where a top-level key's value lies, so a caller hashes `info` as it came.
 *
 *   const bytes = encode(new Map([[Buffer.from('name'), Buffer.from('kaypro.pdf')]]))
 *   const { value, spans } = decode(bytes, { spans: ['info'] })
 */
export type BValue = number | Buffer | BValue[] | BDict
export type BDict = Map<string, BValue>

export class BencodeError extends Error {
  readonly offset: number
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`)
    this.name = 'BencodeError'
    this.offset = offset
  }
}

export interface DecodeLimits {
  /** Largest string, in bytes. */
  maxString: number
  /** Most items in one list or dictionary. */
  maxItems: number
  /** Deepest nesting of lists and dictionaries. */
  maxDepth: number
}

export const DEFAULT_LIMITS: DecodeLimits = { maxString: 64 * 1024 * 1024, maxItems: 1_000_000, maxDepth: 64 }

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

export interface Decoded {
  value: BValue
  /** [start, end) of the values of the requested top-level dictionary keys. */
  spans: Map<string, [number, number]>
}

export function decode(bytes: Uint8Array, opts: { spans?: string[]; limits?: Partial<DecodeLimits> } = {}): Decoded {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const limits = { ...DEFAULT_LIMITS, ...opts.limits }
  const want = new Set((opts.spans ?? []).map(key))
  const spans = new Map<string, [number, number]>()
  let pos = 0

  const read = (depth: number): BValue => {
    if (pos >= buf.length) throw new BencodeError('unexpected end', pos)
    const c = buf[pos]!
    if (c === 0x69 /* i */) return readInt()
    if (c >= 0x30 && c <= 0x39) return readString()
    if (depth >= limits.maxDepth) throw new BencodeError(`nesting deeper than ${limits.maxDepth}`, pos)
    if (c === 0x6c /* l */) {
      pos++
      const list: BValue[] = []
      while (peek() !== 0x65) {
        if (list.length >= limits.maxItems) throw new BencodeError(`more than ${limits.maxItems} items`, pos)
        list.push(read(depth + 1))
      }
      pos++
      return list
    }
    if (c === 0x64 /* d */) {
      pos++
      const dict: BDict = new Map()
      let prev: string | null = null
      while (peek() !== 0x65) {
        if (dict.size >= limits.maxItems) throw new BencodeError(`more than ${limits.maxItems} items`, pos)
        const at = pos
        if (peek() < 0x30 || peek() > 0x39) throw new BencodeError('dictionary key is not a string', pos)
        const k = key(readString())
        if (prev !== null && k <= prev) throw new BencodeError(k === prev ? 'duplicate key' : 'keys not sorted by bytes', at)
        prev = k
        const start = pos
        dict.set(k, read(depth + 1))
        if (depth === 0 && want.has(k)) spans.set(k, [start, pos])
      }
      pos++
      return dict
    }
    throw new BencodeError(`unexpected byte 0x${c.toString(16)}`, pos)
  }

  const peek = (): number => {
    if (pos >= buf.length) throw new BencodeError('unexpected end', pos)
    return buf[pos]!
  }

  const readInt = (): number => {
    const start = ++pos
    const end = buf.indexOf(0x65, start)
    if (end === -1) throw new BencodeError('unterminated integer', start)
    const text = buf.toString('latin1', start, end)
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) throw new BencodeError(`non-canonical integer "${text.slice(0, 20)}"`, start)
    const n = Number(text)
    if (!Number.isSafeInteger(n)) throw new BencodeError('integer out of range', start)
    pos = end + 1
    return n
  }

  const readString = (): Buffer => {
    const start = pos
    const colon = buf.indexOf(0x3a, start)
    if (colon === -1 || colon - start > 12) throw new BencodeError('bad string length', start)
    const text = buf.toString('latin1', start, colon)
    if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new BencodeError(`non-canonical string length "${text}"`, start)
    const len = Number(text)
    if (len > limits.maxString) throw new BencodeError(`string of ${len} bytes is above the limit`, start)
    if (colon + 1 + len > buf.length) throw new BencodeError('string runs past the end', start)
    pos = colon + 1 + len
    return buf.subarray(colon + 1, pos)
  }

  const value = read(0)
  if (pos !== buf.length) throw new BencodeError(`${buf.length - pos} trailing bytes`, pos)
  return { value, spans }
}
