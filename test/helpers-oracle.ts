// libtorrent 2.0.8 as an independent oracle (../shared/tools/bt-oracle.py, python3-libtorrent).
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)
/** A copy of ../shared/tools/bt-oracle.py, so a clone carries its oracle. */
export const ORACLE = path.resolve(import.meta.dirname, 'oracle', 'bt-oracle.py')

interface OracleResult {
  v2: { infohash: string; bytes: Buffer }
  hybrid: { infohash: string; v1: string; bytes: Buffer }
}

export async function oracleMake(target: string, pieceLength: number, out: string): Promise<OracleResult> {
  const { stdout } = await exec('/usr/bin/python3', [ORACLE, 'make', target, String(pieceLength), out])
  const line = (kind: string): RegExpExecArray => {
    const m = new RegExp(`^${kind}\\s+v2=([0-9a-f]{64}) v1=(\\S+) pieces=\\d+ -> (.*)$`, 'm').exec(stdout)
    if (!m) throw new Error(`oracle output without ${kind}: ${stdout}`)
    return m
  }
  const v2 = line('v2')
  const hy = line('hybrid')
  return {
    v2: { infohash: v2[1]!, bytes: await fs.readFile(v2[3]!) },
    hybrid: { infohash: hy[1]!, v1: hy[2]!, bytes: await fs.readFile(hy[3]!) }
  }
}

