import { stat } from 'node:fs/promises'
import type { PostView } from '../node/views.js'
import { copiedLine } from './clipboard.js'
import { infohashShaped, parseInfohash } from '../node/infohash.js'
import { completePath, userPath } from './complete.js'
import type { Controller } from './controller.js'
import { userError } from './errors.js'
import { field } from './field.js'
import { lookAvailability } from './node-posts.js'
import { top, updateTop } from './store.js'
import { truncate } from './text.js'

/** What the Transfers screen and a transfer's details do through the node. */

/**
 * Fetch what the user pasted on the Transfers screen: a magnet (v1, v2, hybrid), a 40- or 64-hex
 * infohash, a post ref, or a .torrent file's path. Only the form is checked here (the node says
 * what is wrong with a magnet or a file); bad input starts nothing.
 */
export async function addFetch(c: Controller, input: string): Promise<void> {
  const target = await fetchTargetOf(input, c.opts.cwd)
  const node = c.need()
  const out = c.opts.downloads
  c.info(`Fetching ${truncate(input.trim(), 60)} into ${out}…`)
  const magnet = /^magnet:/i.test(target) ? target : null
  const done = await node.files.fetchAll(target, {
    out,
    onStart: (infohash) => {
      if (magnet) c.update((s) => ({ ...s, magnets: { ...s.magnets, [infohash]: magnet } }))
      c.tick()
    }
  })
  c.tick()
  c.info(`Fetched ${done.map((d) => `${d.name} → ${d.path ?? out}`).join(', ')}`)
}

/** Tab in a prompt that takes a path (fetch, export): completed as a shell does; a magnet or an infohash is not a path. */
export async function completePromptPath(c: Controller, value: string): Promise<void> {
  if (value.trim() === '' || /^magnet:/i.test(value.trim())) return
  const r = await completePath(value, c.opts.cwd)
  c.update((s) => (s.prompt && s.prompt.field.value === value ? { ...s, prompt: { ...s.prompt, field: field(r.value), candidates: r.candidates } } : s))
}

/** A transfer's details were opened: its peers now, its magnet once the node has it. */
export function loadTransfer(c: Controller, infohash: string): void {
  c.refreshPeers()
  c.node?.files.magnet(infohash).then(
    (magnet) => c.update((s) => updateTop(s, 'transfer', (x) => (x.infohash === infohash ? { ...x, magnet } : x))),
    () => {} // no metadata yet: the pasted magnet, if any, stays
  )
}

export async function togglePause(c: Controller, infohash: string): Promise<void> {
  const item = c.state.transfers.items.find((t) => t.infohash === infohash)
  if (!item) return
  const node = c.need()
  const view = item.status === 'paused' ? await node.files.resume(infohash) : await node.files.pause(infohash)
  c.tick()
  c.info(`${view.name}: ${view.status}`)
}

export async function cancelTransfer(c: Controller, infohash: string): Promise<void> {
  const item = c.state.transfers.items.find((t) => t.infohash === infohash)
  await c.need().files.remove(infohash)
  c.update((s) => (top(s)?.kind === 'transfer' ? { ...s, stack: s.stack.filter((x) => x.kind !== 'transfer' || x.infohash !== infohash) } : s))
  c.tick()
  c.info(`Stopped ${item?.name ?? infohash.slice(0, 12)}; files already complete stay where they are.`)
}

/** m on a transfer: its magnet, shown whole in the details (the reducer opened them), copied. */
export async function copyMagnet(c: Controller, infohash: string): Promise<void> {
  const magnet = await c.need().files.magnet(infohash)
  c.update((s) => updateTop(s, 'transfer', (x) => (x.infohash === infohash ? { ...x, magnet } : x)))
  await copy(c, magnet)
}

/** A magnet to the clipboard; the message says whether the copy was sent, and how. */
export async function copy(c: Controller, magnet: string): Promise<void> {
  const how = c.opts.copy ? await c.opts.copy(magnet) : 'failed'
  c.info(copiedLine('Magnet', how))
}

/**
 * A post's attachments were opened: each one's magnet, the node's when it knows the torrent
 * (every infohash, trackers), else one made from the infohash and the name in the post.
 */
export function loadAttachments(c: Controller, post: PostView): void {
  lookAvailability(c, [post])
  const node = c.node
  if (!node) return
  for (const a of post.attachments) {
    const set = (magnet: string): void =>
      c.update((s) => updateTop(s, 'attachments', (x) => (x.post.ref === post.ref ? { ...x, magnets: { ...x.magnets, [a.infohash]: magnet } } : x)))
    c.run(() => node.files.magnet(a.infohash, { name: a.name }).then(set))
  }
}

export async function exportTorrent(c: Controller, infohash: string, file: string): Promise<void> {
  const written = await c.need().files.exportTorrent(infohash, userPath(file, c.opts.cwd))
  c.info(`Wrote ${written}`)
}

/**
 * What to hand the node's fetchAll for a pasted line: magnets, infohashes and post refs as they
 * are, a file path made absolute. Anything else is refused here, before anything starts.
 */
export async function fetchTargetOf(input: string, cwd: string): Promise<string> {
  const v = input.trim()
  if (v === '') throw userError('paste a magnet link, an infohash or a .torrent path first')
  if (/^magnet:\?/i.test(v)) return v
  if (infohashShaped(v)) return parseInfohash(v).toString('hex') // one line when it is a bad one
  if (/^[^\s/]+\/[0-9a-f]{1,12}$/i.test(v)) return v // a post ref: AUTHOR-ID/POST-ID
  const file = userPath(v, cwd)
  const st = await stat(file).catch(() => null)
  if (st?.isFile()) return file
  const shown = truncate(v, 40)
  if (st || /\.torrent$/i.test(v) || v.includes('/')) throw userError(`cannot read ${shown} as a .torrent file; check the path (Tab completes)`)
  throw userError(`"${shown}" is not a magnet link, a 40- or 64-hex infohash or a .torrent file; paste one of those`)
}
