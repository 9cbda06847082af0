// `npm run demo`: start the demo from the built tree, building first only when the build is
// missing or older than a source file (an installed checkout starts in seconds, not after a
// full TypeScript build every time).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const entry = path.join(root, 'dist', 'src', 'demo', 'main.js')

/** @param {string} dir @returns {number} */
function newest(dir) {
  let t = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs)
  }
  return t
}

function stale() {
  if (!fs.existsSync(entry)) return 'there is no build yet'
  const built = fs.statSync(entry).mtimeMs
  const sources = Math.max(newest(path.join(root, 'src')), fs.statSync(path.join(root, 'package.json')).mtimeMs)
  return sources > built ? 'a source file changed since the last build' : null
}

const why = stale()
if (why) {
  process.stderr.write(`building first: ${why}…\n`)
  const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  if (built.status !== 0) process.exit(built.status ?? 1)
}
const run = spawnSync(process.execPath, [entry, ...process.argv.slice(2)], { stdio: 'inherit' })
process.exit(run.status ?? 1)
