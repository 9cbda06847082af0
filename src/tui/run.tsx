import { Component, type ReactNode } from 'react'
import { render } from 'ink'
import { ChrysalisError } from '../errors.js'
import { App } from './app.js'
import { copyText } from './clipboard.js'
import { Controller, type OpenedNode } from './controller.js'
import { initialState, Store } from './store.js'
import { themeFor } from './theme.js'

export interface TuiOptions {
  home: string
  downloads: string
  /**
   * Open the node, then go online (live, answering other CLI commands) in the background: the
   * UI shows what is saved as soon as it resolves (OpenedNode). `close` undoes all of it.
   */
  openNode: () => Promise<OpenedNode & { close: () => Promise<void> }>
  stdin?: NodeJS.ReadStream
  stdout?: NodeJS.WriteStream
}

/**
 * Run the terminal UI until the user quits. Resolves with the exit code once the screen is
 * restored and the node is closed: on q, Ctrl-C, SIGTERM/SIGHUP, and after a crash (which
 * prints one line, never a stack trace).
 */
export async function runTui(opts: TuiOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin
  const stdout = opts.stdout ?? process.stdout
  if (!stdin.isTTY || !stdout.isTTY) {
    throw new ChrysalisError('USAGE', 'the terminal UI needs an interactive terminal; from scripts use the commands instead (chrysalis --help)')
  }
  let closeNode: (() => Promise<void>) | null = null
  let resolveExit: (code: number) => void = () => {}
  const exited = new Promise<number>((resolve) => (resolveExit = resolve))
  const store = new Store(initialState({ columns: stdout.columns || 80, rows: stdout.rows || 24 }))
  const controller: Controller = new Controller(store, {
    home: opts.home,
    downloads: opts.downloads,
    cwd: process.cwd(),
    async openNode() {
      const opened = await opts.openNode()
      closeNode = opened.close
      return opened
    },
    copy: (text) => copyText(text, { env: process.env, write: (data) => void stdout.write(data) }),
    exit: () => resolveExit(0)
  })
  const crash: { message: string | null } = { message: null }
  const onCrash = (err: unknown): void => {
    if (crash.message !== null) return
    crash.message = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    if (process.env.CHRYSALIS_DEBUG && err instanceof Error) crash.message += `\n${err.stack ?? ''}`
    resolveExit(1)
  }
  const instance = render(
    <Boundary onError={onCrash}>
      <App controller={controller} theme={themeFor()} />
    </Boundary>,
    { stdin, stdout, exitOnCtrlC: false, patchConsole: true }
  )
  const onSignal = (): void => controller.quit()
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  controller.start().catch(onCrash)
  const code = await exited
  await controller.close()
  instance.unmount() // restores the cursor and the terminal's mode
  await instance.waitUntilExit().catch(() => {})
  process.off('SIGTERM', onSignal)
  process.off('SIGHUP', onSignal)
  try {
    await (closeNode as (() => Promise<void>) | null)?.()
  } catch {
    // closing after a crash: the one line below says what matters
  }
  process.off('uncaughtException', onCrash)
  process.off('unhandledRejection', onCrash)
  if (crash.message !== null) {
    process.stderr.write(`chrysalis: the terminal UI stopped on an unexpected error: ${crash.message}; run again with CHRYSALIS_DEBUG=1 and report it\n`)
  }
  return code
}

/** Catches render errors so that Ink does not print its stack-trace overview. */
class Boundary extends Component<{ onError: (err: unknown) => void; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false }

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true }
  }

  override componentDidCatch(err: unknown): void {
    this.props.onError(err)
  }

  override render(): ReactNode {
    return this.state.failed ? null : this.props.children
  }
}
