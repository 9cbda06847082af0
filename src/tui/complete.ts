import { statSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/**
 * Tab completion for a path input, like a shell's: the longest common prefix of the entries
 * that match, a trailing slash on a directory, and the candidates when more than one matches.
 */
export async function completePath(value: string, cwd: string): Promise<{ value: string; candidates: string[] }> {
  const expanded = expandHome(value)
  const dirPart = expanded.endsWith('/') ? expanded : path.dirname(expanded)
  const base = expanded.endsWith('/') ? '' : path.basename(expanded)
  const dir = path.resolve(cwd, dirPart === '' ? '.' : dirPart)
  let entries: Array<{ name: string; dir: boolean }>
  try {
    const list = await fs.readdir(dir, { withFileTypes: true })
    entries = list.map((e) => ({ name: e.name, dir: e.isDirectory() || (e.isSymbolicLink() && isDirSync(path.join(dir, e.name))) }))
  } catch {
    return { value, candidates: [] }
  }
  const matches = entries.filter((e) => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.'))).sort((a, b) => a.name.localeCompare(b.name))
  if (matches.length === 0) return { value, candidates: [] }
  const prefix = value.slice(0, value.length - base.length)
  if (matches.length === 1) {
    const only = matches[0]!
    return { value: prefix + only.name + (only.dir ? '/' : ''), candidates: [] }
  }
  let common = matches[0]!.name
  for (const m of matches) while (!m.name.startsWith(common)) common = common.slice(0, -1)
  return { value: prefix + common, candidates: matches.map((m) => m.name + (m.dir ? '/' : '')) }
}

function isDirSync(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** `~/…` as the shell means it. */
function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p
}

/** A path the user typed, absolute: `~/` expanded, relative to `cwd`. */
export function userPath(input: string, cwd: string): string {
  return path.resolve(cwd, expandHome(input.trim()))
}
