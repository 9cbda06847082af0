import { constants } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'

/**
 * Paths a download writes, checked without following symbolic links. The download folder
 * (`--out`) is the user's choice and may itself be a symlink (resolved once, by the caller);
 * everything below it is checked component by component with lstat, created when missing,
 * refused when it is a symlink or not what it should be. Files are created exclusively
 * (O_CREAT|O_EXCL|O_NOFOLLOW) and moved into place with link(2), which never replaces anything.
 *
 *   await ensureDirs(out, ['album', 'disc 1'])              // OUT/album/disc 1, real directories
 *   const fh = await createExclusive(part)                  // a new file, or EEXIST
 *   await placeNew(part, path.join(out, 'album', 'a.flac')) // FILE_EXISTS if the name is taken
 */

/** The folder inside `--out` that holds partial downloads: one private directory per torrent. */
export const PARTS_DIR = '.chrysalis-parts'

const NOFOLLOW = constants.O_NOFOLLOW ?? 0

export function unsafe(file: string, what: string): ChrysalisError {
  return new ChrysalisError('UNSAFE_PATH', `${file} ${what}; a download never follows or replaces it (move it away, or fetch into another folder with --out)`)
}

function describe(st: { isSymbolicLink(): boolean; isDirectory(): boolean }): string {
  return st.isSymbolicLink() ? 'is a symbolic link' : st.isDirectory() ? 'is a directory' : 'is not a directory'
}

/** Make sure root/rel[0]/rel[1]/… are real directories (created when missing), never symlinks. */
export async function ensureDirs(root: string, rel: string[]): Promise<void> {
  let dir = root
  for (const name of rel) {
    dir = path.join(dir, name)
    let st = await fs.lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null
      throw err
    })
    if (!st) {
      await fs.mkdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err
      })
      st = await fs.lstat(dir)
    }
    if (!st.isDirectory()) throw unsafe(dir, describe(st))
  }
}

/**
 * A directory only this user can enter: created 0700, or, when it exists, a real directory (not
 * a symlink) owned by this uid and closed to others. Anything else is refused.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err
  })
  const st = await fs.lstat(dir)
  if (!st.isDirectory()) throw unsafe(dir, describe(st))
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid) throw unsafe(dir, `belongs to another user (uid ${st.uid})`)
  if ((st.mode & 0o077) !== 0) throw unsafe(dir, `is open to other users (mode ${(st.mode & 0o777).toString(8)}, expected 700)`)
}

/** A new file, opened read-write; EEXIST when anything (a dangling symlink too) has the name. */
export function createExclusive(file: string): Promise<fs.FileHandle> {
  return fs.open(file, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | NOFOLLOW, 0o666)
}

/**
 * An existing file of ours, opened without following a symlink (`write` for read-write), and
 * checked: a regular file with one link and at most `maxSize` bytes.
 */
export async function openOwn(file: string, write: boolean, maxSize: number): Promise<fs.FileHandle> {
  const fh = await fs.open(file, (write ? constants.O_RDWR : constants.O_RDONLY) | NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') throw unsafe(file, 'is a symbolic link')
    throw err
  })
  try {
    const st = await fh.stat()
    if (!st.isFile()) throw unsafe(file, 'is not a regular file')
    if (st.nlink !== 1) throw unsafe(file, `has ${st.nlink} names (hard links)`)
    if (st.size > maxSize) throw unsafe(file, `is larger (${st.size} bytes) than the file it holds (${maxSize} bytes)`)
    return fh
  } catch (err) {
    await fh.close()
    throw err
  }
}

/** Link errors that mean "this filesystem has no hard links": fall back to a checked rename. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EACCES'])

/**
 * Give `from` the new name `to` and drop the old one, never replacing anything at `to` (a file,
 * a directory, a dangling symlink): FILE_EXISTS then, and `from` stays where it was.
 */
export async function placeNew(from: string, to: string): Promise<void> {
  try {
    await fs.link(from, to)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw taken(to)
    if (!code || !NO_LINKS.has(code)) throw err
    // No hard links here: rename, after checking nothing has the name (a narrow race remains).
    if (await fs.lstat(to).then(() => true, () => false)) throw taken(to)
    await fs.rename(from, to)
    return
  }
  await fs.unlink(from)
}

function taken(file: string): ChrysalisError {
  return new ChrysalisError('FILE_EXISTS', `${file} already exists; the download is kept and was not put there (move that file away, then run the fetch again to finish it)`)
}

/** Remove a torrent's private directory OUT/.chrysalis-parts/NAME and, when empty, the parts folder. */
export async function removePrivateDir(out: string, name: string): Promise<void> {
  const parts = path.join(out, PARTS_DIR)
  const st = await fs.lstat(parts).catch(() => null)
  if (!st?.isDirectory()) return // missing, or not ours to walk into
  const dir = path.join(parts, name)
  const own = await fs.lstat(dir).catch(() => null)
  // fs.rm does not follow symlinks inside; a symlink at `dir` itself is removed, not followed.
  if (own) await fs.rm(dir, { recursive: true, force: true })
  await fs.rmdir(parts).catch(() => {})
}
