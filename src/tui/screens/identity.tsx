import { Box, Text } from 'ink'
import type { UiState } from '../store.js'
import { oneLine } from '../text.js'
import { FieldView, useTheme, type Dims } from '../widgets.js'

/** The Identity screen and the first run. */

// ---------------------------------------------------------------------------------------------
// Identity

/** The recovery phrase in four numbered columns, read down (as `chrysalis init` prints it). */
function PhraseBox({ phrase }: { phrase: string }) {
  const words = phrase.split(' ')
  const rows = [0, 1, 2, 3, 4, 5].map((r) => [0, 6, 12, 18].map((c) => `${String(r + c + 1).padStart(2)}. ${(words[r + c] ?? '').padEnd(9)}`).join('  '))
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>Recovery phrase</Text>
      <Text>Anyone who sees these words can become you. Write them down; any key hides them.</Text>
      {rows.map((row, i) => (
        <Text key={i}>{row}</Text>
      ))}
    </Box>
  )
}

export function IdentityScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const me = s.me
  const { edit, backup } = s.identity
  const w = dims.width - 14
  return (
    <Box flexDirection="column">
      <Text bold>Your identity</Text>
      <Text wrap="truncate-end">{`  Name         ${me?.name ? oneLine(me.name, w) : '(no name)'}`}</Text>
      <Text wrap="truncate-end">{`  Fingerprint  ${me?.fingerprint ?? ''}`}</Text>
      <Text wrap="truncate-end">{`  ID           ${me?.id ?? ''}`}</Text>
      <Text wrap="truncate-end">{`  Bio          ${me?.bio ? oneLine(me.bio, w) : '(none)'}`}</Text>
      {s.status.recovering ? (
        <Text color={theme.warn} wrap="truncate-end">
          {'  Restored: posting is off until your feed is found on a peer. n: this identity never posted.'}
        </Text>
      ) : null}
      <Text color={theme.muted} wrap="truncate-end">{'  Share your ID so others can follow you (select it with the mouse to copy).'}</Text>
      <Text> </Text>
      {s.identity.phrase !== null ? <PhraseBox phrase={s.identity.phrase} /> : null}
      {edit ? (
        <Box flexDirection="column" borderStyle="round" paddingX={1}>
          <Text bold>Edit profile</Text>
          <Box>
            <Text>{'Name  '}</Text>
            <FieldView f={edit.name} focus={edit.focus === 0} width={w - 4} />
          </Box>
          <Box>
            <Text>{'Bio   '}</Text>
            <FieldView f={edit.bio} focus={edit.focus === 1} width={w - 4} placeholder="what you collect, what you are looking for" />
          </Box>
        </Box>
      ) : null}
      {backup ? (
        <Box flexDirection="column" borderStyle="round" paddingX={1}>
          <Text bold>Export an encrypted backup</Text>
          <Box>
            <Text>{'File        '}</Text>
            <FieldView f={backup.file} focus={backup.focus === 0} width={w - 10} />
          </Box>
          <Box>
            <Text>{'Passphrase  '}</Text>
            <FieldView f={backup.passphrase} focus={backup.focus === 1} mask width={w - 10} />
          </Box>
          <Box>
            <Text>{'Again       '}</Text>
            <FieldView f={backup.again} focus={backup.focus === 2} mask width={w - 10} />
          </Box>
          <Text color={theme.muted}>Anyone with the file and the passphrase is you: keep them apart.</Text>
        </Box>
      ) : null}
    </Box>
  )
}

// ---------------------------------------------------------------------------------------------
// First run

const CHOICES = [
  ['n', 'Create a new identity', 'a pseudonym and a keypair made on this computer'],
  ['r', 'Restore from the recovery phrase', 'the 24 words shown when the identity was made'],
  ['b', 'Restore from an encrypted backup file', 'made with Identity → b, or `chrysalis identity export`']
] as const

export function SetupScreen({ s, dims }: { s: UiState; dims: Dims }) {
  const theme = useTheme()
  const st = s.setup
  const w = dims.width - 16
  switch (st.step) {
    case 'choose':
      return (
        <Box flexDirection="column">
          <Text bold>Welcome to Chrysalis.</Text>
          <Text>Share the files you care about with the people who care about them; no server decides what stays up.</Text>
          <Text> </Text>
          {CHOICES.map(([k, title, what], i) => (
            <Text key={k} wrap="truncate-end" bold={st.selected === i}>
              <Text color={st.selected === i ? theme.selection : theme.muted} inverse={st.selected === i && !theme.color}>{st.selected === i ? '› ' : '  '}</Text>
              <Text color={theme.accent}>{`${k}  `}</Text>
              {title}
              <Text color={theme.muted}>{` — ${what}`}</Text>
            </Text>
          ))}
        </Box>
      )
    case 'create':
      return (
        <Box flexDirection="column">
          <Text bold>Create your identity</Text>
          <Text color={theme.muted}>A pseudonym is fine; your name and bio are public and can be changed later.</Text>
          <Text> </Text>
          <Box>
            <Text bold={st.focus === 0}>{'Name  '}</Text>
            <FieldView f={st.name} focus={st.focus === 0} width={w} placeholder="e.g. Kaypro Fan" />
          </Box>
          <Box>
            <Text bold={st.focus === 1}>{'Bio   '}</Text>
            <FieldView f={st.bio} focus={st.focus === 1} width={w} placeholder="optional: what you collect" />
          </Box>
          {st.busy ? <Text color={theme.muted}>Creating…</Text> : null}
        </Box>
      )
    case 'phrase': {
      const words = st.phrase.split(' ')
      const rows: string[] = []
      for (let i = 0; i < 6; i++) {
        rows.push([0, 6, 12, 18].map((c) => `${String(i + c + 1).padStart(2)}. ${(words[i + c] ?? '').padEnd(9)}`).join('  '))
      }
      return (
        <Box flexDirection="column">
          <Text bold>{`Your identity is ${st.fingerprint}.`}</Text>
          <Text>Recovery phrase: write these 24 words down, in order, and keep them safe.</Text>
          <Text>They are shown only now; with them you can restore this identity anywhere.</Text>
          <Text> </Text>
          {rows.map((r) => (
            <Text key={r} bold>{`  ${r}`}</Text>
          ))}
          <Text> </Text>
          <Text color={theme.warn}>Press y once you have written them down.</Text>
        </Box>
      )
    }
    case 'restore-phrase':
      return (
        <Box flexDirection="column">
          <Text bold>Restore from the recovery phrase</Text>
          <Text color={theme.muted}>Type or paste the 24 words, separated by spaces.</Text>
          <Text> </Text>
          <FieldView f={st.phrase} focus width={dims.width - 2} placeholder="word1 word2 … word24" />
          {st.busy ? <Text color={theme.muted}>Restoring…</Text> : null}
        </Box>
      )
    case 'restore-backup':
      return (
        <Box flexDirection="column">
          <Text bold>Restore from an encrypted backup</Text>
          <Text> </Text>
          <Box>
            <Text bold={st.focus === 0}>{'File        '}</Text>
            <FieldView f={st.file} focus={st.focus === 0} width={w - 6} placeholder="path of the backup file" />
          </Box>
          <Box>
            <Text bold={st.focus === 1}>{'Passphrase  '}</Text>
            <FieldView f={st.passphrase} focus={st.focus === 1} mask width={w - 6} />
          </Box>
          {st.busy ? <Text color={theme.muted}>Decrypting (this takes a few seconds on purpose)…</Text> : null}
        </Box>
      )
  }
}
