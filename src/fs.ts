import { type Dirent, type FSWatcher, watch } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'

/** File helpers shared by every layer: existence checks and writes that are never half-done. */
export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch {
    return false
  }
}

/** Create `file` (which must not exist), write `data`, fsync, close. */
export async function writeNewFileSynced(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const fh = await fs.open(file, 'wx', mode)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

let tmpCounter = 0

/** Write to a temporary file beside the target, sync, then rename over it: readers never see a partial file. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${target}.${process.pid}.${Date.now()}.${++tmpCounter}.tmp`
  try {
    await writeNewFileSynced(tmp, data, mode)
    await fs.rename(tmp, target)
  } catch (err) {
    await fs.rm(tmp, { force: true })
    throw err
  }
}

const NO_MODE_CHANGE = new Set(['ENOENT', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EROFS'])

/** Make `file` owner-only (a directory 0700, anything else 0600) unless it is; a file gone meanwhile is fine. */
async function ownerOnly(file: string): Promise<void> {
  try {
    const st = await fs.lstat(file)
    const mode = st.isDirectory() ? 0o700 : 0o600
    if (st.isSymbolicLink() || (st.mode & 0o777) === mode) return
    if (process.getuid && st.uid !== process.getuid()) return // another user's file (sudo once?): not ours to chmod, and chmod would fail
    await fs.chmod(file, mode)
  } catch (err) {
    // RocksDB deletes obsolete files at any moment; a file that vanished needs no mode. A
    // filesystem without Unix modes (vfat, some network mounts) refuses chmod: its mount options
    // decide who reads it, and refusing to open the home there would help nobody.
    if (!NO_MODE_CHANGE.has((err as NodeJS.ErrnoException).code ?? '')) throw err
  }
}

/**
 * Make `p` owner-only, and if it is a directory everything under it: directories 0700, files (and
 * sockets) 0600. Symbolic links are left alone (their targets are not ours to change). A missing
 * `p` is fine. Give it only paths the program owns: never a folder of the user's own files.
 */
export async function restrictTree(p: string): Promise<void> {
  let entries: Dirent[]
  try {
    entries = await fs.readdir(p, { withFileTypes: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR') return ownerOnly(p)
    if (code === 'ENOENT') return
    throw err
  }
  await ownerOnly(p)
  for (const e of entries) {
    const child = path.join(p, e.name)
    if (e.isDirectory()) await restrictTree(child)
    else await ownerOnly(child)
  }
}

/**
 * Keep files that another component creates in `dir` (no subdirectories) owner-only as they
 * appear: a directory watch chmods each new name. For writers that take no file mode
 * (RocksDB creates its files 0644). Returns the function that stops watching.
 */
export function keepOwnerOnly(dir: string): () => void {
  let watcher: FSWatcher
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (name) ownerOnly(path.join(dir, name.toString())).catch(() => {}) // best effort: the sweeps at open and close catch the rest
    })
  } catch {
    return () => {} // no watch available (inotify limits): the sweeps at open and close still apply
  }
  watcher.on('error', () => watcher.close())
  return () => watcher.close()
}
