import { isId, parseId } from '../identity/encoding.js'
import { normalizeTopic } from './records.js'

/**
 * What a post's text says about itself: `#hashtags` become topics, `@<identity ID>` becomes a
 * mention. Both are merged with what the author passes explicitly, without duplicates.
 */
export function extractTopics(text: string): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/(?:^|[^\p{L}\p{N}_&#])#([\p{L}\p{N}][\p{L}\p{N}_.-]*)/gu)) {
    const t = normalizeTopic(m[1]!.replace(/[.-]+$/, ''))
    if (t !== '') out.push(t)
  }
  return out
}

export function extractMentions(text: string): Buffer[] {
  const out: Buffer[] = []
  for (const m of text.matchAll(/@([ybndrfg8ejkmcpqxot1uwisza345h769]{52})(?![a-z0-9])/g)) {
    if (isId(m[1]!)) out.push(parseId(m[1]!))
  }
  return out
}

export function uniqueStrings(items: string[]): string[] {
  return [...new Set(items)]
}

export function uniqueKeys(keys: Buffer[]): Buffer[] {
  const seen = new Set<string>()
  return keys.filter((k) => {
    const hex = k.toString('hex')
    if (seen.has(hex)) return false
    seen.add(hex)
    return true
  })
}

/** A post's text, topics and mentions as written: the explicit ones merged with those the text names. */
export function composePost(input: { text: string; topics?: string[]; mentions?: string[] }): { text: string; topics: string[]; mentions: Buffer[] } {
  const topics = uniqueStrings([...(input.topics ?? []).map(normalizeTopic), ...extractTopics(input.text)])
  const mentions = uniqueKeys([...(input.mentions ?? []).map((m) => parseId(m)), ...extractMentions(input.text)])
  return { text: input.text, topics, mentions }
}
