import fs from 'node:fs/promises'
import path from 'node:path'
import { ChrysalisError } from '../errors.js'
import { exists } from '../fs.js'
import { hasIdentity, loadIdentity } from '../identity/home.js'
import { crashPoint } from '../crash.js'
import { beginInit, checkProfile, exportBackup, finishInit, recoveryPhrase, restoreIdentity } from '../node/setup.js'
import { type Command, str, usage } from './commands.js'
import { formatProfile } from './format.js'
import { askPassphrase, confirm } from './prompt.js'

/** Commands for the identity: create it, show its phrase, back it up, restore it. */
export const IDENTITY_COMMANDS: Record<string, Command> = {
  init: {
    usage: 'init --name NAME [--bio BIO]',
    summary: 'create your pseudonymous identity and show its recovery phrase once',
    options: { name: { type: 'string', help: 'the name people see (required)' }, bio: { type: 'string', help: 'a line about you' } },
    args: [0, 0],
    async run(ctx) {
      const name = str(ctx, 'name')
      if (name === undefined) throw usage('init needs a name: chrysalis init --name NAME')
      const bio = str(ctx, 'bio') ?? ''
      checkProfile(name, bio) // refuse before anything is written
      // An init killed before it showed the phrase left the identity marked: this run finishes it.
      const { phrase, resumed } = await beginInit(ctx.home)
      const me = await ctx.withNode((node) => node.setProfile({ name, bio }))
      crashPoint('init:profile')
      ctx.print(
        [
          resumed ? `Finished the identity of ${name} (an earlier \`init\` stopped before showing its recovery phrase).` : `Created the identity of ${name}.`,
          formatProfile(me),
          `  Home:        ${ctx.home}`,
          '',
          'Recovery phrase: write these 24 words down and keep them safe. Anyone who sees them can become',
          'you. They restore this identity anywhere with `chrysalis identity import --phrase "…"`;',
          '`chrysalis identity phrase` shows them again.',
          '',
          ...phraseGrid(phrase)
        ].join('\n'),
        { ...me, home: ctx.home, recoveryPhrase: phrase }
      )
      crashPoint('init:shown')
      await finishInit(ctx.home)
    }
  },

  'identity export': {
    usage: 'identity export --out FILE [--force]',
    summary: 'write an encrypted backup of your identity (passphrase: prompt, or CHRYSALIS_PASSPHRASE)',
    options: { out: { type: 'string', help: 'the backup file to write' }, force: { type: 'boolean', help: 'replace FILE if it exists' } },
    args: [0, 0],
    async run(ctx) {
      const out = str(ctx, 'out')
      if (out === undefined) throw usage('identity export needs a file: chrysalis identity export --out FILE')
      const target = path.resolve(out)
      if (!ctx.values.force && (await exists(target))) {
        throw new ChrysalisError('FILE_EXISTS', `${target} already exists; choose another file or add --force to replace it`)
      }
      await loadIdentity(ctx.home) // no identity: say so before asking for a passphrase
      const passphrase = await askPassphrase({ confirm: true })
      const written = await exportBackup(ctx.home, target, passphrase, { force: ctx.values.force === true })
      ctx.print(`Wrote an encrypted backup of ${written.id} to ${target}.`, written)
    }
  },

  'identity import': {
    usage: 'identity import FILE | identity import --phrase "WORDS"',
    summary: 'restore an identity from a backup file or the recovery phrase into an empty home',
    options: { phrase: { type: 'string', value: '"WORDS"', help: 'the 24-word recovery phrase, quoted' } },
    args: [0, 1],
    async run(ctx) {
      const phrase = str(ctx, 'phrase')
      const file = ctx.args[0]
      if ((phrase === undefined) === (file === undefined)) throw usage('give either a backup FILE or --phrase "WORDS", not both')
      if (await hasIdentity(ctx.home)) {
        throw new ChrysalisError('IDENTITY_EXISTS', `${ctx.home} already has an identity, and an identity is never overwritten; import into another --home`)
      }
      const identity = await restoreIdentity(
        ctx.home,
        phrase !== undefined ? { phrase } : { backup: await readBackupFile(file!), passphrase: await askPassphrase({ confirm: false }) }
      )
      ctx.print(
        [
          `Restored identity ${identity.id} (${identity.fingerprint}) into ${ctx.home}.`,
          'Posting stays off until its feed is recovered from peers, so that it is never forked.',
          'If this identity never posted anything, run `chrysalis identity never-posted`.'
        ].join('\n'),
        { id: identity.id, fingerprint: identity.fingerprint, home: ctx.home, recovering: true }
      )
    }
  },

  'identity phrase': {
    usage: 'identity phrase [--yes]',
    summary: 'show your 24-word recovery phrase again (asks first on a terminal; --yes without one)',
    options: { yes: { type: 'boolean', help: 'print it without asking (needed without a terminal)' } },
    args: [0, 0],
    // Never routed to a running node: it reads HOME/identity.json here, so the phrase never crosses the socket.
    async run(ctx) {
      await loadIdentity(ctx.home) // no identity: say so before asking
      if (ctx.values.yes !== true) {
        if (!process.stdin.isTTY || !process.stderr.isTTY) {
          throw usage('no terminal to confirm on; add --yes to print the recovery phrase (anyone who sees it can become you)')
        }
        if (!(await confirm('Show the recovery phrase? Anyone who sees it can become you. [y/N] '))) {
          ctx.print('Not shown.', { phrase: null })
          return
        }
      }
      const { id, fingerprint, phrase } = await recoveryPhrase(ctx.home)
      ctx.print([`Recovery phrase of ${id} (${fingerprint}):`, '', ...phraseGrid(phrase)].join('\n'), { id, fingerprint, phrase })
    }
  },

  'identity never-posted': {
    usage: 'identity never-posted',
    summary: 'after a restore: state that this identity never posted, so it may write without recovering a feed',
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      await ctx.withNode((node) => node.confirmNeverPosted())
      ctx.print('Noted: this identity starts a new feed here. You can post now.', { recovering: false })
    }
  }
}

/** The 24 words in four numbered columns, read down. */
function phraseGrid(phrase: string): string[] {
  const grid = phrase.split(' ').map((w, i) => `${String(i + 1).padStart(2)}. ${w.padEnd(9)}`)
  const rows: string[] = []
  for (let i = 0; i < 6; i++) rows.push('  ' + [grid[i], grid[i + 6], grid[i + 12], grid[i + 18]].join('  '))
  return rows
}

async function readBackupFile(file: string): Promise<string> {
  try {
    const stat = await fs.stat(file)
    if (stat.size > 64 * 1024) throw new ChrysalisError('BAD_BACKUP', `${file} is too large to be a Chrysalis identity backup; give the file that \`chrysalis identity export\` wrote`)
    return await fs.readFile(file, 'utf-8')
  } catch (err) {
    if (err instanceof ChrysalisError) throw err
    throw new ChrysalisError('IO', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path`)
  }
}
