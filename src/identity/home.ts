import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as b4a from '../bytes.js'
import { ChrysalisError } from '../errors.js'
import { exists, writeFileAtomic, writeNewFileSynced } from '../fs.js'
import { crashPoint } from '../crash.js'
import { Identity } from './keys.js'

/**
 * The home directory holds one identity and everything its node stores:
 *
 *   HOME/identity.json   the seed (0600)
 *   HOME/init.json       present while `init` has not shown the recovery phrase yet
 *   HOME/recovery.json   present while a restored identity's feed is not recovered
 *   HOME/store/          corestore: the own feed (and its key pair), followed feeds, the local index
 *   HOME/torrents/       what the node shares and fetches
 *
 * HOME is `--home DIR`, else $CHRYSALIS_HOME, else $XDG_DATA_HOME/chrysalis, else
 * ~/.local/share/chrysalis. It is created 0700, and everything the node keeps in it is owner-only.
 */
export const IDENTITY_FILE = 'identity.json'
const IDENTITY_FORMAT = 'chrysalis-identity'

export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return path.resolve(flag)
  if (env.CHRYSALIS_HOME) return path.resolve(env.CHRYSALIS_HOME)
  const data = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
  return path.resolve(data, 'chrysalis')
}

export async function ensureHome(home: string): Promise<void> {
  await fs.mkdir(home, { recursive: true, mode: 0o700 })
  await fs.chmod(home, 0o700)
}

export function hasIdentity(home: string): Promise<boolean> {
  return exists(path.join(home, IDENTITY_FILE))
}

/**
 * Store an identity in HOME. Never overwrites: the file is written under a temporary name, synced,
 * then hard-linked into place, which fails atomically if an identity is already there.
 */
export async function saveIdentity(home: string, identity: Identity): Promise<void> {
  await ensureHome(home)
  const target = path.join(home, IDENTITY_FILE)
  if (await hasIdentity(home)) throw identityExists(home)
  await removeStaleTemps(home)
  const tmp = path.join(home, `.${IDENTITY_FILE}.${process.pid}.${Date.now()}.tmp`)
  const seed = identity.exportSeed()
  const body = JSON.stringify({ format: IDENTITY_FORMAT, version: 1, id: identity.id, seed: b4a.toString(seed, 'hex') }) + '\n'
  seed.fill(0)
  try {
    await writeNewFileSynced(tmp, body, 0o600)
    crashPoint('identity:written')
    await fs.link(tmp, target)
    await syncDir(home) // the link is durable before anyone is told about the identity
    crashPoint('identity:linked')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw identityExists(home)
    throw err
  } finally {
    await fs.rm(tmp, { force: true })
  }
}

/**
 * A process killed between writing the temporary identity file and removing it leaves a copy of
 * the seed behind (0600, but still a copy): remove those whose writer is gone.
 */
export async function removeStaleTemps(home: string): Promise<void> {
  let names: string[]
  try {
    names = await fs.readdir(home)
  } catch {
    return // no home yet: nothing stale in it
  }
  for (const name of names) {
    const m = /^\.identity\.json\.(\d+)\.\d+\.tmp$/.exec(name)
    if (m && !isRunning(Number(m[1]))) await fs.rm(path.join(home, name), { force: true })
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return false // a file of an earlier process that had our pid
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

export async function loadIdentity(home: string): Promise<Identity> {
  let text: string
  try {
    text = await fs.readFile(path.join(home, IDENTITY_FILE), 'utf-8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ChrysalisError('NO_IDENTITY', `no identity in ${home}; create one with \`chrysalis init --name NAME\` or restore one with \`chrysalis identity import\``)
    }
    throw err
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    doc = null
  }
  const seedHex = typeof doc === 'object' && doc !== null && 'seed' in doc ? doc.seed : null
  const id = typeof doc === 'object' && doc !== null && 'id' in doc ? doc.id : null
  if (typeof seedHex !== 'string' || !/^[0-9a-f]{64}$/.test(seedHex)) throw damagedIdentity(home)
  const seed = b4a.from(seedHex, 'hex')
  const identity = Identity.fromSeed(seed)
  seed.fill(0)
  if (identity.id !== id) throw damagedIdentity(home)
  return identity
}

function identityExists(home: string): ChrysalisError {
  return new ChrysalisError('IDENTITY_EXISTS', `${home} already has an identity, and an identity is never overwritten; use another --home`)
}

function damagedIdentity(home: string): ChrysalisError {
  return new ChrysalisError('NO_IDENTITY', `the identity file in ${home} is damaged; restore it with \`chrysalis identity import\` into a new home`)
}

/**
 * A restored identity may already have a feed on other devices. Writing before that feed is
 * recovered would fork it forever, so `identity import` leaves this marker and the node refuses
 * to write until recovery (the network's sync) or the user's word that it never posted clears it.
 */
export const RECOVERY_FILE = 'recovery.json'

export async function markRecovering(home: string): Promise<void> {
  await ensureHome(home)
  await writeFileAtomic(path.join(home, RECOVERY_FILE), JSON.stringify({ state: 'recovering', since: Date.now() }) + '\n', 0o600)
}

export function isRecovering(home: string): Promise<boolean> {
  return exists(path.join(home, RECOVERY_FILE))
}

export async function clearRecovering(home: string): Promise<void> {
  await fs.rm(path.join(home, RECOVERY_FILE), { force: true })
}

/**
 * `init` writes this marker before the identity and removes it once the recovery phrase has been
 * shown: an identity with the marker is one whose phrase the user may never have seen, and `init`
 * run again resumes it (sets the profile, shows the phrase) instead of refusing.
 */
export const INIT_FILE = 'init.json'

export async function markInitPending(home: string): Promise<void> {
  await ensureHome(home)
  await writeFileAtomic(path.join(home, INIT_FILE), JSON.stringify({ state: 'pending', since: Date.now() }) + '\n', 0o600)
}

export function isInitPending(home: string): Promise<boolean> {
  return exists(path.join(home, INIT_FILE))
}

export async function clearInitPending(home: string): Promise<void> {
  await fs.rm(path.join(home, INIT_FILE), { force: true })
}

/** The files the node keeps at the top of HOME (all 0600). */
export const HOME_FILES = [IDENTITY_FILE, INIT_FILE, RECOVERY_FILE]
