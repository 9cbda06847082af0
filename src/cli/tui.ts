import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ChrysalisNode } from '../node/node.js'
import { str, type Command } from './commands.js'

/**
 * `chrysalis tui` (and `chrysalis` alone in a terminal): the terminal UI, hosting the node like
 * `serve` does, so other commands for the same home run through it. Ink is loaded only here.
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
      const code = await runTui({
        home: ctx.home,
        downloads,
        async openNode() {
          const node = await ChrysalisNode.open({ home: ctx.home })
          let stopServing: (() => Promise<void>) | null = null
          try {
            await fs.promises.mkdir(downloads, { recursive: true })
            await node.online({ bootstrap: ctx.bootstrap() })
            node.live()
            stopServing = await ctx.serveRequests(node)
          } catch (err) {
            await node.close()
            throw err
          }
          return {
            node,
            async close() {
              await stopServing?.()
              await node.close()
            }
          }
        }
      })
      if (code !== 0) process.exitCode = code
    }
  }
}

/** ~/Downloads when there is one (what people look in), else HOME/downloads. */
function defaultDownloads(home: string): string {
  const downloads = path.join(os.homedir(), 'Downloads')
  return fs.existsSync(downloads) ? downloads : path.join(home, 'downloads')
}
