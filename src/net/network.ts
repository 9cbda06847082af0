import Hyperswarm, { type Discovery, type PeerInfo, type SwarmConnection } from 'hyperswarm'
import type HyperDHT from 'hyperdht'
import Protomux, { type Channel, type Message } from 'protomux'
import type Corestore from 'corestore'
import type { KeyPair } from '../identity/keys.js'
import { encodeId, toHex } from '../identity/encoding.js'
import { DecodeError } from '../codec/primitives.js'
import { MESSAGE_TYPES, PROTOCOL, encodings, type Ack, type FollowNotice, type Hello, type Notify } from './messages.js'
import { interestTopic } from './topics.js'
import { SenderBuckets } from './rate.js'
import { Resource } from '../lifecycle.js'

export interface Peer {
  publicKey: Buffer
  id: string
  /** Null until the peer's hello arrives. */
  hello: Hello | null
  /** Interest topics (normalised names) through which we found this peer, if any. */
  foundVia: Set<string>
}

interface PeerState extends Peer {
  conn: SwarmConnection
  channel: Channel<Hello>
  /** The channel's messages, as registered (protocol.md §8.2): 0 notify, 1 ack, 2 follow-notice, 3 follow-ack. */
  send: { notify: Message<Notify>; ack: Message<Ack>; followNotice: Message<FollowNotice>; followAck: Message<FollowNotice> }
}

export interface NetworkEvents {
  /** A peer completed the hello exchange. */
  peer: [Peer]
  'peer-leave': [Peer]
  /** Process the notification, then call `done` to acknowledge it. */
  notify: [Peer, Notify, () => void]
  /** Someone says they followed or unfollowed us: read their feed, then call `done` to acknowledge it. */
  'follow-notice': [Peer, FollowNotice, () => void]
  /** A peer sent something that does not decode (or broke a rule); it was disconnected. */
  'bad-peer': [Buffer, string]
  /** A new connection's muxer, for other protocols (torrents) to open their channels on. */
  connection: [Buffer, Protomux]
}

export interface NetworkOptions {
  keyPair: KeyPair
  store: Corestore
  dht: HyperDHT
  /** The current hello to send to new peers (name, bio, interest topics); the network adds `messages`. */
  hello: () => Omit<Hello, 'messages'>
  /**
   * Called on each new connection with the topics through which we found the peer (none when it
   * called us): attach the feeds it is for (`core.replicate(mux.stream)`, protocol.md §8.4). Without
   * it, the corestore's own policy applies.
   */
  offer?: (remote: Buffer, topics: Buffer[], mux: Protomux) => void
  maxPeers?: number
}

/**
 * The node's presence on the network: one hyperswarm whose Noise keypair is the identity (so
 * every connection's remote key is an authenticated identity), feed replication and the
 * chrysalis/v1 channel on every connection, per-peer state keyed by public key.
 *
 *   const net = new Network({ keyPair, store, dht, hello: () => ({ name, bio, topics: [] }) })
 *   await net.joinFeed(feed.discoveryKey)
 *   await net.flush()
 */
/**
 * Connections at most: one to each followed author online and to each peer serving a feed, so
 * above hyperswarm's default of 64 (a node following 1,000 people with 100 of them online).
 */
export const MAX_PEERS = 256

/** How long closing waits for the DHT to take our unannouncements. */
const CLOSE_GRACE_MS = 500

export class Network extends Resource<NetworkEvents> {
  readonly swarm: Hyperswarm
  private readonly store: Corestore
  private readonly hello: () => Omit<Hello, 'messages'>
  private readonly offer: NetworkOptions['offer'] | null
  private readonly peers = new Map<string, PeerState>()
  private readonly interests = new Map<string, { topic: Buffer; discovery: Discovery }>()
  private readonly feeds = new Map<string, Discovery>()
  private readonly topics = new Map<string, Discovery>()
  private readonly muxes = new Map<string, Protomux>()
  private readonly banned = new Set<string>()
  private readonly acks = new Map<string, () => void>()
  /** Ends every wait for a peer or an ack (close: none outlives the network, nor holds the process). */
  private readonly waiting = new Set<() => void>()
  /** Notification buckets by sender (hex key), kept across reconnections; refilled ones go. */
  private readonly buckets = new SenderBuckets()

  constructor(opts: NetworkOptions) {
    super()
    this.store = opts.store
    this.hello = opts.hello
    this.offer = opts.offer ?? null
    this.swarm = new Hyperswarm({
      keyPair: opts.keyPair,
      dht: opts.dht,
      maxPeers: opts.maxPeers ?? MAX_PEERS,
      firewall: (remotePublicKey) => this.banned.has(toHex(remotePublicKey))
    })
    this.swarm.on('connection', (conn, info) => this.onConnection(conn, info))
  }

  get publicKey(): Buffer {
    return this.swarm.keyPair.publicKey
  }

  /** Peers that completed the hello exchange. */
  list(): Peer[] {
    return [...this.peers.values()].filter((p) => p.hello !== null).map(publicPeer)
  }

  connectionCount(): number {
    return this.swarm.connections.size
  }

  interestNames(): string[] {
    return [...this.interests.keys()]
  }

  /**
   * Announce and look up a feed's topic (its discovery key): the own feed, and the few followed
   * feeds this node serves for others while their authors are away (protocol.md §8.4).
   */
  async joinFeed(discoveryKey: Buffer): Promise<void> {
    const key = toHex(discoveryKey)
    if (this.feeds.has(key)) return
    const discovery = this.swarm.join(discoveryKey, { server: true, client: true })
    this.feeds.set(key, discovery)
    await discovery.flushed()
  }

  async leaveFeed(discoveryKey: Buffer): Promise<void> {
    const key = toHex(discoveryKey)
    const discovery = this.feeds.get(key)
    if (!discovery) return
    this.feeds.delete(key)
    // This join's session only: a lookup of the same topic in flight goes on.
    await discovery.destroy()
  }

  /** Whether this node announces a feed's topic now. */
  servesFeed(discoveryKey: Buffer): boolean {
    return this.feeds.has(toHex(discoveryKey))
  }

  /**
   * Look a feed's topic up once, without announcing it and without staying on it (no refresh
   * every ten minutes): whoever announces it (its author, or a follower serving it) is connected
   * to, and the connection stays. Resolves once the lookup is done.
   */
  async lookupFeed(discoveryKey: Buffer): Promise<void> {
    if (this.closing) return
    const session = this.swarm.join(discoveryKey, { server: false, client: true })
    try {
      await session.flushed()
    } finally {
      // Ours only: a join of the same topic (a served feed) stays.
      await session.destroy().catch(() => {})
    }
  }

  /** Join any other topic (a torrent's); refreshed once so simultaneous joiners meet. */
  async joinTopic(topic: Buffer, opts: { server: boolean; client: boolean }): Promise<void> {
    const key = toHex(topic)
    if (this.topics.has(key)) return
    const discovery = this.swarm.join(topic, opts)
    this.topics.set(key, discovery)
    await discovery.flushed()
    if (this.closing || this.topics.get(key) !== discovery) return
    await discovery.refresh(opts)
    await discovery.flushed()
  }

  /** Look a joined topic up again now (a download that has run out of peers). */
  async refreshTopic(topic: Buffer): Promise<void> {
    const discovery = this.topics.get(toHex(topic))
    if (!discovery || this.closing) return
    await discovery.refresh()
    await discovery.flushed()
  }

  async leaveTopic(topic: Buffer): Promise<void> {
    if (!this.topics.delete(toHex(topic))) return
    await this.swarm.leave(topic)
  }

  /**
   * How many distinct peers announce a topic now (a torrent's: who has the file or part of it),
   * by one DHT lookup that connects to nobody. Whatever was found by the deadline counts.
   */
  async countAnnouncers(topic: Buffer, deadline: number): Promise<number> {
    const found = new Set<string>()
    const stream = this.swarm.dht.lookup(topic)
    const timer = setTimeout(() => stream.destroy(), Math.max(0, deadline - Date.now()))
    try {
      for await (const reply of stream) {
        for (const peer of reply.peers) found.add(toHex(peer.publicKey))
      }
    } catch {
      // destroyed at the deadline, or the DHT is closing: what was found so far is the answer
    } finally {
      clearTimeout(timer)
    }
    return found.size
  }

  /** Open connections: remote identity and the connection's muxer. */
  connections(): Array<{ publicKey: Buffer; mux: Protomux }> {
    return [...this.peers.values()].map((p) => ({ publicKey: p.publicKey, mux: this.muxes.get(toHex(p.publicKey))! })).filter((c) => c.mux)
  }

  /**
   * Join an interest topic as client and server; returns its normalised name. With `lookAgain`,
   * a topic joined already is looked up again now (someone asking who is there expects a fresh
   * answer, not the one from when it was joined).
   */
  async joinInterest(name: string, opts: { lookAgain?: boolean } = {}): Promise<string> {
    const { name: normal, topic } = interestTopic(name)
    const joined = this.interests.get(normal)
    if (joined) {
      if (opts.lookAgain && !this.closing) {
        await joined.discovery.refresh({ server: true, client: true })
        await joined.discovery.flushed()
      }
      return normal
    }
    const discovery = this.swarm.join(topic, { server: true, client: true })
    this.interests.set(normal, { topic, discovery })
    await discovery.flushed()
    // Closed (or left) while announcing: hyperswarm throws on refreshing a destroyed discovery.
    if (this.closing || this.interests.get(normal)?.discovery !== discovery) return normal
    // Two nodes that join at the same moment can miss each other's announcement until the
    // next refresh, ten minutes away (holepunch.md §7.1): look again once ours has landed.
    await discovery.refresh({ server: true, client: true })
    await discovery.flushed()
    return normal
  }

  /** Stop announcing and looking up an interest topic (connections made there stay). */
  async leaveInterest(name: string): Promise<void> {
    const { name: normal, topic } = interestTopic(name)
    if (!this.interests.delete(normal)) return
    await this.swarm.leave(topic)
  }

  /** Connect to a known identity directly, without a topic. */
  joinPeer(publicKey: Buffer): void {
    if (!publicKey.equals(this.publicKey)) this.swarm.joinPeer(publicKey)
  }

  leavePeer(publicKey: Buffer): void {
    this.swarm.leavePeer(publicKey)
  }

  /** Wait until pending lookups are done and the connections they found are attempted. */
  async flush(): Promise<void> {
    await this.swarm.flush()
  }

  peer(publicKey: Buffer): Peer | null {
    const p = this.peers.get(toHex(publicKey))
    return p && p.hello ? publicPeer(p) : null
  }

  protected async _open(): Promise<void> {
    // The swarm starts in the constructor; joining topics is what goes online.
  }

  /**
   * Leaves every topic and closes every connection (the network's close()). Unannouncing is a
   * courtesy with a bound: on a DHT that does not answer it would hold a closing node for as long
   * as an announce takes to time out, so after CLOSE_GRACE_MS the swarm is closed without it
   * (announcements expire on their own).
   */
  protected async _close(): Promise<void> {
    for (const stop of [...this.waiting]) stop()
    let timer: NodeJS.Timeout | undefined
    const graceful = await Promise.race([
      this.swarm.clear().then(() => true, () => false),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS)))
    ])
    clearTimeout(timer)
    if (graceful) return this.swarm.destroy()
    // The swarm's server waits for its own unannounce too: closing the DHT under it ends every
    // query at once (the swarm closes that DHT anyway).
    await Promise.all([this.swarm.destroy({ force: true }), this.swarm.dht.destroy({ force: true })])
  }


  private onConnection(conn: SwarmConnection, info: PeerInfo): void {
    // Without an error handler the first "connection reset by peer" crashes the process. A
    // message that does not decode throws inside protomux, which destroys the connection with
    // that DecodeError: report the peer as bad-peer, as guard() does for the rules of §8.
    conn.on('error', (err: unknown) => {
      if (err instanceof DecodeError) this.emit('bad-peer', conn.remotePublicKey, err.message)
    })
    const key = toHex(conn.remotePublicKey)
    this.store.replicate(conn)
    const mux = Protomux.from(conn)
    let state: PeerState | null = null
    const channel = mux.createChannel({
      protocol: PROTOCOL,
      handshake: encodings.hello,
      onopen: (hello) => this.guard(conn, () => state && this.onHello(state, hello))
    })
    if (channel === null) return // this connection already has our channel
    const send = {
      notify: channel.addMessage({ encoding: encodings.notify, onmessage: (m) => this.guard(conn, () => state && this.onNotify(state, m)) }),
      ack: channel.addMessage({ encoding: encodings.ack, onmessage: (m) => this.guard(conn, () => state && this.onAck(state, m)) }),
      followNotice: channel.addMessage({ encoding: encodings.followNotice, onmessage: (m) => this.guard(conn, () => state && this.onFollowNotice(state, m)) }),
      followAck: channel.addMessage({ encoding: encodings.followAck, onmessage: (m) => this.guard(conn, () => state && this.onFollowAck(state, m)) })
    }
    const foundVia = new Set<string>()
    for (const topic of info.topics) {
      for (const [name, interest] of this.interests) if (interest.topic.equals(topic)) foundVia.add(name)
    }
    state = { publicKey: conn.remotePublicKey, id: encodeId(conn.remotePublicKey), hello: null, foundVia, conn, channel, send }
    // A newer connection to the same peer replaces the older one (hyperswarm keeps one of two
    // duplicates and destroys the other).
    this.peers.set(key, state)
    this.muxes.set(key, mux)
    conn.on('close', () => {
      if (this.peers.get(key) !== state) return
      this.peers.delete(key)
      this.muxes.delete(key)
      this.buckets.release(key)
      if (state?.hello) this.emit('peer-leave', publicPeer(state))
    })
    channel.open({ ...this.hello(), messages: MESSAGE_TYPES.length })
    this.offer?.(conn.remotePublicKey, info.topics, mux)
    this.emit('connection', conn.remotePublicKey, mux)
  }

  private onHello(state: PeerState, hello: Hello): void {
    state.hello = hello
    this.emit('peer', publicPeer(state))
  }

  private onNotify(state: PeerState, message: Notify): void {
    if (this.admit(state, 'a notification')) {
      this.emit('notify', publicPeer(state), message, ackOnce(state, () => state.send.ack.send({ id: message.id })))
    }
  }

  private onFollowNotice(state: PeerState, message: FollowNotice): void {
    if (this.admit(state, 'a follow notice')) {
      this.emit('follow-notice', publicPeer(state), message, ackOnce(state, () => state.send.followAck.send({ at: message.at })))
    }
  }

  /**
   * A notify or a follow notice may come only after the peer's hello (else: disconnect), and is
   * read only with a token of the sender's bucket (each costs us a feed read): false drops it.
   */
  private admit(state: PeerState, what: string): boolean {
    if (!state.hello) throw new DecodeError(`${what} before hello`)
    return this.buckets.take(toHex(state.publicKey))
  }

  private onFollowAck(state: PeerState, { at }: FollowNotice): void {
    this.settleAck(`${toHex(state.publicKey)}/follow/${at}`)
  }

  private onAck(state: PeerState, { id }: Ack): void {
    this.settleAck(`${toHex(state.publicKey)}/${id}`)
  }

  private settleAck(key: string): void {
    this.acks.get(key)?.()
    this.acks.delete(key)
  }

  /**
   * Deliver a notification to an identity: connect to it directly (by public key, no topic),
   * send, and wait for its acknowledgement. False when it could not be done before the deadline.
   */
  async deliver(publicKey: Buffer, message: Notify, deadline: number): Promise<boolean> {
    const sent = await this.sendAndAwaitAck(publicKey, `${toHex(publicKey)}/${message.id}`, (p) => p.send.notify.send(message), deadline)
    return sent === 'acked'
  }

  /**
   * Deliver a follow notice, like `deliver`. 'old-peer' at once when the identity is connected but
   * its hello says it does not handle follow notices (a peer of the first revision, which would
   * drop it unanswered): the caller keeps it for when that peer is updated.
   */
  deliverFollowNotice(publicKey: Buffer, notice: FollowNotice, deadline: number): Promise<'acked' | 'failed' | 'old-peer'> {
    const handles = (p: Peer): boolean => (p.hello?.messages ?? 0) > MESSAGE_TYPES.indexOf('follow-ack')
    return this.sendAndAwaitAck(publicKey, `${toHex(publicKey)}/follow/${notice.at}`, (p) => p.send.followNotice.send(notice), deadline, handles)
  }

  /** Connect to an identity directly (by public key, no topic), send, and wait for the ack filed under `key`. */
  private async sendAndAwaitAck(
    publicKey: Buffer,
    key: string,
    send: (peer: PeerState) => void,
    deadline: number,
    handles: (peer: Peer) => boolean = () => true
  ): Promise<'acked' | 'failed' | 'old-peer'> {
    // Connected already (the usual case: we deliver when a peer says hello): no dial. An explicit
    // peer is not free: while hyperswarm has 4 or more, it keeps a quarter of maxPeers for them.
    const dial = this.peer(publicKey) === null
    if (dial) this.joinPeer(publicKey)
    try {
      const peer = await this.waitForPeer(publicKey, deadline)
      if (!peer) return 'failed'
      if (!handles(peer)) return 'old-peer'
      return (await this.awaitAck(publicKey, key, send, deadline)) ? 'acked' : 'failed'
    } finally {
      // hyperswarm retries explicit peers forever: release it (an open connection stays open).
      if (dial) this.leavePeer(publicKey)
    }
  }

  private awaitAck(publicKey: Buffer, key: string, send: (peer: PeerState) => void, deadline: number): Promise<boolean> {
    let fail = (): void => {}
    const acked = new Promise<boolean>((resolve) => {
      const settle = (ok: boolean): void => {
        clearTimeout(timer)
        this.waiting.delete(fail)
        if (this.acks.get(key) === onAck) this.acks.delete(key)
        resolve(ok)
      }
      const onAck = (): void => settle(true)
      const timer = setTimeout(() => settle(false), Math.max(0, deadline - Date.now()))
      this.acks.set(key, onAck)
      fail = () => settle(false)
      this.waiting.add(fail)
    })
    const peer = this.peers.get(toHex(publicKey))
    if (!peer || peer.hello === null) fail()
    else send(peer) // queued even when it reports backpressure
    return acked
  }

  /** Resolve with the peer once it has said hello, or null at the deadline. */
  waitForPeer(publicKey: Buffer, deadline: number): Promise<Peer | null> {
    const ready = this.peer(publicKey)
    if (ready) return Promise.resolve(ready)
    return new Promise((resolve) => {
      const onPeer = (p: Peer): void => {
        if (!p.publicKey.equals(publicKey)) return
        finish(p)
      }
      const timer = setTimeout(() => finish(null), Math.max(0, deadline - Date.now()))
      const stop = (): void => finish(null)
      const finish = (p: Peer | null): void => {
        clearTimeout(timer)
        this.waiting.delete(stop)
        this.off('peer', onPeer)
        resolve(p)
      }
      this.on('peer', onPeer)
      this.waiting.add(stop)
    })
  }

  /**
   * A throw inside a protomux handler would tear down the whole connection uncontrolled (and a
   * TypeError, rethrown by protomux, the process): a broken rule or a failing listener ends the
   * connection deliberately, and the node carries on. (Decode errors are protomux's: see the
   * connection's error handler.)
   */
  private guard(conn: SwarmConnection, fn: () => void): void {
    try {
      fn()
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      this.emit('bad-peer', conn.remotePublicKey, reason)
      conn.destroy()
    }
  }
}

/** The `done` a listener calls once it processed a peer's message: acknowledges once, on an open channel. */
function ackOnce(state: PeerState, ack: () => void): () => void {
  let acked = false
  return () => {
    if (acked || state.channel.closed) return
    acked = true
    ack()
  }
}

function publicPeer(p: PeerState): Peer {
  return { publicKey: p.publicKey, id: p.id, hello: p.hello, foundVia: new Set(p.foundVia) }
}
