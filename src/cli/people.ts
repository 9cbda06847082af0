import { displayLine } from '../display.js'
import { normalizeTopic } from '../feeds/records.js'
import { type Command, limit, seconds, withOnlineNode } from './commands.js'
import { formatFollowers, formatPeople, formatPosts, formatProfile } from './format.js'

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

const LIMIT_OPT = { type: 'string', value: 'N', help: 'how many to show (1 to 100)' } as const
const TIMEOUT_OPT = { type: 'string', value: 'S', help: 'seconds to wait for the network, going online included' } as const

/**
 * Commands for finding people and things: search, looking at someone before following them, and
 * the topics where people find you (you are on a topic once you post, comment or discover there).
 */
export const PEOPLE_COMMANDS: Record<string, Command> = {
  followers: {
    usage: 'followers [--limit N]',
    summary: 'the identities that follow you: each told your node, and its own feed said so',
    options: { limit: LIMIT_OPT },
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const n = limit(ctx, 50, 100)
      const people = await ctx.withNode((node) => node.followers({ limit: n }))
      ctx.print(formatFollowers(people, 'Nobody follows you yet (or has told your node: it learns of a follow when online).'), { followers: people })
    }
  },

  search: {
    usage: 'search QUERY [--limit N]',
    summary: 'find posts (by words, #topics, file names) and people (by name, bio) among everything your node has indexed',
    options: { limit: LIMIT_OPT },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const n = limit(ctx, 20, 100)
      const found = await ctx.withNode((node) => node.search(ctx.args[0]!, { limit: n }))
      const people = found.people.map((p) => `${p.name !== null ? displayLine(p.name) : '(no name)'} (${p.fingerprint})  ${p.id}${p.bio ? `\n  ${displayLine(p.bio)}` : ''}${p.following ? '\n  following' : ''}`)
      const human = [
        ...(people.length ? ['People:', ...people, ''] : []),
        found.posts.length ? formatPosts(found.posts, '') : people.length ? 'No posts match.' : `Nothing here matches "${displayLine(ctx.args[0]!)}"; follow more people, or \`chrysalis discover TOPIC\`.`
      ]
      ctx.print(human.join('\n').trimEnd(), found)
    }
  },

  look: {
    usage: 'look ID [--limit N] [--timeout S]',
    summary: "someone's name, bio, newest posts and follows, read from whoever has their feed, without following them",
    options: { limit: LIMIT_OPT, timeout: TIMEOUT_OPT },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const n = limit(ctx, 10, 100)
      const seen = await withOnlineNode(ctx, seconds(ctx, 'timeout', 8), 'looking for their feed…', (node, timeoutMs) => node.look(ctx.args[0]!, { limit: n, timeoutMs }))
      const name = seen.profile.name !== null ? displayLine(seen.profile.name) : 'them'
      ctx.print(
        [
          formatProfile(seen.profile),
          ...(seen.reachable ? [] : ['  (nobody with their feed was reachable: only what this node holds is shown)']),
          '',
          formatPosts(seen.posts, 'No posts here yet.'),
          '',
          `Follows:`,
          formatPeople(seen.follows, '  nobody yet'),
          '',
          seen.following ? `You follow ${name}.` : `Follow with: chrysalis follow ${seen.profile.id}`
        ].join('\n'),
        seen
      )
    }
  },

  topics: {
    usage: 'topics',
    summary: 'list the topics people can find you on (those you posted to or discovered)',
    args: [0, 0],
    usesNode: true,
    async run(ctx) {
      const topics = await ctx.withNode((node) => node.topics())
      const human = topics.length
        ? topics.map((x) => `${displayLine(x.name)}${x.announced ? '  (announced now)' : ''}`).join('\n')
        : 'You are on no topic yet: post with a #topic, or `chrysalis discover TOPIC`.'
      ctx.print(human, { topics })
    }
  },

  topic: {
    usage: 'topic NAME [--limit N] [--timeout S]',
    summary: "a topic as a place: the newest posts on it from everyone found there (followed or not), from the people you follow, and yours",
    options: { limit: LIMIT_OPT, timeout: TIMEOUT_OPT },
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const n = limit(ctx, 20, 100)
      const view = await withOnlineNode(ctx, seconds(ctx, 'timeout', 10), `looking for people and posts on "${ctx.args[0]!}"…`, (node, timeoutMs) =>
        node.topicView(ctx.args[0]!, { limit: n, timeoutMs })
      )
      const who = view.people.length ? `${plural(view.people.length, 'person', 'people')} found there now` : 'nobody else found there now'
      ctx.print([`#${view.topic} · ${who}`, '', formatPosts(view.posts, `No posts on #${view.topic} yet: post one with #${view.topic} in it.`)].join('\n'), view)
    }
  },

  'topic leave': {
    usage: 'topic leave NAME',
    summary: 'stop being findable on a topic (a new post there joins it again)',
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const name = normalizeTopic(ctx.args[0]!)
      const left = await ctx.withNode((node) => node.leaveTopic(name))
      ctx.print(left ? `Left "${displayLine(name)}": you are no longer announced there.` : `You were not on "${displayLine(name)}".`, { topic: name, left })
    }
  }
}

