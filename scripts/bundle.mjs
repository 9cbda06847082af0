// The bundled executable, for a fast start: importing Ink and the Holepunch stack from hundreds
// of files costs ~600 ms. launch.mjs draws the TUI first; the node's chunk loads after.
// Native addons stay external (they load their prebuilds at run time).
import { build } from 'esbuild'
import fs from 'node:fs'

const external = fs
  .readdirSync('node_modules')
  .filter((name) => fs.existsSync(`node_modules/${name}/prebuilds`) || fs.existsSync(`node_modules/${name}/binding.gyp`))

// Chunks are named by hash: without this, every build would leave the previous ones behind.
fs.rmSync('dist/bundle', { recursive: true, force: true })

await build({
  // The hash worker is a file of its own: worker threads start from a file (hash-pool.ts).
  entryPoints: { launch: 'src/cli/launch.ts', 'hash-worker': 'src/transfer/hash-worker.ts' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  define: { 'process.env.NODE_ENV': '"production"' },
  // Ink imports react-devtools-core only when DEV is set; the bundle must not need it.
  alias: { 'react-devtools-core': './scripts/devtools-stub.mjs' },
  banner: {
    js: [
      "import { createRequire as __chrysalisCreateRequire } from 'node:module';",
      'const require = __chrysalisCreateRequire(import.meta.url);'
    ].join('\n')
  },
  legalComments: 'none',
  logLevel: 'warning'
})
fs.chmodSync('dist/bundle/launch.mjs', 0o755)
