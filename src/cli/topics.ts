import { displayLine } from '../display.js'
import type { Command } from './commands.js'

/** Commands for topics: the places where people find you (you are on a topic once you post or discover there). */
export const TOPIC_COMMANDS: Record<string, Command> = {
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

  'topic leave': {
    usage: 'topic leave NAME',
    summary: 'stop being findable on a topic (a new post there joins it again)',
    args: [1, 1],
    usesNode: true,
    async run(ctx) {
      const name = ctx.args[0]!
      const left = await ctx.withNode((node) => node.leaveTopic(name))
      ctx.print(left ? `Left "${displayLine(name)}": you are no longer announced there.` : `You were not on "${displayLine(name)}".`, { topic: name, left })
    }
  }
}
