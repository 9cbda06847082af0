// The terminal UI's speed: cold start to the first frame in a real pseudo-terminal (the bundled
// executable), and keypress to frame with 10,000 posts in the timeline (the real App and Ink
// renderer writing to an in-memory terminal).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { createElement } from 'react'
import { render } from 'ink'
import { App } from '../src/tui/app.js'
import { Controller } from '../src/tui/controller.js'
import { initialState, Store } from '../src/tui/store.js'
import { themeFor } from '../src/tui/theme.js'
import type { PostView } from '../src/node/views.js'
import type { Row } from './feeds.js'
import { ChrysalisNode } from '../src/node/node.js'
import { SAVED_FILE, SAVED_POSTS, writeSaved } from '../src/tui/saved.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const p95 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!

/** Process start to the first frame, through a pty (bench/tui_start.py), for a new and an existing home. */
export async function coldStart(runs = 9): Promise<Row[]> {
  const bin = path.join(ROOT, 'dist', 'bundle', 'launch.mjs')
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'chrysalis-bench-tui-'))
  try {
    // `fresh`: remove the view a previous run saved (saved.ts) first, so the node's path is measured.
    const probe = (marker: string, opts: { fresh?: boolean } = {}): { median: number; runs: number[] } => {
      const tui = [process.execPath, bin, '--home', home, '--bootstrap', '127.0.0.1:9', 'tui']
      const cmd = opts.fresh ? ['/bin/sh', '-c', `rm -f "$0/${SAVED_FILE}"; exec "$@"`, home, ...tui] : tui
      return JSON.parse(execFileSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'tui_start.py'), String(runs), marker, '--', ...cmd], { encoding: 'utf-8' })) as { median: number; runs: number[] }
    }
    const fresh = probe('Create a new identity')
    execFileSync(process.execPath, [bin, '--home', home, 'init', '--name', 'Bench'], { stdio: 'ignore' })
    const existing = probe('Opening your node', { fresh: true })
    // The timeline, while going online on a DHT that never answers (127.0.0.1:9): from the node
    // (nothing saved), and from what the UI saved last time (drawn with the first frame).
    execFileSync(process.execPath, [bin, '--home', home, 'post', 'Kaypro II manual, bench post'], { stdio: 'ignore' })
    const fromNode = probe('Kaypro II manual, bench post', { fresh: true })
    await saveAsTheUiWould(home)
    const saved = probe('Kaypro II manual, bench post')
    return [
      { what: `tui cold start to first frame (bundle, first run), median of ${runs}`, value: `${fresh.median} ms` },
      { what: `tui cold start to first frame (bundle, existing identity, nothing saved), median of ${runs}`, value: `${existing.median} ms` },
      { what: `tui cold start to the timeline from the node (existing identity, DHT unreachable), median of ${runs}`, value: `${fromNode.median} ms` },
      { what: `tui cold start to the saved timeline (drawn before the node is open), median of ${runs}`, value: `${saved.median} ms` }
    ]
  } finally {
    fs.rmSync(home, { recursive: true, force: true })
  }
}

function fakePost(i: number, now: number): PostView {
  const author = `author${i % 7}`.padEnd(52, 'x')
  return {
    ref: `${author}/${i.toString(16).padStart(16, '0')}`,
    author,
    authorName: ['Ada Kaypro', 'Grace Osborne', 'Lin Commodore', 'Sam Tandy', 'Kim Atari', 'Jo Amiga', 'Max Sinclair'][i % 7]!,
    fingerprint: 'abcd-efgh',
    id: i.toString(16).padStart(16, '0'),
    createdAt: now - i * 60_000,
    text: `Post number ${i}: scanned the ${1980 + (i % 10)} service manual, 600 dpi, every page #vintage-manuals`,
    topics: ['vintage-manuals'],
    mentions: [],
    attachments: i % 3 === 0 ? [{ name: `manual-${i}.pdf`, size: 4_200_000 + i, infohash: i.toString(16).padStart(64, '0') }] : [],
    replyTo: null,
    root: null,
    editedAt: null,
    deleted: false,
    comments: i % 5
  }
}

/** Keypress to the frame written, with `count` posts loaded in the timeline. */
export async function keypressToFrame(count = 10_000, presses = 300): Promise<Row[]> {
  const now = Date.now()
  const posts = Array.from({ length: count }, (_, i) => fakePost(i, now))
  const state = initialState({ columns: 80, rows: 24 }, now)
  const store = new Store({ ...state, mode: 'main', timeline: { posts, next: null, loading: false, selected: 0, loaded: true } })
  const controller = new Controller(store, { home: os.tmpdir(), openNode: () => Promise.reject(new Error('not in the bench')), downloads: os.tmpdir(), cwd: os.tmpdir(), exit() {} })
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin, ref: () => stdin, unref: () => stdin })
  let onFrame: (() => void) | null = null
  let bytes = 0
  const stdout = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length
        onFrame?.()
        cb()
      }
    }),
    { isTTY: true, columns: 80, rows: 24 }
  )
  const mountStart = performance.now()
  const firstFrame = new Promise<void>((resolve) => (onFrame = resolve))
  const instance = render(createElement(App, { controller, theme: themeFor({}) }), {
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    exitOnCtrlC: false,
    patchConsole: false
  })
  await firstFrame
  const mount = performance.now() - mountStart
  await new Promise((r) => setTimeout(r, 100))
  const times: number[] = []
  const sizes: number[] = []
  for (let i = 0; i < presses; i++) {
    // Down through the list, then back up: the window scrolls on both ways.
    const key = i < presses / 2 ? 'j' : 'k'
    bytes = 0
    const framed = new Promise<void>((resolve) => (onFrame = resolve))
    const t0 = performance.now()
    stdin.write(key)
    await framed
    times.push(performance.now() - t0)
    await new Promise((r) => setTimeout(r, 40)) // past Ink's 30 fps throttle: each key starts a frame
    sizes.push(bytes)
    onFrame = null
  }
  // A burst: 20 keys in one write, as a held key or tmux sends them; the last one lands.
  const burstStart = performance.now()
  const target = store.get().timeline.selected + 20
  stdin.write('j'.repeat(20))
  while (store.get().timeline.selected !== target) await new Promise((r) => setImmediate(r))
  const burst = performance.now() - burstStart
  instance.unmount()
  return [
    { what: `tui mount with ${count} posts`, value: `${mount.toFixed(1)} ms` },
    { what: `tui keypress → frame, ${count} posts (median / p95 of ${presses})`, value: `${median(times).toFixed(2)} / ${p95(times).toFixed(2)} ms` },
    { what: 'tui bytes written per keypress (median)', value: `${median(sizes)} B` },
    { what: 'tui burst of 20 keys in one write → state settled', value: `${burst.toFixed(1)} ms` }
  ]
}

export async function tuiBench(): Promise<Row[]> {
  return [...(await coldStart()), ...(await keypressToFrame())]
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const r of await tuiBench()) console.log(`${r.what.padEnd(60)}  ${r.value}`)
}

/** What the UI saves when it shows the timeline (Controller.saveView): who you are, the first page. */
async function saveAsTheUiWould(home: string): Promise<void> {
  const node = await ChrysalisNode.open({ home })
  try {
    await writeSaved(home, { me: await node.whoami(), posts: (await node.timeline({ limit: SAVED_POSTS })).posts })
  } finally {
    await node.close()
  }
}
