import test from 'brittle'
import { decodeRecord, encodeRecord, normalizeTopic, LIMITS, type FeedRecord, type PostRecord } from '../src/feeds/records.js'
import { Writer } from '../src/codec/primitives.js'
import { formatRef, parseRef, postKey, parsePostKey } from '../src/feeds/layout.js'
import { extractMentions, extractTopics } from '../src/feeds/text.js'
import { Identity } from '../src/identity/keys.js'
import { ChrysalisError } from '../src/errors.js'
import { fromJsonRecord, toJsonRecord } from './fixtures/vectors.js'
import vectors from './fixtures/records.json' with { type: 'json' }

const key = Buffer.alloc(32, 1)
const basePost: PostRecord = { type: 'post', createdAt: 1790000000000, text: 'hello', topics: [], mentions: [], attachments: [] }

function decodeOk(t: { ok(v: unknown, m?: string): void }, bytes: Uint8Array): FeedRecord | null {
  const r = decodeRecord(bytes)
  t.ok(r.ok, r.ok ? 'decodes' : `decodes (${r.reason})`)
  return r.ok ? r.record : null
}

function refused(t: { absent(v: unknown, m?: string): void; ok(v: unknown, m?: string): void }, bytes: Uint8Array, pattern: RegExp, what: string): void {
  const r = decodeRecord(bytes)
  t.absent(r.ok, `${what} is refused`)
  if (!r.ok) t.ok(pattern.test(r.reason), `${what}: "${r.reason}"`)
}

test('record vectors: exact bytes both ways', (t) => {
  for (const v of vectors.records) {
    const record = fromJsonRecord(v.record)
    t.is(encodeRecord(record).toString('hex'), v.hex, `${record.type} encodes to the vector`)
    const back = decodeOk(t, Buffer.from(v.hex, 'hex'))
    t.alike(back && toJsonRecord(back), v.record, `${record.type} decodes to the vector`)
  }
})

test('round trips of every record type', (t) => {
  const records: FeedRecord[] = [
    { type: 'profile', updatedAt: 0, name: 'A', bio: '' },
    { ...basePost, text: 'x'.repeat(LIMITS.textBytes), topics: ['a', 'b-c', 'ü.v'] },
    { ...basePost, text: '', attachments: [{ infohash: key, name: 'only-a-file.bin', size: 2 ** 40 }] },
    { ...basePost, reply: { parent: { author: key, id: 5 }, root: { author: key, id: LIMITS.postId } }, editedAt: 2 ** 53 - 1 },
    { type: 'block', at: 42, target: key }
  ]
  for (const r of records) t.alike(decodeOk(t, encodeRecord(r)), r, r.type)
})

test('writers refuse records that break the limits, before writing', (t) => {
  const cases: Array<[FeedRecord, RegExp]> = [
    [{ ...basePost, text: 'x'.repeat(LIMITS.textBytes + 1) }, /the text is 8193 bytes/],
    [{ ...basePost, text: '   ' }, /needs some text/],
    [{ ...basePost, topics: ['Not Normal'] }, /not a valid topic/],
    [{ ...basePost, topics: Array.from({ length: 17 }, (_, i) => `t${i}`) }, /at most 16 topics/],
    [{ ...basePost, topics: ['a', 'a'] }, /twice/],
    [{ ...basePost, mentions: [Buffer.alloc(31)] }, /32-byte key/],
    [{ ...basePost, attachments: [{ infohash: key, name: '../etc/passwd', size: 1 }] }, /not a valid file name/],
    [{ ...basePost, deletedAt: 1 }, /deleted post keeps no text/],
    [{ type: 'profile', updatedAt: 0, name: ' padded', bio: '' }, /must not be empty or start or end/],
    [{ type: 'profile', updatedAt: 0, name: 'n'.repeat(65), bio: '' }, /the name is 65 bytes/],
    [{ type: 'profile', updatedAt: 0, name: 'a\u0007b', bio: '' }, /control characters/]
  ]
  for (const [record, pattern] of cases) {
    t.exception(() => encodeRecord(record), pattern)
    try {
      encodeRecord(record)
    } catch (err) {
      t.is((err as ChrysalisError).code, 'BAD_INPUT')
    }
  }
})

test('readers refuse malformed bytes with a reason, never throw', (t) => {
  const good = encodeRecord(basePost)
  refused(t, Buffer.alloc(0), /end of record/, 'empty')
  refused(t, Buffer.concat([good, Buffer.from([0])]), /trailing/, 'trailing bytes')
  refused(t, good.subarray(0, good.length - 1), /end of record/, 'truncated')
  refused(t, Buffer.from([2, 2, 0]), /unknown record version 2/, 'a future version')
  refused(t, Buffer.from([1, 99, 0]), /unknown record type 99/, 'an unknown type')
  refused(t, Buffer.from([1, 0xfd, 2, 0, 0]), /minimally/, 'a non-minimal integer')
  refused(t, Buffer.alloc(LIMITS.recordBytes + 1), /oversized/, 'an oversized record')
  const badUtf8 = new Writer().uint(1).uint(2).uint(0).uint(1).uint(2).finish()
  refused(t, Buffer.concat([badUtf8, Buffer.from([0xc3, 0x28, 0, 0, 0])]), /UTF-8/, 'invalid UTF-8')
  const hugeText = new Writer().uint(1).uint(2).uint(0).uint(1).uint(LIMITS.textBytes + 1).finish()
  refused(t, hugeText, /above its limit/, 'a text length above the limit (checked before reading it)')
  const manyTopics = new Writer().uint(1).uint(2).uint(0).uint(1).string('x').uint(1_000_000).finish()
  refused(t, manyTopics, /above its limit/, 'a topic count above the limit')
  const notNormal = new Writer().uint(1).uint(2).uint(0).uint(1).string('x').uint(1).string('UPPER').uint(0).uint(0).finish()
  refused(t, notNormal, /not a valid topic/, 'a topic not in normal form')
})

test('unknown flag bits announce appended fields: readers skip the extra bytes', (t) => {
  // Version 1 post with flag bit 3 (unknown today) and a trailing field a later version defines.
  const w = new Writer().uint(1).uint(2).uint(8).uint(1790000000000).string('from the future').uint(0).uint(0).uint(0)
  const bytes = Buffer.concat([w.finish(), Buffer.from('appended field')])
  const r = decodeOk(t, bytes) as PostRecord | null
  t.is(r?.text, 'from the future')

  // Bits 32…52 count too (JavaScript's & sees only the low 32): a follow with bit 32 and an
  // appended field is read; the same bytes with no flag are refused.
  const target = Buffer.alloc(32, 7)
  const follow = (flags: number): Buffer => new Writer().uint(1).uint(3).uint(flags).uint(1790000000000).fixed(target, 32).uint(42).finish()
  const later = decodeRecord(follow(2 ** 32))
  t.ok(later.ok && later.record.type === 'follow' && later.record.target.equals(target), 'a follow with flag bit 32 and an appended field')
  refused(t, follow(0), /trailing/, 'the same appended field without a flag bit announcing it')
  const cut = follow(2 ** 32).subarray(0, 20)
  refused(t, cut, /end of record/, 'a later follow cut inside its known fields')
})

test('a FileRef of a later revision: each unknown bit\'s field is length-prefixed and skipped', (t) => {
  const infohash = Buffer.alloc(32, 0xab)
  // A post with two attachments, the first carrying flag bits 0 and 3 and their two fields.
  const post = (fileFlags: number, fields: Buffer): Buffer => {
    const w = new Writer().uint(1).uint(2).uint(0).uint(1790000000000).string('scans').uint(0).uint(0).uint(2)
    w.uint(fileFlags).fixed(infohash, 32).string('a.pdf').uint(100)
    const head = w.finish()
    const tail = new Writer().uint(0).fixed(infohash, 32).string('b.pdf').uint(200).finish()
    return Buffer.concat([head, fields, tail])
  }
  const fields = Buffer.concat([new Writer().uint(3).finish(), Buffer.from('abc'), new Writer().uint(0).finish()])
  const r = decodeOk(t, post(0b1001, fields)) as PostRecord | null
  t.alike(
    r?.attachments.map((f) => [f.name, f.size]),
    [
      ['a.pdf', 100],
      ['b.pdf', 200]
    ],
    'both attachments read, the later fields skipped'
  )
  refused(t, post(0b1001, fields.subarray(0, 4)), /end of record|above its limit|trailing/, 'a FileRef whose announced field is missing')
  refused(t, post(0b1, Buffer.from([0xfd, 0xff, 0xff])), /longer than the \d+ bytes left/, 'a FileRef field longer than the record')
  refused(t, post(0, fields), /./, 'the same bytes with no flag bit announcing them')
})

test('topics normalise case, spacing, # and separators', (t) => {
  t.is(normalizeTopic('Vintage Manuals'), 'vintage-manuals')
  t.is(normalizeTopic('  #vintage_manuals '), 'vintage-manuals')
  t.is(normalizeTopic('VINTAGE--MANUALS'), 'vintage-manuals')
  t.is(normalizeTopic('Ｋａｙｐｒｏ'), 'kaypro')
  t.alike(extractTopics('New scan! #Kaypro #CP_M, see #kaypro. not#this'), ['kaypro', 'cp-m', 'kaypro'])
})

test('mentions are @ID in the text', (t) => {
  const id = Identity.generate()
  t.alike(extractMentions(`thanks @${id.id}!`).map((k) => k.toString('hex')), [id.publicKey.toString('hex')])
  t.alike(extractMentions('@notanid'), [])
})

test('REF: format and parse, hex author accepted, bad refs refused', (t) => {
  const id = Identity.generate()
  const ref = { author: id.publicKey, id: 0x019a9f3c2b10 }
  const s = formatRef(ref)
  t.is(s, `${id.id}/019a9f3c2b10`)
  t.alike(parseRef(s), ref)
  t.alike(parseRef(`${id.publicKey.toString('hex')}/19A9F3C2B10`), ref)
  for (const bad of ['', id.id, `${id.id}/`, `${id.id}/xyz`, `nope/0001`, `${id.id}/1234567890123`]) {
    t.exception(() => parseRef(bad), /post reference|not an identity ID|author part/)
  }
  t.is(parsePostKey(postKey(12345)), 12345)
  t.is(parsePostKey('post/xyz'), null)
})
