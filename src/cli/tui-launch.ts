import path from 'node:path'
import { parseArgs } from 'node:util'
import { isChrysalisError } from '../errors.js'
import { resolveHome } from '../identity/home.js'
import { runTui } from '../tui/run.js'
import { BT_OPTIONS, btFlagsOf } from './bt-flags.js'
import { defaultDownloads } from './downloads.js'

/**
 * `chrysalis [tui]` from the executable: draw the UI first, load the node and the network when
 * the UI asks for them. Returns the exit code; errors are one line on stderr.
 */
export async function launchTui(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv.filter((a) => a !== 'tui'),
      options: {
        home: { type: 'string' },
        bootstrap: { type: 'string', multiple: true },
        downloads: { type: 'string' },
        ...BT_OPTIONS
      },
      allowPositionals: false,
      strict: true
    })
    const home = resolveHome(values.home)
    const btFlags = btFlagsOf(values)
    const downloads = path.resolve(values.downloads ?? process.env.CHRYSALIS_DOWNLOADS ?? defaultDownloads(home))
    return await runTui({
      home,
      downloads,
      async openNode() {
        const { hostNode } = await import('./main.js')
        return hostNode(home, values.bootstrap ?? [], downloads, btFlags)
      }
    })
  } catch (err) {
    const message = isChrysalisError(err) ? err.message : err instanceof Error ? err.message.split('. ')[0]! : String(err)
    process.stderr.write(`chrysalis: ${message}\n`)
    return isChrysalisError(err) && err.code !== 'USAGE' ? 1 : 2
  }
}
