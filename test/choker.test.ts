import test from 'brittle'
import { CHOKER_LIMITS, Choker } from '../src/transfer/choker.js'

function setup(peers: string[], slots = 3): { choker: Choker<string>; clock: { t: number } } {
  const clock = { t: 0 }
  const choker = new Choker<string>({ slots, now: () => clock.t, random: () => 0 })
  for (const p of peers) {
    choker.add(p)
    choker.interested(p, true)
  }
  return { choker, clock }
}

test('choker: tit for tat — the peers that give us most are unchoked, plus one optimistic; only changes are returned', (t) => {
  const { choker } = setup(['a', 'b', 'c', 'd', 'e'])
  const rates: Record<string, number> = { a: 10, b: 50, c: 30, d: 0, e: 0 }
  const first = choker.rechoke({ seeding: false, rateOf: (p) => rates[p]! })
  t.alike(first.unchoke.sort(), ['a', 'b', 'c'], 'b and c by rate, a as the first choked peer (random 0)')
  t.alike(first.choke, [])
  const again = choker.rechoke({ seeding: false, rateOf: (p) => rates[p]! })
  t.alike(again, { unchoke: [], choke: [] }, 'nothing changed, nothing to send')
  rates.d = 100
  const next = choker.rechoke({ seeding: false, rateOf: (p) => rates[p]! })
  t.alike(next, { unchoke: ['d'], choke: ['c'] }, 'd outgave c; a stays the optimistic unchoke')
  t.ok(choker.isUnchoked('a'))
})

test('choker: the optimistic unchoke moves on after optimisticMs; uninterested peers are never unchoked', (t) => {
  const { choker, clock } = setup(['a', 'b', 'c', 'd'], 2)
  choker.add('idle')
  const rate = (p: string): number => (p === 'a' ? 10 : 0)
  t.alike(choker.rechoke({ seeding: false, rateOf: rate }).unchoke.sort(), ['a', 'b'])
  clock.t += CHOKER_LIMITS.optimisticMs - 1
  t.alike(choker.rechoke({ seeding: false, rateOf: rate }), { unchoke: [], choke: [] }, 'kept for optimisticMs')
  choker.remove('b')
  const moved = choker.rechoke({ seeding: false, rateOf: rate })
  t.alike(moved.unchoke, ['c'], 'the optimistic peer left: another is picked at once')
  t.absent(choker.isUnchoked('idle'))
  choker.interested('c', false)
  t.alike(choker.rechoke({ seeding: false, rateOf: rate }), { unchoke: ['d'], choke: ['c'] }, 'not interested any more: choked')
})

test('choker: seeding judges by what peers take, ties to whoever waited longest', (t) => {
  const { choker, clock } = setup(['a', 'b', 'c'], 2)
  const first = choker.rechoke({ seeding: true, rateOf: () => 0 })
  t.is(first.unchoke.length, 2)
  clock.t += CHOKER_LIMITS.optimisticMs
  const waited = ['a', 'b', 'c'].find((p) => !choker.isUnchoked(p))!
  const next = choker.rechoke({ seeding: true, rateOf: () => 0 })
  t.ok(next.unchoke.includes(waited), `${waited}, never unchoked, gets the regular slot`)
})
