/**
 * Untrusted text made safe for a terminal: the one place every human-readable output of the CLI
 * and the TUI passes through. Names, bios, posts, comments, file and torrent names come from
 * other people's feeds and peers; printed raw, a post could set the window title (OSC), clear the
 * screen (CSI), ring the bell, rewrite the line before it (CR) or reorder what follows it (bidi
 * overrides), so these are replaced by spaces. `--json` output is exact and never passes here
 * (JSON escapes controls itself).
 *
 *   io.stdout.write(displayText(human) + '\n')
 *   `${displayLine(p.name)} (${p.fingerprint})`
 */

// C0 controls except newline (tab included), DEL, C1 (U+0080–U+009F, which 8-bit terminals read
// as ESC sequences: U+009B is CSI), the line and paragraph separators, bidi embeddings and
// overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Text of several lines, safe to print: every control but newline becomes a space. */
export function displayText(text: string): string {
  return text.replace(UNSAFE, ' ')
}

/** A field shown on one line (a name, a file name, a bio in a list): newlines become spaces too. */
export function displayLine(text: string): string {
  return displayText(text).replace(/\n/g, ' ')
}
