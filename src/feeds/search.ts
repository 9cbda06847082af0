import MiniSearch from 'minisearch'

/**
 * Full-text search over what this node has indexed (MiniSearch: an inverted index with prefix
 * and fuzzy matching and BM25 scoring). Two kinds of documents: posts (their text, topics and
 * attached file names) and people (name and bio). The documents themselves are kept in the local
 * index (local-index.ts), updated with it; this in-memory index is built from them on the first
 * search and kept up to date from then on.
 *
 *   search.addPost({ id: 'AUTHOR/ID', author, at, text, topics: ['vintage-manuals'], files: ['kaypro.pdf'] })
 *   search.query('kaypro manual', { limit: 20 }) // → [{ kind: 'post', id, score }, …], best first
 */
export interface SearchPost {
  /** The post's ref (`AUTHOR-ID/POST-ID`, as formatRef writes it). */
  id: string
  /** The author's key, hex. */
  author: string
  /** When it was written (ms): newer posts rank a little higher. */
  at: number
  text: string
  topics: string[]
  files: string[]
}

export interface SearchPerson {
  /** The identity's key, hex. */
  author: string
  name: string
  bio: string
}

export interface SearchHit {
  kind: 'post' | 'person'
  /** A post's ref, or a person's key (hex). */
  id: string
  author: string
  score: number
}

type Doc = { key: string; kind: 'post' | 'person'; ref: string; author: string; at: number; text: string; topics: string; files: string; name: string; bio: string }

/** A newer post weighs up to twice as much as one a year older, all else equal. */
const YEAR_MS = 365 * 24 * 3600 * 1000

export class SearchIndex {
  private readonly mini = new MiniSearch<Doc>({
    idField: 'key',
    fields: ['text', 'topics', 'files', 'name', 'bio'],
    storeFields: ['kind', 'ref', 'author', 'at'],
    // File names split on dots, dashes and underscores too: "kaypro-ii-manual.pdf" is found by "kaypro".
    tokenize: (text) => text.split(/[\s\p{P}\p{S}]+/u).filter((t) => t.length > 0),
    searchOptions: { boost: { name: 3, topics: 2, files: 2, text: 1, bio: 1 }, prefix: (term) => term.length >= 3, fuzzy: (term) => (term.length >= 5 ? 0.2 : false), combineWith: 'AND' }
  })
  private readonly now: () => number

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now
  }

  get size(): number {
    return this.mini.documentCount
  }

  addPost(p: SearchPost): void {
    const doc: Doc = { key: `p:${p.id}`, kind: 'post', ref: p.id, author: p.author, at: p.at, text: p.text, topics: p.topics.join(' '), files: p.files.join(' '), name: '', bio: '' }
    if (this.mini.has(doc.key)) this.mini.replace(doc)
    else this.mini.add(doc)
  }

  removePost(id: string): void {
    if (this.mini.has(`p:${id}`)) this.mini.discard(`p:${id}`)
  }

  setPerson(p: SearchPerson): void {
    const doc: Doc = { key: `u:${p.author}`, kind: 'person', ref: p.author, author: p.author, at: 0, text: '', topics: '', files: '', name: p.name, bio: p.bio }
    if (this.mini.has(doc.key)) this.mini.replace(doc)
    else this.mini.add(doc)
  }

  /** Best first: relevance, with newer posts a little ahead. Empty for a query with no words. */
  query(text: string, opts: { limit?: number; kind?: 'post' | 'person'; exclude?: (author: string) => boolean } = {}): SearchHit[] {
    if (text.trim() === '') return []
    const now = this.now()
    const hits = this.mini.search(text, {
      // Left out before the limit counts, so that excluded authors never crowd out the others.
      filter: (r) => (!opts.kind || r['kind'] === opts.kind) && !opts.exclude?.(r['author'] as string),
      boostDocument: (_id, _term, stored) => {
        const at = typeof stored?.['at'] === 'number' ? stored['at'] : 0
        return at > 0 ? 1 + Math.max(0, 1 - (now - at) / YEAR_MS) : 1
      }
    })
    return hits.slice(0, opts.limit ?? 20).map((h) => ({ kind: h['kind'] as 'post' | 'person', id: h['ref'] as string, author: h['author'] as string, score: h.score }))
  }
}
