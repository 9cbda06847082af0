import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * ~/Downloads when there is one (where people look), else HOME/downloads. A module of its own:
 * the TUI launcher reads it before its first frame, and must not load the network stack for it.
 */
export function defaultDownloads(home: string): string {
  const downloads = path.join(os.homedir(), 'Downloads')
  return fs.existsSync(downloads) ? downloads : path.join(home, 'downloads')
}
