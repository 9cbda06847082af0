import test from 'brittle'
import { BLOCK_SIZE, PICKER_LIMITS, PiecePicker, type BlockRef, type PeerHas } from '../src/transfer/picker.js'
import { Bitfield } from '../src/transfer/bitfield.js'

const PIECE = 4 * BLOCK_SIZE

function bits(size: number, pieces: number[]): Bitfield {
  const b = new Bitfield(size)
  for (const p of pieces) b.set(p)
  return b
}

function all(size: number): Bitfield {
  return bits(size, [...Array(size).keys()])
}

/** A picker over `count` pieces of 4 blocks (the last one 1.5 blocks), with a clock the test moves. */
function setup(count: number, opts: { random?: () => number } = {}): { picker: PiecePicker<string>; have: Bitfield; clock: { t: number } } {
  const have = new Bitfield(count)
  const clock = { t: 1000 }
  const picker = new PiecePicker<string>({
    pieceCount: count,
    pieceSize: (i) => (i === count - 1 ? BLOCK_SIZE + BLOCK_SIZE / 2 : PIECE),
    wanted: all(count),
    have,
    now: () => clock.t,
    random: opts.random ?? (() => 0)
  })
  return { picker, have, clock }
}

const pieces = (refs: BlockRef[]): number[] => [...new Set(refs.map((r) => r.piece))]

test('picker: rarest first, whole pieces of one owner, blocks in order, the short last piece', (t) => {
  const { picker } = setup(8)
  const a = all(8)
  const b = bits(8, [0, 1, 2, 3, 4, 5])
  const c = bits(8, [0, 1, 2, 3])
  for (const h of [a, b, c]) picker.addPeer(h)
  t.is(picker.available(0), 3)
  t.is(picker.available(7), 1)

  const first = picker.next('a', a, 4)
  t.alike(pieces(first), [6], 'a starts on a piece only a has (6 and 7 have one source; the scan starts at 0)')
  t.alike(first.map((r) => r.offset), [0, BLOCK_SIZE, 2 * BLOCK_SIZE, 3 * BLOCK_SIZE], 'its blocks, in order')
  const second = picker.next('a', a, 2)
  t.alike(pieces(second), [7])
  t.alike(second.map((r) => r.length), [BLOCK_SIZE, BLOCK_SIZE / 2], 'the last piece is 1.5 blocks')
  t.alike(pieces(picker.next('b', b, 4)), [4], 'b takes the rarest it has (4 and 5: two sources)')
  t.alike(pieces(picker.next('c', c, 8)), [0, 1], 'c takes the next rarest, never a piece another peer owns')
})

test('picker: a seed (have all) counts for every piece; interest; peers leaving', (t) => {
  const { picker, have } = setup(4)
  picker.addPeer('all')
  const b = bits(4, [2])
  picker.addPeer(b)
  t.is(picker.available(0), 1)
  t.is(picker.available(2), 2)
  t.ok(picker.interesting(b))
  have.set(2)
  t.absent(picker.interesting(b), 'nothing we want: not interested')
  t.ok(picker.interesting('all'))
  picker.removePeer('all')
  picker.removePeer(b)
  t.is(picker.available(2), 0)
  picker.peerHas(1)
  t.is(picker.available(1), 1, 'a have message adds one')
})

test('picker: received blocks, duplicates and unasked data are told apart; complete when every block is here', (t) => {
  const { picker } = setup(2)
  picker.addPeer('all')
  const asked = picker.next('a', 'all', 4)
  t.is(asked.length, 4)
  const p = asked[0]!.piece
  t.alike(picker.received('b', p, 0), { accepted: false, cancel: [], complete: false }, 'not asked of b')
  t.is(picker.received('a', p, 0).accepted, true)
  t.is(picker.received('a', p, 0).accepted, false, 'the same block again is dropped')
  t.is(picker.received('a', p, 123).accepted, false, 'an offset off the block grid is dropped')
  picker.received('a', p, BLOCK_SIZE)
  picker.received('a', p, 2 * BLOCK_SIZE)
  t.is(picker.received('a', p, 3 * BLOCK_SIZE).complete, true)
  t.is(picker.sender(p, 2 * BLOCK_SIZE), 'a')
  t.is(picker.inProgress, 1, 'waiting for its check')
  t.alike(pieces(picker.next('b', 'all', 8)), [1 - p], 'a piece waiting for its check is not asked again')
  picker.verified(p)
  t.is(picker.inProgress, 1)
})

test('picker: an owner that leaves hands its piece over with the blocks it sent; a failure names both senders', (t) => {
  const { picker } = setup(2)
  picker.addPeer('all')
  t.alike(pieces(picker.next('a', 'all', 4)), [0])
  picker.received('a', 0, 0)
  picker.received('a', 0, BLOCK_SIZE)
  picker.removeRequests('a')
  t.is(picker.outstanding('a'), 0)
  const rest = picker.next('b', 'all', 8).filter((r) => r.piece === 0)
  t.alike(rest.map((r) => r.offset), [2 * BLOCK_SIZE, 3 * BLOCK_SIZE], 'b is asked only for what is missing')
  picker.received('b', 0, 2 * BLOCK_SIZE)
  t.ok(picker.received('b', 0, 3 * BLOCK_SIZE).complete)
  t.alike(picker.failed(0).sort(), ['a', 'b'])
  t.alike(picker.next('c', 'all', 8).map((r) => `${r.piece}@${r.offset}`), ['0@0', `0@${BLOCK_SIZE}`, `0@${2 * BLOCK_SIZE}`, `0@${3 * BLOCK_SIZE}`], 'the piece starts over')
})

test('picker: with nothing of its own to start, a peer helps with unasked blocks of others\' pieces', (t) => {
  const { picker } = setup(1)
  picker.addPeer('all')
  t.is(picker.next('a', 'all', 1).length, 1, 'a owns the piece but asked one block only')
  const helped = picker.next('b', 'all', 8)
  t.alike(helped.map((r) => r.offset), [BLOCK_SIZE], 'b takes the unasked block')
})

test('picker: endgame asks a slow block of a second peer after endgameAfterMs; the first answer cancels the other', (t) => {
  const { picker, clock } = setup(2)
  picker.addPeer('all')
  picker.next('a', 'all', 100)
  t.is(picker.next('b', 'all', 100).length, 0, 'everything is asked, and not yet slow')
  clock.t += PICKER_LIMITS.endgameAfterMs
  const dup = picker.next('b', 'all', 100)
  t.is(dup.length, 6, 'every block is asked of b too')
  t.is(picker.next('b', 'all', 100).length, 0, 'never twice of the same peer')
  t.is(picker.next('c', 'all', 100).length, 0, `at most ${PICKER_LIMITS.maxAskersPerBlock} askers per block`)
  const first = dup[0]!
  t.alike(picker.received('b', first.piece, first.offset), { accepted: true, cancel: ['a'], complete: false }, 'a is cancelled')
  t.is(picker.received('a', first.piece, first.offset).accepted, false, 'a late copy is dropped')
})

test('picker: requests unanswered for requestTimeoutMs are taken back and asked again', (t) => {
  const { picker, clock } = setup(1)
  picker.addPeer('all')
  picker.next('a', 'all', 8)
  clock.t += PICKER_LIMITS.requestTimeoutMs - 1
  t.is(picker.expire().length, 0)
  clock.t += 1
  const expired = picker.expire()
  t.alike(expired.map((e) => `${e.peer}@${e.offset}`), ['a@0', `a@${BLOCK_SIZE}`])
  t.alike(picker.next('b', 'all', 8).map((r) => r.offset), [0, BLOCK_SIZE], 'a slow owner loses its piece')
})

test('picker: a released request (reject, choke) and a forgotten block (bad v2 hash) are asked again', (t) => {
  const { picker } = setup(1)
  picker.addPeer('all')
  picker.next('a', 'all', 8)
  picker.released('a', 0, BLOCK_SIZE)
  picker.received('a', 0, 0)
  picker.forget(0, 0)
  t.is(picker.sender(0, 0), undefined)
  t.alike(picker.next('a', 'all', 8).map((r) => r.offset), [0, BLOCK_SIZE])
})

test('picker: a seeded swarm of 12 peers with random pieces, slow ones and leavers completes every piece; invariants hold', (t) => {
  let seed = 42
  const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000)
  const count = 60
  const { picker, have, clock } = setup(count, { random })
  const peers = new Map<string, PeerHas>()
  for (let i = 0; i < 12; i++) {
    const has: PeerHas = i === 0 ? 'all' : bits(count, [...Array(count).keys()].filter(() => random() < 0.5))
    peers.set(`p${i}`, has)
    picker.addPeer(has)
  }
  const inFlight = new Map<string, Array<BlockRef & { peer: string }>>()
  let violations = 0
  let rounds = 0
  while (have.count < count && rounds++ < 10_000) {
    for (const [peer, has] of peers) {
      for (const r of picker.next(peer, has, 8)) {
        if (has !== 'all' && !has.get(r.piece)) violations++
        if (have.get(r.piece)) violations++
        const list = inFlight.get(peer) ?? []
        list.push({ ...r, peer })
        inFlight.set(peer, list)
      }
    }
    clock.t += 100
    for (const [peer, list] of inFlight) {
      // Peer 3 never answers; peer 5 leaves after a while; the rest answer one request a round.
      if (peer === 'p3') continue
      if (peer === 'p5' && rounds === 20) {
        picker.removeRequests(peer)
        picker.removePeer(peers.get(peer)!)
        peers.delete(peer)
        inFlight.delete(peer)
        continue
      }
      const r = list.shift()
      if (!r) continue
      const got = picker.received(peer, r.piece, r.offset)
      for (const other of got.cancel) {
        inFlight.set(other, (inFlight.get(other) ?? []).filter((x) => x.piece !== r.piece || x.offset !== r.offset))
      }
      if (got.complete) {
        have.set(r.piece)
        picker.verified(r.piece)
      }
    }
    for (const e of picker.expire()) inFlight.set(e.peer, (inFlight.get(e.peer) ?? []).filter((x) => x.piece !== e.piece || x.offset !== e.offset))
  }
  t.is(have.count, count, `every piece completed in ${rounds} rounds`)
  t.is(violations, 0, 'never asked a peer for a piece it lacks, or a piece we hold')
  t.is(picker.inProgress, 0)
})

test('picker: at most `startable` new pieces at once; the pieces already started still get their blocks', (t) => {
  const { picker } = setup(20)
  picker.addPeer('all')
  const first = picker.next('a', 'all', 100, 2)
  t.is(pieces(first).length, 2, 'two pieces started, though there was room for 100 blocks')
  t.is(picker.active, 2)
  t.alike(picker.next('b', 'all', 100, 0), [], 'none may start: nothing for a peer without a started piece')
  // A block of a started piece comes back unasked (a reject): it is asked again with no room to start.
  picker.released('a', first[0]!.piece, first[0]!.offset)
  t.alike(picker.next('a', 'all', 100, 0), [first[0]!], 'a started piece is finished without starting another')
  picker.verified(first[0]!.piece)
  t.is(picker.active, 1, 'a verified piece leaves the count')
  t.is(pieces(picker.next('a', 'all', 100, 1)).length, 1, 'room for one more: one more started')
})

test('picker: the pieces each peer owns are counted as they start, change hands and finish', (t) => {
  const { picker } = setup(20)
  picker.addPeer('all')
  const a = pieces(picker.next('a', 'all', 12, 3))
  t.is(picker.owned('a'), 3)
  picker.removeRequests('a')
  t.is(picker.owned('a'), 0, 'a peer that left owns nothing')
  picker.next('b', 'all', 8, 0)
  t.is(picker.owned('b'), 2, "b took over two of a's pieces (8 blocks)")
  picker.verified(a[0]!)
  t.is(picker.owned('b'), 1)
  picker.failed(a[1]!)
  t.is(picker.owned('b'), 0)
})

test('picker: no endgame while the cap on started pieces holds pieces back; endgame once none is left to start', (t) => {
  const { picker, clock } = setup(4)
  picker.addPeer('all')
  picker.next('a', 'all', 100, 2)
  clock.t += PICKER_LIMITS.endgameAfterMs
  t.is(picker.next('b', 'all', 100, 0).length, 0, "two pieces are still to start: b gets no copies of a's blocks")
  picker.next('a', 'all', 100, 2)
  clock.t += PICKER_LIMITS.endgameAfterMs
  t.ok(picker.next('b', 'all', 100, 0).length > 0, 'every piece started: slow blocks are asked of b too')
})
