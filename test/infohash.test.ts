// The one infohash reader: every form it takes gives the same bytes, every other text is refused
// with BAD_INPUT and one line, and readMagnet reads its xt values through it.
import test from 'brittle'
import { isChrysalisError } from '../src/errors.js'
import { parseInfohash, xtInfohash } from '../src/transfer/infohash.js'
import { readMagnet } from '../src/transfer/magnet.js'

const V1 = '7c2d958d8800eb3afd6122b78dd467c668764e81'
const V2 = '3cf7f99733a0c4bb38ebe58b4c71e6f889e019533cd19cf2780dceb88042d87e'
/** V1 in RFC 4648 base32 (as `base64.b32encode(bytes.fromhex(V1))` writes it). */
const V1_BASE32 = 'PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTUB'

function hex(h: { v1: Buffer | null; v2: Buffer | null }): [string | null, string | null] {
  return [h.v1?.toString('hex') ?? null, h.v2?.toString('hex') ?? null]
}

test('parseInfohash: 40 hex, 64 hex, base32, urn:btih and urn:btmh, either case', (t) => {
  t.alike(hex(parseInfohash(V1)), [V1, null], '40 hex: v1')
  t.alike(hex(parseInfohash(V1.toUpperCase())), [V1, null], '40 HEX: v1')
  t.alike(hex(parseInfohash(V2)), [null, V2], '64 hex: v2')
  t.alike(hex(parseInfohash(V1_BASE32)), [V1, null], '32 base32: v1')
  t.alike(hex(parseInfohash(V1_BASE32.toLowerCase())), [V1, null], '32 base32, lower case: v1')
  t.alike(hex(parseInfohash(`urn:btih:${V1}`)), [V1, null], 'urn:btih: with hex')
  t.alike(hex(parseInfohash(`URN:BTIH:${V1_BASE32}`)), [V1, null], 'urn:btih: with base32, upper case')
  t.alike(hex(parseInfohash(`urn:btmh:1220${V2}`)), [null, V2], 'urn:btmh:1220')
  t.is(parseInfohash(V1).v1!.length, 20)
  t.is(parseInfohash(V2).v2!.length, 32)
})

test('parseInfohash: anything else is BAD_INPUT with one line that names the forms', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /is not an infohash; give 40 hex digits/],
    [V1.slice(0, 39), /has 39 hex digits; an infohash has 40 \(v1\) or 64 \(v2\)/],
    [V2 + '0', /has 65 hex digits/],
    ['0123456789abcdef0123456789abcdef', /has 32 hex digits/], // 32 characters, but 0, 1, 8, 9 are not base32
    ['abcdef234567abcdef234567abcdef23', /has 32 hex digits/], // base32 letters too, but only hex ones: meant as hex
    ['PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTU!', /is not an infohash/],
    [`urn:btih:${V1.slice(1)}`, /has a v1 infohash of 39 characters \(40 hex or 32 base32 expected\)/],
    ['urn:btih:PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTU1', /has a v1 infohash that is neither hex nor base32/],
    [`urn:btmh:1114${V2}`, /has a v2 infohash that is not a SHA-256 multihash/],
    ['urn:sha1:PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTUB', /names no BitTorrent infohash/],
    [`magnet:?xt=urn:btih:${V1}`, /is a magnet link, not an infohash/],
    [` ${V1}`, /is not an infohash/],
    ['x'.repeat(500), /^"x{40}…" is not an infohash/]
  ]
  for (const [text, pattern] of cases) {
    try {
      parseInfohash(text)
      t.fail(`${JSON.stringify(text.slice(0, 50))}: accepted`)
    } catch (err) {
      t.ok(isChrysalisError(err, 'BAD_INPUT'), `${JSON.stringify(text.slice(0, 50))}: BAD_INPUT`)
      const message = (err as Error).message
      t.ok(pattern.test(message) && !message.includes('\n') && message.length < 200, message)
    }
  }
})

test('xtInfohash: what readMagnet reads each xt with; other kinds of xt are not refused', (t) => {
  t.is(xtInfohash('urn:sha1:PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTUB'), null, 'urn:sha1: is another kind')
  t.alike(xtInfohash(`urn:btih:${V1}`), { v1: Buffer.from(V1, 'hex'), v2: null })
  t.ok('why' in xtInfohash('urn:btih:abc')!, 'a bad btih says why')
  const m = readMagnet(`magnet:?xt=urn:sha1:PQWZLDMIADVTV7LBEK3Y3VDHYZUHMTUB&xt=urn:btih:${V1_BASE32}&xt=urn:btmh:1220${V2}`)
  t.alike(hex({ v1: m.infohashV1, v2: m.infohashV2 }), [V1, V2], 'a magnet takes the same forms (base32 v1, btmh v2)')
  try {
    readMagnet('magnet:?xt=urn:btih:abc')
    t.fail('accepted')
  } catch (err) {
    t.is((err as Error).message, 'the magnet link has a v1 infohash of 3 characters (40 hex or 32 base32 expected)', 'the magnet says it as before')
  }
})
