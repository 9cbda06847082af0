// `chrysalis torrent show` as a process, on torrents and magnets libtorrent made (test/fixtures/lt-made).
import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { encode, type BValue } from '../src/transfer/bencode.js'
import type { TorrentShow } from '../src/cli/torrent-show.js'
import { tmpDir } from './helpers.js'
import { json, oneLineError, run } from './helpers-cli.js'

const DIR = fileURLToPath(new URL('./fixtures/lt-made/', import.meta.url))
const CORPUS = fileURLToPath(new URL('./fixtures/libtorrent-torrents/', import.meta.url))
const { torrents } = JSON.parse(await fs.readFile(DIR + 'vectors.json', 'utf-8')) as { torrents: Array<{ file: string; v1: string | null; v2: string | null; magnet: string }> }
const TRACKERS = ['udp://127.0.0.1:6969/announce', 'http://127.0.0.1:8000/announce']
const FILES = [{ path: 'Kaypro II manuals/README.txt', size: 1000 }, { path: 'Kaypro II manuals/scans/page-001.tif', size: 70000 }]

test('torrent show: v1, v2 and hybrid torrents made by libtorrent, --json and human', async (t) => {
  for (const [file, kind] of [['folder-v1.torrent', 'v1'], ['folder-v2.torrent', 'v2'], ['folder-hybrid.torrent', 'hybrid']] as const) {
    const v = torrents.find((x) => x.file === file)!
    const shown = await json<TorrentShow>(t, ['torrent', 'show', DIR + file])
    t.alike(
      { ...shown, files: [...shown.files!].sort((a, b) => a.path.localeCompare(b.path)), magnet: null },
      {
        source: 'torrent', kind, name: 'Kaypro II manuals', infohash: v.v2 ?? v.v1, infohashV1: v.v1, infohashV2: v.v2, magnet: null,
        pieceLength: 16384, pieces: kind === 'v1' ? 5 : 6, size: 71000, files: FILES, trackers: TRACKERS, webSeeds: ['http://127.0.0.1:8080/files/'], peers: [],
        comment: 'Scans of the Kaypro II manuals', createdBy: 'libtorrent 2.0.8 (test/oracle/lt-make.py)', creationDate: '2023-11-14T22:13:20.000Z'
      },
      `${file}: every field`
    )
    t.is(shown.magnet!.includes('xt=urn:btih:'), kind !== 'v2', `${file}: btih in the magnet iff it has a v1 hash`)
    t.is(shown.magnet!.includes('xt=urn:btmh:1220'), kind !== 'v1', `${file}: btmh in the magnet iff it has a v2 hash`)
    const human = await run(['torrent', 'show', DIR + file])
    t.is(human.code, 0)
    for (const line of ['Name:         Kaypro II manuals', `Kind:         ${kind === 'hybrid' ? 'hybrid (BitTorrent v1 and v2)' : `BitTorrent ${kind}`}`, 'Total size:   69 KiB (71000 bytes) in 2 files', '  Kaypro II manuals/', '    scans/', '      page-001.tif (68 KiB)', '  udp://127.0.0.1:6969/announce', '  http://127.0.0.1:8080/files/', 'Comment:      Scans of the Kaypro II manuals']) {
      t.ok(human.stdout.split('\n').includes(line), `${file}: "${line}"`)
    }
    t.absent(/\.pad|padding/.test(human.stdout), `${file}: no pad file shown`)
  }
})

test('torrent show: a magnet (hybrid, with peers), and a v1 magnet', async (t) => {
  const v = torrents.find((x) => x.file === 'folder-hybrid.torrent')!
  const shown = await json<TorrentShow>(t, ['torrent', 'show', `${v.magnet}&x.pe=[::1]:6881&xl=71000`])
  t.alike(
    { kind: shown.kind, source: shown.source, name: shown.name, v1: shown.infohashV1, v2: shown.infohashV2, size: shown.size, files: shown.files, trackers: shown.trackers, peers: shown.peers },
    { kind: 'hybrid', source: 'magnet', name: 'Kaypro II manuals', v1: v.v1, v2: v.v2, size: 71000, files: null, trackers: TRACKERS, peers: ['[::1]:6881'] }
  )
  const v1 = torrents.find((x) => x.file === 'folder-v1.torrent')!
  const human = await run(['torrent', 'show', v1.magnet])
  t.is(human.code, 0)
  t.ok(human.stdout.includes('Kind:         BitTorrent v1, from a magnet') && human.stdout.includes(`Infohash v1:  ${v1.v1}`), human.stdout)
})

test('torrent show: errors are one line; untrusted text is made safe for the terminal', async (t) => {
  const dir = await tmpDir(t)
  oneLineError(t, await run(['torrent', 'show', path.join(dir, 'missing.torrent')]), 1, /missing\.torrent: no such file/)
  await fs.writeFile(path.join(dir, 'notes.txt'), 'hello')
  oneLineError(t, await run(['torrent', 'show', path.join(dir, 'notes.txt')]), 1, /not a torrent/)
  oneLineError(t, await run(['torrent', 'show', CORPUS + 'parent_path.torrent']), 1, /the name "\.\."; it was refused/)
  oneLineError(t, await run(['torrent', 'show', CORPUS + 'v2_bad_file_alignment.torrent']), 1, /v1 and v2 file metadata do not match/)
  oneLineError(t, await run(['torrent', 'show', 'magnet:?dn=nothing']), 1, /names no BitTorrent infohash/)
  oneLineError(t, await run(['torrent', 'show', dir]), 1, /is a directory/)
  // A v1 torrent whose name, comment and creator try to drive the terminal.
  const info = new Map<string, BValue>([['length', 10], ['name', Buffer.from('evil\u202etxt.exe')], ['piece length', 16384], ['pieces', Buffer.alloc(20)]])
  const hostile = encode(new Map<string, BValue>([['comment', Buffer.from('hi\x1b]0;pwned\x07\nline two')], ['created by', Buffer.from('x\x1b[2J')], ['info', info]]))
  await fs.writeFile(path.join(dir, 'hostile.torrent'), hostile)
  const r = await run(['torrent', 'show', path.join(dir, 'hostile.torrent')])
  t.is(r.code, 0, r.stderr)
  t.absent(['\x1b', '\x07', '\u202e'].some((c) => r.stdout.includes(c)), 'no escape, bell or bidi override reaches the terminal')
  t.ok(r.stdout.includes('Comment:      hi ]0;pwned \n              line two'), 'a comment keeps its lines, loses its controls')
  const j = await json<TorrentShow>(t, ['torrent', 'show', path.join(dir, 'hostile.torrent')])
  t.is(j.name, 'evil\u202etxt.exe', '--json is exact')
})
