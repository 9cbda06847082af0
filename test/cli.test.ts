import test from 'brittle'
import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisNode } from '../src/node/node.js'
import { tmpDir } from './helpers.js'
import { json, oneLineError, run } from './helpers-cli.js'

type PostJson = { ref: string; text: string; deleted: boolean; replyTo: string | null; comments?: number; topics: string[] }

test('cli: init, whoami, post, comment, edit, delete, feed, timeline, thread', async (t) => {
  const home = path.join(await tmpDir(t), 'ada')
  const h = ['--home', home]
  const init = await json<{ id: string; fingerprint: string; recoveryPhrase: string; name: string }>(t, [...h, 'init', '--name', 'Ada', '--bio', 'Kaypro collector'])
  t.is(init.name, 'Ada')
  t.is(init.recoveryPhrase.split(' ').length, 24)
  const human = await run([...h, 'whoami'])
  t.ok(human.stdout.includes(init.id) && human.stdout.includes('Kaypro collector'))
  t.absent(human.stdout.includes(init.recoveryPhrase.split(' ')[0]! + ' ' + init.recoveryPhrase.split(' ')[1]!), 'the phrase is shown once only')

  const again = await run([...h, 'init', '--name', 'Eve'])
  oneLineError(t, again, 1, /already has an identity/)
  t.is((await json<{ id: string }>(t, [...h, 'whoami'])).id, init.id, 'the identity was not overwritten')

  const post = await json<PostJson>(t, ['post', 'Kaypro II manual, 1982', '--topic', 'Vintage Manuals', ...h])
  t.alike(post.topics, ['vintage-manuals'])
  t.ok(post.ref.startsWith(init.id + '/'))
  const fromStdin = await json<PostJson>(t, [...h, 'post', '-'], { input: 'line one\nline two\n' })
  t.is(fromStdin.text, 'line one\nline two')
  const comment = await json<PostJson>(t, [...h, 'comment', post.ref, 'pages 40-52 have the schematics'])
  t.is(comment.replyTo, post.ref)
  const edited = await json<PostJson>(t, [...h, 'edit', comment.ref, 'pages 40-53 have the schematics'])
  t.is(edited.text, 'pages 40-53 have the schematics')

  const tl = await json<{ posts: PostJson[] }>(t, [...h, 'timeline', '--limit', '5'])
  t.alike(tl.posts.map((p) => p.ref), [fromStdin.ref, post.ref])
  t.is(tl.posts[1]?.comments, 1)
  const feed = await json<{ posts: PostJson[] }>(t, [...h, 'feed', init.id])
  t.is(feed.posts.length, 3, 'feed lists posts and comments')
  const thread = await json<{ root: PostJson; comments: PostJson[] }>(t, [...h, 'thread', post.ref])
  t.is(thread.comments[0]?.text, 'pages 40-53 have the schematics')

  const del = await json<PostJson>(t, [...h, 'delete', fromStdin.ref])
  t.ok(del.deleted)
  const humanTl = await run([...h, 'timeline'])
  t.ok(humanTl.stdout.includes('[deleted by its author]'))
  t.ok(humanTl.stdout.includes(`ref ${post.ref}`), 'the human timeline shows refs')
})

test('cli: usage errors exit 2, other errors exit 1, one line each, JSON errors on stdout', async (t) => {
  const home = path.join(await tmpDir(t), 'h')
  oneLineError(t, await run(['--home', home, 'whoami']), 1, /no identity in .*chrysalis init/)
  oneLineError(t, await run(['--home', home, 'frobnicate']), 2, /unknown command "frobnicate"/)
  oneLineError(t, await run(['--home', home, 'post']), 2, /usage: chrysalis post TEXT/)
  oneLineError(t, await run(['--home', home, 'init']), 2, /needs a name/)
  oneLineError(t, await run(['--home', home, 'init', '--name', 'A', '--colour', 'red']), 2, /unknown option '--colour'/)
  oneLineError(t, await run(['--home', home, 'init', '--name', ' ']), 1, /name must not be empty/)
  await t.exception(fs.access(path.join(home, 'identity.json')), 'a refused init writes no identity')
  await json(t, ['--home', home, 'init', '--name', 'A'])
  oneLineError(t, await run(['--home', home, 'follow', 'bob']), 1, /"bob" is not an identity ID/)
  oneLineError(t, await run(['--home', home, 'thread', 'xyz']), 1, /not a post reference/)
  oneLineError(t, await run(['--home', home, 'timeline', '--limit', 'lots']), 2, /--limit takes a whole number/)
  const r = await run(['--json', '--home', home, 'follow', 'bob'])
  t.is(r.code, 1)
  t.alike(JSON.parse(r.stdout), { error: { code: 'BAD_ID', message: r.stderr.replace(/^chrysalis: /, '').trim() } })
  const help = await run(['--help'])
  t.is(help.code, 0)
  t.ok(help.stdout.includes('identity export --out FILE'))
})

test('cli: a second process on the same home gets one clear line', async (t) => {
  const home = path.join(await tmpDir(t), 'h')
  await json(t, ['--home', home, 'init', '--name', 'Ada'])
  const node = await ChrysalisNode.open({ home })
  t.teardown(() => node.close())
  // Without waiting for it (home-wait.test.ts tests the waiting).
  const r = await run(['--home', home, 'post', 'hello'], { env: { CHRYSALIS_HOME_WAIT: '0' } })
  oneLineError(t, r, 1, new RegExp(`another chrysalis process is using ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  t.absent(r.stderr.includes('File descriptor'), 'not RocksDB\'s raw error')
})

test('cli: identity export and import by file and by phrase; every failure writes nothing', async (t) => {
  const dir = await tmpDir(t)
  const home = path.join(dir, 'ada')
  const backup = path.join(dir, 'ada.backup')
  const init = await json<{ id: string; recoveryPhrase: string }>(t, ['--home', home, 'init', '--name', 'Ada'])
  const pass = { env: { CHRYSALIS_PASSPHRASE: 'correct horse battery staple' } }

  oneLineError(t, await run(['--home', home, 'identity', 'export', '--out', backup]), 1, /set CHRYSALIS_PASSPHRASE/)
  await t.exception(fs.access(backup), 'no file without a passphrase')
  await json(t, ['--home', home, 'identity', 'export', '--out', backup], pass)
  t.is((await fs.stat(backup)).mode & 0o777, 0o600)
  const text = await fs.readFile(backup, 'utf-8')
  t.absent(text.includes(init.recoveryPhrase.split(' ').slice(0, 3).join(' ')))
  oneLineError(t, await run(['--home', home, 'identity', 'export', '--out', backup], pass), 1, /already exists/)
  const exists = await run(['--json', '--home', home, 'identity', 'export', '--out', backup], pass)
  t.is((JSON.parse(exists.stdout) as { error: { code: string } }).error.code, 'FILE_EXISTS', 'an existing file: FILE_EXISTS')

  const restored = path.join(dir, 'restored')
  const wrong = await run(['--home', restored, 'identity', 'import', backup], { env: { CHRYSALIS_PASSPHRASE: 'wrong' } })
  oneLineError(t, wrong, 1, /wrong passphrase/)
  await t.exception(fs.access(path.join(restored, 'identity.json')), 'nothing written on a wrong passphrase')

  const damagedFile = path.join(dir, 'damaged.backup')
  await fs.writeFile(damagedFile, text.replace(/"ciphertext": "(.)/, (_m, c: string) => `"ciphertext": "${c === '0' ? '1' : '0'}`))
  oneLineError(t, await run(['--home', restored, 'identity', 'import', damagedFile], pass), 1, /damaged/)
  oneLineError(t, await run(['--home', restored, 'identity', 'import', path.join(dir, 'missing')], pass), 1, /cannot read/)
  await t.exception(fs.access(path.join(restored, 'identity.json')), 'nothing written for a damaged file')

  const imported = await json<{ id: string }>(t, ['--home', restored, 'identity', 'import', backup], pass)
  t.is(imported.id, init.id, 'the file restores the same identity')
  oneLineError(t, await run(['--home', restored, 'identity', 'import', backup], pass), 1, /already has an identity/)

  const byPhrase = path.join(dir, 'by-phrase')
  const words = init.recoveryPhrase.split(' ')
  oneLineError(t, await run(['--home', byPhrase, 'identity', 'import', '--phrase', words.slice(1).join(' ')]), 1, /23 words/)
  // Valid words, wrong checksum (deterministic: see identity.test.ts).
  oneLineError(t, await run(['--home', byPhrase, 'identity', 'import', '--phrase', Array(24).fill('abandon').join(' ')]), 1, /does not check out/)
  oneLineError(t, await run(['--home', byPhrase, 'identity', 'import', '--phrase', [...words.slice(0, 23), 'kaypro'].join(' ')]), 1, /word 24/)
  await t.exception(fs.access(path.join(byPhrase, 'identity.json')), 'nothing written for wrong words')
  const fromPhrase = await json<{ id: string }>(t, ['--home', byPhrase, 'identity', 'import', '--phrase', init.recoveryPhrase])
  t.is(fromPhrase.id, init.id, 'the phrase restores the same identity')
})

test('cli: a restored identity may not write until its feed is recovered or it never posted', async (t) => {
  const dir = await tmpDir(t)
  const original = path.join(dir, 'original')
  const init = await json<{ recoveryPhrase: string }>(t, ['--home', original, 'init', '--name', 'Ada'])
  await json(t, ['--home', original, 'post', 'written on the first device'])

  const restored = path.join(dir, 'restored')
  await json(t, ['--home', restored, 'identity', 'import', '--phrase', init.recoveryPhrase])
  const me = await json<{ recovering: boolean }>(t, ['--home', restored, 'whoami'])
  t.is(me.recovering, true)
  oneLineError(t, await run(['--home', restored, 'post', 'would fork the feed']), 1, /has not been recovered from peers yet; writing now would fork it/)
  oneLineError(t, await run(['--home', restored, 'profile', '--name', 'Ada 2']), 1, /would fork it/)
  t.alike((await json<{ posts: unknown[] }>(t, ['--home', restored, 'feed'])).posts, [], 'nothing was written')

  await json(t, ['--home', restored, 'identity', 'never-posted'])
  const post = await json<{ text: string }>(t, ['--home', restored, 'post', 'a new start'])
  t.is(post.text, 'a new start')
  oneLineError(t, await run(['--home', restored, 'identity', 'never-posted']), 1, /not waiting for recovery/)
  const fresh = await json<{ recovering: boolean }>(t, ['--home', original, 'whoami'])
  t.is(fresh.recovering, false, 'a home made by init is not recovering')
})
