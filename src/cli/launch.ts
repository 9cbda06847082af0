#!/usr/bin/env node
/**
 * The `chrysalis` executable. The terminal UI is started before the network stack is even
 * loaded, so its first frame shows at once; every other command goes to main().
 */
const argv = process.argv.slice(2)

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
})

try {
  if (wantsTui(argv)) {
    const { launchTui } = await withoutFetch(() => import('./tui-launch.js'))
    process.exitCode = await launchTui(argv)
  } else {
    const { main } = await import('./main.js')
    process.exitCode = await main(argv)
  }
} catch (err) {
  process.stderr.write(`chrysalis: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
}

/**
 * Ink's layout engine (yoga, compiled by emscripten) asks `typeof fetch` while it loads, and on
 * Node 20 that loads the whole built-in HTTP client (undici): 25–40 ms before the first frame,
 * for nothing (yoga then reads its inlined binary anyway). The global is hidden while the UI
 * loads and put back as it was (still lazy) for whoever needs it later.
 */
async function withoutFetch<T>(load: () => Promise<T>): Promise<T> {
  const fetchProperty = Object.getOwnPropertyDescriptor(globalThis, 'fetch')
  if (fetchProperty?.configurable) delete (globalThis as { fetch?: unknown }).fetch
  try {
    return await load()
  } finally {
    if (fetchProperty?.configurable) Object.defineProperty(globalThis, 'fetch', fetchProperty)
  }
}

/** `chrysalis` alone or `chrysalis tui`, with only the options the TUI takes. */
function wantsTui(args: string[]): boolean {
  // Options the TUI takes that have a value (here, not at the top: this module runs before its end).
  const VALUED = ['--home', '--bootstrap', '--downloads', '--bt-port', '--bt-bootstrap']
  const words: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (VALUED.includes(a)) i++
    else if (VALUED.some((o) => a.startsWith(o + '='))) continue
    else if (a === '--encrypted-only' || a === '--no-bt-dht') continue
    else if (a.startsWith('-')) return false
    else words.push(a)
  }
  return words.length === 0 || (words.length === 1 && words[0] === 'tui')
}
