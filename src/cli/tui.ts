import { str, type Command } from './commands.js'
import { defaultDownloads } from './downloads.js'

/**
 * `chrysalis tui` through main() (the executable starts the UI itself, see launch.ts): the
 * terminal UI, hosting the node like `serve` does. Ink is loaded only here.
 */
export const TUI_COMMANDS: Record<string, Command> = {
  tui: {
    usage: 'tui [--downloads DIR]',
    summary: 'the terminal UI (also `chrysalis` alone): follow people, converse, fetch and seed files',
    options: { downloads: { type: 'string' } },
    args: [0, 0],
    servesHome: true,
    async run(ctx) {
      const downloads = ctx.resolvePath(str(ctx, 'downloads') ?? process.env.CHRYSALIS_DOWNLOADS ?? defaultDownloads(ctx.home))
      const { runTui } = await import('../tui/run.js')
      const openNode = () => ctx.host(downloads)
      const code = await runTui({ home: ctx.home, downloads, openNode })
      if (code !== 0) process.exitCode = code
    }
  }
}
