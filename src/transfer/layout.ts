import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { type Metainfo, filePath } from './metainfo.js'
import { type FileSlot, PARTS_DIR } from './storage.js'

/**
 * Where a fetched torrent's files go: final paths inside the download folder for the files
 * selected, refusing any path that escapes it or takes the name of the partial-data folder.
 *
 *   const out = await downloadFolder('~/Downloads')
 *   const slots = layoutFiles(meta, out, ['scans/'])
 */
export function layoutFiles(meta: Metainfo, out: string, select: string[]): FileSlot[] {
  const matched = new Set<string>()
  const files = meta.files.map((f) => {
    const rel = filePath(meta, f)
    const inside = f.path.join('/')
    const chosen =
      select.length === 0 ||
      select.some((s) => {
        const hit = inside === s || inside.startsWith(s.replace(/\/$/, '') + '/') || rel.join('/') === s
        if (hit) matched.add(s)
        return hit
      })
    const full = path.resolve(out, ...rel)
    if (!full.startsWith(path.resolve(out) + path.sep)) throw new ChrysalisError('BAD_TORRENT', `the torrent's path ${rel.join('/')} escapes the download directory; it was refused`)
    if (rel[0]!.toLowerCase() === PARTS_DIR) throw new ChrysalisError('BAD_TORRENT', `the torrent's name ${rel[0]} is the folder kept for partial downloads; it was refused`)
    return { path: full, skip: !chosen, done: false, mtimeMs: null }
  })
  const missing = select.filter((s) => !matched.has(s))
  if (missing.length > 0) throw new ChrysalisError('NOT_FOUND', `the torrent has no file ${missing[0]}; see its files with \`chrysalis fetch ${meta.infohash.toString('hex')} --list\``)
  return files
}

/**
 * The download folder, resolved once: it is the user's choice and may be a symlink (~/Downloads
 * to /data); everything below it is checked without following symlinks (safe-path.ts).
 */
export async function downloadFolder(out: string): Promise<string> {
  const dir = path.resolve(out)
  try {
    await fs.mkdir(dir, { recursive: true })
    return await fs.realpath(dir)
  } catch (err) {
    throw new ChrysalisError('IO', `cannot use ${dir} as the download folder (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose another with --out`, { cause: err })
  }
}

