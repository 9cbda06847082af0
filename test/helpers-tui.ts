import { createElement } from 'react'
import { render } from 'ink-testing-library'
import { App } from '../src/tui/app.js'
import type { Copied } from '../src/tui/clipboard.js'
import { Controller, type OpenedNode, type TuiNode } from '../src/tui/controller.js'
import { initialState, Store } from '../src/tui/store.js'
import { themeFor } from '../src/tui/theme.js'
import { waitFor, type Test } from './helpers.js'

/** Keys as a terminal sends them. */
export const K = {
  enter: '\r',
  esc: '\u001b',
  tab: '\t',
  up: '\u001b[A',
  down: '\u001b[B',
  right: '\u001b[C',
  left: '\u001b[D',
  pageDown: '\u001b[6~',
  backspace: '\u007f',
  ctrlS: '\u0013',
  ctrlU: '\u0015',
  ctrlC: '\u0003'
}

export interface Tui {
  c: Controller
  frame(): string
  frames(): string[]
  press(...keys: string[]): void
  /** Wait until the frame shows `text` (or matches), with a deadline; returns the frame. */
  until(text: string | RegExp, ms?: number): Promise<string>
  copied: string[]
  exited(): boolean
  /** Simulate the terminal being resized. */
  resize(columns: number, rows: number): void
}

/**
 * The real App and Controller in ink-testing-library's fake terminal, 80×24 unless told,
 * against a real node (opened by `openNode`, online already, or `open`, going online, when the
 * UI asks for it).
 */
export async function mountTui(
  t: Test,
  opts: {
    home: string
    openNode?: () => Promise<TuiNode>
    open?: () => Promise<OpenedNode>
    downloads?: string
    cwd?: string
    size?: { columns: number; rows: number }
    env?: NodeJS.ProcessEnv
    /** How copying goes (the text is recorded in `copied` either way): sent to the terminal unless told. */
    copy?: Copied
    /** Return before the node is open (a test that holds `openNode` back). */
    background?: boolean
  }
): Promise<Tui> {
  const store = new Store(initialState(opts.size ?? { columns: 80, rows: 24 }))
  const copied: string[] = []
  let exited = false
  const c = new Controller(store, {
    home: opts.home,
    openNode: opts.open ?? (async () => ({ node: await (opts.openNode ?? noNode)() })),
    downloads: opts.downloads ?? opts.home,
    cwd: opts.cwd ?? opts.home,
    copy: (text) => {
      copied.push(text)
      return Promise.resolve(opts.copy ?? 'terminal')
    },
    exit: () => (exited = true),
    tickMs: 100
  })
  const r = render(createElement(App, { controller: c, theme: themeFor(opts.env ?? {}) }))
  t.teardown(async () => {
    r.unmount()
    await c.close()
  }, { order: -2 })
  const started = c.start()
  if (!opts.background) await started
  const frame = (): string => r.lastFrame() ?? ''
  return {
    c,
    frame,
    frames: () => r.frames,
    press: (...keys) => {
      for (const k of keys) r.stdin.write(k)
    },
    async until(text, ms = 10_000) {
      const match = (f: string): boolean => (typeof text === 'string' ? f.includes(text) : text.test(f))
      await waitFor(() => match(frame()), ms).catch(() => {
        throw new Error(`timed out waiting for a frame showing ${String(text)}; the last frame:\n${frame()}`)
      })
      return frame()
    },
    copied,
    exited: () => exited,
    resize(columns, rows) {
      const stdout = r.stdout as unknown as { emit(e: string): void }
      Object.defineProperty(stdout, 'columns', { value: columns, configurable: true })
      Object.defineProperty(stdout, 'rows', { value: rows, configurable: true })
      stdout.emit('resize')
    }
  }
}

const noNode = (): Promise<TuiNode> => Promise.reject(new Error('this test opens no node'))

/** Every line of a frame fits the width, and the frame is shorter than the terminal. */
export function fits(frame: string, columns: number, rows: number): boolean {
  const lines = frame.split('\n')
  // eslint-disable-next-line no-control-regex
  const plain = (l: string): string => l.replace(/\u001b\[[0-9;]*m/g, '')
  return lines.length < rows && lines.every((l) => [...plain(l)].length <= columns)
}
