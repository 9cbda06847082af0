import test from 'brittle'
import { createHash } from 'node:crypto'
import { decode, decodePrefix, encode, key, type BDict, type BValue } from '../src/transfer/bencode.js'

const b = (s: string): Buffer => Buffer.from(s, 'utf-8')

test('bencode: canonical encoding, keys sorted by bytes not UTF-16', (t) => {
  t.is(encode(42).toString(), 'i42e')
  t.is(encode(-7).toString(), 'i-7e')
  t.is(encode(0).toString(), 'i0e')
  t.is(encode(b('spam')).toString(), '4:spam')
  t.is(encode([1, b('a')]).toString(), 'li1e1:ae')
  // U+1F600 (F0 9F 98 80) sorts before U+FF21 (EF BC A1) in UTF-16, after it in bytes.
  const dict: BDict = new Map([
    [key('😀.txt'), 1],
    [key('Ａ.txt'), 2]
  ])
  t.alike(encode(dict), b('d7:Ａ.txti2e8:😀.txti1ee'), 'Ａ (EF BC A1) before 😀 (F0 9F 98 80)')
})

test('bencode: round trip of raw bytes, including non-UTF-8 and __proto__ keys', (t) => {
  const value: BValue = new Map<string, BValue>([
    [key('__proto__'), b('x')],
    [key(Buffer.from([0xff, 0xfe])), Buffer.from([0xc3, 0x28])],
    [key('list'), [0, -1, 9007199254740991, new Map()]]
  ])
  const bytes = encode(value)
  t.alike(encode(decode(bytes).value), bytes, 'decode → encode gives the same bytes')
  const back = decode(bytes).value as BDict
  t.alike(back.get(key(Buffer.from([0xff, 0xfe]))), Buffer.from([0xc3, 0x28]), 'non-UTF-8 survives')
  t.alike(back.get(key('__proto__')), b('x'), '__proto__ is an ordinary key')
})

test('bencode: the raw info span hashes exactly as it came', (t) => {
  const info = encode(new Map<string, BValue>([[key('name'), b('kaypro.pdf')], [key('piece length'), 16384]]))
  const torrent = Buffer.concat([b('d4:info'), info, b('1:zi1ee')])
  const { spans } = decode(torrent, { spans: ['info'] })
  const [start, end] = spans.get(key('info'))!
  t.alike(torrent.subarray(start, end), info)
  t.is(createHash('sha256').update(torrent.subarray(start, end)).digest('hex'), createHash('sha256').update(info).digest('hex'))
})

test('bencode: strict decoding refuses non-canonical and hostile input', (t) => {
  const bad: Array<[string, RegExp]> = [
    ['i01e', /non-canonical integer/],
    ['i-0e', /non-canonical integer/],
    ['ie', /non-canonical integer/],
    ['i1', /unterminated/],
    ['03:abc', /non-canonical string length/],
    ['5:abc', /past the end/],
    ['d1:bi1e1:ai2ee', /not sorted/],
    ['d1:ai1e1:ai2ee', /duplicate key/],
    ['di1ei2ee', /key is not a string/],
    ['i1ei2e', /trailing bytes/],
    ['l', /unexpected end/],
    ['x', /unexpected byte/],
    ['i99999999999999999999e', /out of range/]
  ]
  for (const [input, pattern] of bad) t.exception(() => decode(b(input)), pattern, input)
  t.exception(() => decode(b('l'.repeat(100) + 'e'.repeat(100))), /nesting deeper/)
  t.exception(() => decode(b('99999999999:')), /above the limit|bad string length|past the end/)
  t.exception(() => decode(b('li1ei2ei3ee'), { limits: { maxItems: 2 } }), /more than 2 items/)
})

test('bencode: decodePrefix reads one value and says where the raw bytes after it begin', (t) => {
  const bytes = b('d8:msg_typei1e5:piecei0eeRAW DATA')
  const { value, end } = decodePrefix(bytes, {})
  t.is(bytes.subarray(end).toString(), 'RAW DATA')
  t.is((value as BDict).get('piece'), 0)
  t.exception(() => decodePrefix(b('d1:bi1e1:ai2eeXX'), {}), /not sorted/, 'the same rules as decode')
  t.exception(() => decodePrefix(b('d1:ai1e1:bi2eeXX'), { maxNodes: 3 }), /more than 3 values/, 'the same budgets')
  t.exception(() => decodePrefix(b('d1:ai1e'), {}), /unexpected end/)
})
