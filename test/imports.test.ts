// The layering (README "The shape of the code"): run-time imports between src/ modules, static
// and dynamic, form no circle. Found by reading every import of every source file.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'

const SRC = path.join(import.meta.dirname, '..', 'src')

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return sources(p)
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : []
  })
}

/**
 * The src/ files a file imports at run time (`from './x.js'`, `import('./x.js')`); `import type`
 * and `export type` are erased by the compiler and are not followed.
 */
function importsOf(file: string, known: Set<string>): string[] {
  const text = fs.readFileSync(file, 'utf-8').replace(/^(?:import|export) type [^;]*?from\s+['"][^'"]+['"]/gms, '')
  const out: string[] = []
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const base = path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, '')
    const target = [`${base}.ts`, `${base}.tsx`].find((f) => known.has(f))
    if (target) out.push(target)
  }
  return out
}

test('imports: no circle among src/ modules (static or dynamic, at run time)', (t) => {
  const files = sources(SRC)
  const known = new Set(files)
  const graph = new Map(files.map((f) => [f, importsOf(f, known)]))
  const state = new Map<string, 'open' | 'done'>()
  const circles: string[] = []
  const visit = (f: string, trail: string[]): void => {
    if (state.get(f) === 'done') return
    if (state.get(f) === 'open') {
      circles.push([...trail.slice(trail.indexOf(f)), f].map((x) => path.relative(SRC, x)).join(' → '))
      return
    }
    state.set(f, 'open')
    for (const g of graph.get(f)!) visit(g, [...trail, f])
    state.set(f, 'done')
  }
  for (const f of files) visit(f, [])
  t.ok(files.length > 50, `${files.length} source files read`)
  t.alike(circles, [], 'no module imports itself through others')
})

/** The src/ files a file loads before it runs: its static imports, transitively (not `import()`). */
function staticClosure(file: string, known: Set<string>): Set<string> {
  const seen = new Set<string>()
  const walk = (f: string): void => {
    if (seen.has(f)) return
    seen.add(f)
    const text = fs.readFileSync(f, 'utf-8').replace(/^(?:import|export) type [^;]*?from\s+['"][^'"]+['"]/gms, '')
    for (const m of text.matchAll(/from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const base = path.resolve(path.dirname(f), m[1]!).replace(/\.js$/, '')
      const target = [`${base}.ts`, `${base}.tsx`].find((x) => known.has(x))
      if (target) walk(target)
    }
  }
  walk(file)
  return seen
}

test('imports: the TUI launcher draws its first frame without loading the node or the network (they come by import())', (t) => {
  const known = new Set(sources(SRC))
  const loaded = [...staticClosure(path.join(SRC, 'cli', 'tui-launch.ts'), known)].map((f) => path.relative(SRC, f))
  const heavy = loaded.filter((f) => /^(node\/node|net\/|transfer\/transfers|cli\/host|cli\/main)/.test(f))
  t.alike(heavy, [], 'tui-launch.ts loads none of node/node.ts, net/, transfer/transfers.ts, cli/host.ts, cli/main.ts before it runs')
})
