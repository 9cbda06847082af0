// End to end in a real terminal: `npm run demo`'s program in tmux (CI unset for the app, so Ink
// draws), driven like a newcomer: create an identity, discover the collectors, follow one, open
// a thread, comment and get an answer, fetch an attachment, quit. The demo's DHT is on 127.0.0.1.
import test from 'brittle'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { COLLECTORS } from '../src/demo/cast.js'
import { waitFor } from './helpers.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DEMO = path.join(ROOT, 'dist', 'src', 'demo', 'main.js')

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'])
    return true
  } catch {
    return false
  }
}

test('tmux: identity → discover → follow → thread → comment and answer → fetch → quit, against the demo', async (t) => {
  if (!hasTmux()) throw new Error('this test needs tmux: sudo apt-get install -y tmux')
  const socket = `chrysalis-e2e-${process.pid}`
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf-8' })
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'demo')
  const until = async (what: string | RegExp, ms = 20_000): Promise<string> => {
    const match = (s: string): boolean => (typeof what === 'string' ? s.includes(what) : what.test(s))
    await waitFor(() => match(screen()), ms).catch(() => {
      throw new Error(`the terminal never showed ${String(what)}; it shows:\n${screen()}`)
    })
    return screen()
  }
  const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'demo', ...k)
  const typed = (text: string): void => void tmux('send-keys', '-t', 'demo', '-l', text)
  /** The selected item: the line with the › marker and the one below it. */
  const selected = (): string => {
    const lines = screen().split('\n')
    const i = lines.findIndex((l) => l.startsWith('›'))
    return i < 0 ? '' : `${lines[i]}\n${lines[i + 1] ?? ''}`
  }
  /** Move the selection down until it shows `text`. */
  const select = async (text: string): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      const now = selected()
      if (now.includes(text)) return
      keys('j')
      await waitFor(() => selected() !== now, 2000).catch(() => {})
    }
    throw new Error(`could not select "${text}":\n${screen()}`)
  }

  t.teardown(() => {
    try {
      tmux('kill-server')
    } catch {
      // already gone
    }
  })
  // The environment of the app: CI unset (Ink prints nothing until exit when CI is set).
  const env = `env -u CI NO_COLOR=1 ${process.execPath} ${DEMO}`
  tmux('new-session', '-d', '-s', 'demo', '-x', '100', '-y', '30', `${env}; echo EXIT=$?; sleep 60`)

  const answerer = COLLECTORS[0]! // every collector answers newcomers, signing off in its own way
  await until('Create a new identity', 60_000)
  keys('n')
  await until('Create your identity')
  typed('Newcomer')
  keys('Tab')
  typed('Learning CP/M')
  keys('Enter')
  await until('Press y once')
  keys('y')
  await until('Your timeline is empty')

  // Discover the collectors on the suggested topic, and follow the one who answers.
  keys('2', 'd')
  await until('Discover people by interest topic')
  keys('Enter')
  await until(answerer.name, 30_000)
  await select(answerer.name)
  keys('f')
  await until(`Following ${answerer.name}`)

  // Their posts arrive on the timeline; open the one with a scan and comment on it.
  keys('1')
  const post = answerer.posts.find((p) => p.scan)!
  const firstWords = post.text.split(' ').slice(0, 3).join(' ')
  await until(firstWords, 30_000)
  await select(firstWords)
  keys('Enter')
  await until(/Thread · \d+ comment/) // the thread itself, not only the header's tab
  keys('r')
  await until('Reply to')
  typed('Is this the complete scan?')
  keys('Enter')
  await until(/you\s*\n.*Is this the complete scan\?/)
  // The collector answers within seconds: the thread shows it as it arrives, with a notification.
  await until(answerer.signOff, 30_000)
  await until(/Notifications \([12]\)/) // the answer, and the collector following back
  keys('3')
  await until(`${answerer.name} followed you`, 20_000)
  keys('g', 'Enter') // the newest: the answer
  await until(answerer.signOff)

  // Fetch the scan from the thread's post.
  keys('g', 'f')
  const done = /Fetched \S+ →\s+(\S+)/ // the message may wrap after the arrow
  const file = done.exec(await until(done, 60_000))![1]!
  t.ok(fs.existsSync(file), `the scan is on disk: ${file}`)
  keys('4')
  await until('100%')

  keys('q')
  await until('EXIT=0', 20_000)
  t.pass('quit with exit code 0, the terminal given back')
  t.absent(fs.existsSync(path.dirname(path.dirname(file))), 'the demo removed its temporary directory')
})
