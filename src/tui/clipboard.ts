import { spawn } from 'node:child_process'

/**
 * Putting text on the clipboard from a terminal program, and saying how it went: inside tmux,
 * into tmux's paste buffer (`tmux load-buffer -w -`: tmux 3.2+ also hands it on to the outer
 * terminal's clipboard), since tmux drops a program's own OSC 52 unless set-clipboard is on;
 * elsewhere, as an OSC 52 sequence to the terminal, which may or may not honour it (nothing comes
 * back to say).
 *
 *   const how = await copyText(magnet, { env: process.env, write: (d) => stdout.write(d) })
 */
export type Copied =
  /** In tmux's paste buffer (prefix ] pastes it). */
  | 'tmux'
  /** Sent to the terminal as OSC 52. */
  | 'terminal'
  /** Not possible here. */
  | 'failed'

export interface CopyDeps {
  env: Readonly<Record<string, string | undefined>>
  /** Writes to the terminal. */
  write: (data: string) => void
  /** Runs tmux with `args`, `input` on its stdin; rejects when it fails (tests hand in their own). */
  tmux?: (args: string[], input: string, env: Readonly<Record<string, string | undefined>>) => Promise<void>
}

export async function copyText(text: string, deps: CopyDeps): Promise<Copied> {
  if (deps.env.TMUX) {
    const tmux = deps.tmux ?? runTmux
    // -w (tmux 3.2+) also sets the terminal's clipboard; older tmux refuses the flag: without it.
    for (const args of [['load-buffer', '-w', '-'], ['load-buffer', '-']]) {
      const ok = await tmux(args, text, deps.env).then(() => true, () => false)
      if (ok) return 'tmux'
    }
    return 'failed'
  }
  if (deps.env.TERM === 'dumb') return 'failed'
  deps.write(`\x1b]52;c;${Buffer.from(text).toString('base64')}\x07`)
  return 'terminal'
}

/** The one line that says how a copy went; the text copied is on the screen above it. */
export function copiedLine(what: string, how: Copied): string {
  if (how === 'tmux') return `${what} copied into tmux's paste buffer (prefix ] pastes it; tmux passes it on to your clipboard where it can).`
  if (how === 'terminal') return `${what} sent to the clipboard (OSC 52); if pasting gives nothing, your terminal refused it: the ${what.toLowerCase()} is shown above.`
  return `Copy not possible here; the ${what.toLowerCase()} is shown above.`
}

function runTmux(args: string[], input: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tmux', args, { env: { ...env }, stdio: ['pipe', 'ignore', 'ignore'], timeout: 3000 })
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tmux ${args.join(' ')} exited with ${code}`))))
    child.stdin.on('error', reject) // tmux gone before reading: the close above says it
    child.stdin.end(input)
  })
}
