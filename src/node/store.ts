import fs from 'node:fs/promises'
import path from 'node:path'
import Corestore from 'corestore'
import Hypercore from 'hypercore'
import { ChrysalisError } from '../errors.js'
import { keepOwnerOnly } from '../fs.js'

/**
 * HOME/store: the corestore (hypercore-storage on RocksDB) holding the own feed, its signing key
 * pair, followed feeds and the local index. Its cores are not offered on every connection (see
 * readyStore). RocksDB's defaults suit a server, not a home used by one short CLI command after
 * another, so three things are set here:
 *
 * - The write buffer (memtable) is 1 MiB instead of 64 MiB. RocksDB preallocates each write-ahead
 *   log at 1.1 × the write buffer, so a serving node's store took 70 MB of disk for its first post.
 * - Every open rotates RocksDB's info log to `LOG.old.<micros>` (~46 KB each) and RocksDB keeps
 *   1000 of them; rocksdb-native does not expose `keep_log_file_num`, so the older ones are removed
 *   here after each open, keeping the last run's.
 * - RocksDB creates its files 0644 (`allow_non_owner_access` is not exposed either) and some hold
 *   the feed's secret key: the directories are made 0700 and new files 0600 as they appear.
 */
export const STORE_DIR = 'store'
const DB_DIR = 'db'
export const WRITE_BUFFER_BYTES = 1024 * 1024
/** Rotated info logs kept besides the current LOG. */
export const KEEP_INFO_LOGS = 1

export interface OpenedStore {
  store: Corestore
  /** Stop watching the store's modes (call after store.close()). */
  release: () => void
}

/** Open the corestore in HOME, turning RocksDB's lock error into one line a person can act on. */
export async function openStore(home: string): Promise<OpenedStore> {
  const dir = path.join(home, STORE_DIR)
  const db = path.join(dir, DB_DIR)
  await fs.mkdir(db, { recursive: true, mode: 0o700 })
  const release = keepOwnerOnly(db)
  let store: Corestore
  try {
    store = await readyStore(dir)
  } catch (err) {
    if (!(await isHalfWrittenDeviceFile(dir, err))) {
      release()
      throw storeError(home, err)
    }
    // A first open killed between creating store/CORESTORE and writing it left it empty, and
    // hypercore-storage refuses an empty device file forever. It holds nothing yet: write it anew.
    await fs.rm(path.join(dir, DEVICE_FILE), { force: true })
    try {
      store = await readyStore(dir)
    } catch (again) {
      release()
      throw storeError(home, again)
    }
  }
  await pruneInfoLogs(db)
  return { store, release }
}

const DEVICE_FILE = 'CORESTORE'

async function readyStore(dir: string): Promise<Corestore> {
  // Not `active`: corestore would offer every open core on every connection (1,000 followed feeds
  // × 100 connections = 100,000 channels, ~450 MB at its peak). Presence attaches the feeds each
  // connection is for (protocol.md §8.4); a peer asking for a feed we hold still gets it.
  const store = new Corestore(Hypercore.defaultStorage(dir, { writeBufferSize: WRITE_BUFFER_BYTES }), { active: false })
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
  return store
}

/**
 * device-file takes the file's lock before it reads it, so refusing an empty file ("was modified",
 * or "was moved unsafely" when the kill came after it set its extended attribute) means no live
 * process is writing it: it is the leftover of a killed one.
 */
async function isHalfWrittenDeviceFile(dir: string, err: unknown): Promise<boolean> {
  if (!(err instanceof Error) || !/^Invalid device file, was (modified|moved unsafely)$/.test(err.message)) return false
  const st = await fs.stat(path.join(dir, DEVICE_FILE)).catch(() => null)
  return st !== null && st.size === 0
}

function storeError(home: string, err: unknown): unknown {
  if (err instanceof Error && /could not be locked|LOCK/i.test(err.message)) {
    return new ChrysalisError('HOME_LOCKED', `another chrysalis process is using ${home}; close it, or run this command through it`)
  }
  return err
}

/** Remove rotated RocksDB info logs (`LOG.old.<micros>`) but the newest KEEP_INFO_LOGS. */
export async function pruneInfoLogs(db: string): Promise<void> {
  const old = (await fs.readdir(db)).filter((n) => /^LOG\.old\.\d+$/.test(n))
  old.sort((a, b) => (BigInt(a.slice(8)) < BigInt(b.slice(8)) ? 1 : -1)) // newest first
  for (const name of old.slice(KEEP_INFO_LOGS)) await fs.rm(path.join(db, name), { force: true })
}
