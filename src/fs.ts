import fs from 'node:fs/promises'

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
