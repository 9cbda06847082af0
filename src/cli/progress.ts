import { displayLine } from '../display.js'

/** Carriage return, then erase the whole line (CSI 2 K). */
const CLEAR = '\r\x1b[2K'

/**
 * A command's progress on a terminal: one line on stderr rewritten in place. Whatever else reaches
 * the terminal (the result on stdout, a log line, an error) and the end of the command clear it
 * first, so that nothing runs into a finished progress line.
 *
 *   const line = new ProgressLine(process.stderr, process.stderr.isTTY === true)
 *   line.show('hashing a.iso: 40%')   // "\r\x1b[2Khashing a.iso: 40%"
 *   line.clear()                      // "\r\x1b[2K" while a line is shown, else nothing
 */
export class ProgressLine {
  private shown = false

  constructor(
    private readonly out: NodeJS.WritableStream & { columns?: number },
    /** Off without a terminal: then show() writes nothing (log lines take its place). */
    readonly enabled: boolean
  ) {}

  show(text: string): void {
    if (!this.enabled) return
    let line = displayLine(text)
    // A line longer than the terminal wraps, and \r would rewrite only its last row.
    const columns = this.out.columns
    if (columns !== undefined && columns > 1) {
      const chars = Array.from(line)
      if (chars.length > columns - 1) line = chars.slice(0, columns - 2).join('') + '…'
    }
    this.out.write(CLEAR + line)
    this.shown = true
  }

  /** Erase the progress line, if one is shown: before anything else is written, and at the end. */
  clear(): void {
    if (!this.shown) return
    this.out.write(CLEAR)
    this.shown = false
  }
}
