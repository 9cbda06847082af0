import fsCb from 'node:fs'
import type fs from 'node:fs/promises'

/** Write all of `data` (a nearly full disk may take part of it, then fail on the rest). */
export async function writeAll(fh: fs.FileHandle, data: Buffer, position: number | null): Promise<void> {
  let done = 0
  while (done < data.length) {
    const bytesWritten = await writeFd(fh.fd, data, done, data.length - done, position === null ? null : position + done)
    if (bytesWritten === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    done += bytesWritten
  }
}

/**
 * fs.write / fs.read on a FileHandle's descriptor, with callbacks: the same syscalls in the thread
 * pool as FileHandle.write/read, at a fraction of their per-call cost in JavaScript (these run
 * once per piece).
 */
export function writeFd(fd: number, buf: Buffer, offset: number, length: number, position: number | null): Promise<number> {
  return new Promise((resolve, reject) => fsCb.write(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))))
}

export function datasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsCb.fdatasync(fd, (err) => (err ? reject(err) : resolve())))
}

export function readFd(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fsCb.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))))
}
