import { domainHash } from '../identity/hash.js'
import { normalizeTopic } from '../feeds/records.js'
import { ChrysalisError } from '../errors.js'

/**
 * Swarm topics (protocol.md §8.1). A feed's topic is its hypercore discovery key (already a
 * keyed hash of the feed key, never the key itself). An interest topic is
 * domainHash('chrysalis/interest/v1', normalised name), so "Vintage Manuals" and
 * "vintage-manuals" meet on one topic and no other application's topic collides with ours.
 */
export function interestTopic(name: string): { name: string; topic: Buffer } {
  const normal = normalizeTopic(name)
  if (normal === '' || !/^[\p{L}\p{N}](?:[\p{L}\p{N}.-]*[\p{L}\p{N}])?$/u.test(normal) || Buffer.byteLength(normal) > 64) {
    throw new ChrysalisError('BAD_INPUT', `"${name.slice(0, 40)}" is not a usable topic; use letters, digits, "." and "-", e.g. vintage-manuals`)
  }
  return { name: normal, topic: domainHash('chrysalis/interest/v1', Buffer.from(normal, 'utf-8')) }
}

/**
 * A torrent's topic: domainHash('chrysalis/torrent/v1', v2 infohash). Peers of a torrent meet
 * there without revealing the infohash to DHT nodes that do not already know it.
 */
export function torrentTopic(infohash: Uint8Array): Buffer {
  return domainHash('chrysalis/torrent/v1', infohash)
}
