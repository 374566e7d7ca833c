// Test networks: N in-process nodes with p2p on 127.0.0.1, linked in a chain or a star, torn down
// together; plus waits on libp2p events (connections, announced addresses, DHT routing tables),
// and undoing what two nodes learned of each other (unlink).
//
//   await using net = await bootNetwork(3)              // chain: node i dials node i-1
//   const [a, b, c] = net.nodes
//   await waitForRoutingTable(c, peerIdOf(b))
//
// Every wait is event-driven; its timeout is only a guard that turns a hang into a clear failure.
import type { Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Config } from '../../runtime/config/index.ts'
import { bootTest, type TestKernel } from './kernel.ts'

export type Topology = 'chain' | 'star' | 'full' | 'none'

export interface NetworkOptions {
  /** `chain`: node i links to node i-1 (default). `star`: every node links to node 0. `full`: every node to every other. `none`: no links. */
  topology?: Topology
  /**
   * `dial` (default): nodes boot in parallel, then each dials its neighbour — fast and exact.
   * `bootstrap`: nodes boot one by one with the neighbour's address in their bootstrap list, as a
   * deployment does (slower: the bootstrap module waits ~1 s before dialing).
   */
  link?: 'dial' | 'bootstrap'
  /** Config for every node, or per node index (applied over bootTest's loopback defaults). */
  config?: Partial<Config> | ((index: number) => Partial<Config>)
  /** Also wait until each link is in both DHT routing tables (default false). */
  waitForDht?: boolean
}

export interface TestNetwork extends AsyncDisposable {
  readonly nodes: TestKernel[]
  /** Boots one more node with p2p on; it is stopped with the others. Links are up to the caller. */
  add(config?: Partial<Config>): Promise<TestKernel>
  /** Stops every node in parallel and removes their data dirs; safe to call twice. */
  stop(): Promise<void>
}

const GUARD_MS = 20_000
/** Tries of one dial before a link fails (see link). */
const DIAL_ATTEMPTS = 5
/** Dials in flight at once, so the hub of a star does not get every dial at the same moment (see link). */
const DIAL_CONCURRENCY = 4

type Node = TestKernel
const lib = (k: Node): Libp2p => k.net!.libp2p

export const peerIdOf = (k: Node): string => lib(k).peerId.toString()

/** The node's direct TCP address with /p2p/<id> (not WebSockets, not relayed). */
export function tcpAddr(k: Node): string {
  const a = k.net!.addrs().find((s) => /\/tcp\/\d+\/p2p\//.test(s) && !s.includes('/ws') && !s.includes('/p2p-circuit'))
  if (!a) throw new Error(`node ${peerIdOf(k)} has no TCP address: ${k.net!.addrs().join(', ')}`)
  return a
}

/** The node's WebSockets address with /p2p/<id>. */
export function wsAddr(k: Node): string {
  const a = k.net!.addrs().find((s) => s.includes('/ws/p2p/') && !s.includes('/p2p-circuit'))
  if (!a) throw new Error(`node ${peerIdOf(k)} has no WebSockets address: ${k.net!.addrs().join(', ')}`)
  return a
}

/**
 * Resolves with `check()`'s first defined value, re-checking whenever one of `events` fires on
 * `target`; rejects after `timeoutMs` naming `what`.
 */
export function until<T>(target: EventTarget, events: string[], check: () => T | undefined, what: string, timeoutMs = GUARD_MS): Promise<T> {
  const first = check()
  if (first !== undefined) return Promise.resolve(first)
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      for (const e of events) target.removeEventListener(e, onEvent)
      clearTimeout(timer)
    }
    const onEvent = () => {
      const v = check()
      if (v === undefined) return
      done()
      resolve(v)
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    for (const e of events) target.addEventListener(e, onEvent)
  })
}

/** Until `k` has an open connection to `peer`. */
export function waitForPeer(k: Node, peer: string): Promise<true> {
  const node = lib(k)
  return until(node, ['connection:open', 'peer:connect'], () => (node.getConnections().some((c) => c.remotePeer.toString() === peer) || undefined), `${peerIdOf(k)} to connect to ${peer}`)
}

/** Until `k` announces an address that passes `match` (e.g. a relayed one after a reservation). */
export function waitForAddr(k: Node, match: (addr: string) => boolean, what = 'an address'): Promise<string> {
  const node = lib(k)
  return until(node, ['self:peer:update'], () => node.getMultiaddrs().map(String).find(match), `${peerIdOf(k)} to announce ${what}`)
}

/** The parts of kad-dht's routing table the waits read (public on the class, not on its interface). */
interface RoutingTable extends EventTarget {
  kb: { toIterable(): Iterable<{ peerId: PeerId }> }
  remove(peer: PeerId): Promise<void>
}
const routingTable = (k: Node) => (lib(k).services as unknown as { dht: { routingTable: RoutingTable } }).dht.routingTable

/** Until `peer` is in `k`'s DHT routing table (kad-dht adds it after identify shows it speaks our DHT). */
export async function waitForRoutingTable(k: Node, peer: string): Promise<void> {
  const table = routingTable(k)
  const has = () => [...table.kb.toIterable()].some((p) => p.peerId.toString() === peer) || undefined
  await until(table, ['peer:add'], has, `${peer} in the DHT routing table of ${peerIdOf(k)}`)
}

/** What `k` knows of `peer`: an open connection, a DHT routing table entry, addresses in its peer store. */
export async function knowledgeOf(k: Node, peer: string): Promise<{ connected: boolean; routingTable: boolean; addresses: number }> {
  const node = lib(k)
  const id = peerIdFromString(peer)
  return {
    connected: node.getConnections(id).length > 0,
    routingTable: [...routingTable(k).kb.toIterable()].some((p) => p.peerId.equals(id)),
    addresses: (await node.peerStore.get(id).catch(() => undefined))?.addresses.length ?? 0,
  }
}

/**
 * Undoes what `a` and `b` learned of each other (the DHT's start-up walks connect every node of a
 * small network): closes their connections, drops each from the other's routing table and peer
 * store. A later lookup between them must go through a third node.
 */
export async function unlink(a: Node, b: Node): Promise<void> {
  const pairs = [
    [a, b],
    [b, a],
  ] as const
  await Promise.all(pairs.map(([self, other]) => lib(self).hangUp(lib(other).peerId)))
  // Each side sees the other's close a round trip later.
  const closed = (self: Node, other: Node) => (lib(self).getConnections(lib(other).peerId).length === 0 || undefined)
  await Promise.all(pairs.map(([self, other]) => until(lib(self), ['connection:close', 'peer:disconnect'], () => closed(self, other), `${peerIdOf(self)} to close its connections to ${peerIdOf(other)}`)))
  for (const [self, other] of pairs) {
    await routingTable(self).remove(lib(other).peerId)
    await lib(self).peerStore.delete(lib(other).peerId)
  }
}

/**
 * `a` dials `b` (its TCP address unless given) and resolves once both sides see the connection.
 * A node refuses inbound connections while more than 10 are still being set up (libp2p's
 * maxIncomingPendingConnections): the hub of a busy test network does, and the dialer sees
 * "Encryption failed" or ECONNRESET. Such a dial is tried again, a little later each time.
 */
export async function link(a: Node, b: Node, addr = tcpAddr(b)): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await lib(a).dial(multiaddr(addr), { signal: AbortSignal.timeout(GUARD_MS) })
      break
    } catch (err) {
      if (attempt === DIAL_ATTEMPTS) throw err
      await Bun.sleep(100 * attempt)
    }
  }
  await Promise.all([waitForPeer(a, peerIdOf(b)), waitForPeer(b, peerIdOf(a))])
}

async function pooled<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await run(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(DIAL_CONCURRENCY, items.length) }, worker))
}

/** The earlier nodes node i links to. */
const neighbours = (topology: Topology, i: number): number[] =>
  i === 0 || topology === 'none' ? [] : topology === 'chain' ? [i - 1] : topology === 'star' ? [0] : Array.from({ length: i }, (_, j) => j)

export async function bootNetwork(n: number, opts: NetworkOptions = {}): Promise<TestNetwork> {
  const topology = opts.topology ?? 'chain'
  const configFor = (i: number) => (typeof opts.config === 'function' ? opts.config(i) : (opts.config ?? {}))
  const nodes: Node[] = []
  let stopping: Promise<void> | undefined
  const network: TestNetwork = {
    nodes,
    async add(config = {}) {
      const k = await bootTest({ p2p: true, ...config })
      nodes.push(k)
      return k
    },
    stop() {
      stopping ??= Promise.all(nodes.map((k) => k[Symbol.asyncDispose]())).then(() => undefined)
      return stopping
    },
    [Symbol.asyncDispose]: () => network.stop(),
  }
  try {
    if (opts.link === 'bootstrap') {
      for (let i = 0; i < n; i++) {
        const js = neighbours(topology, i)
        await network.add({ ...(js.length ? { bootstrap: js.map((j) => tcpAddr(nodes[j])) } : {}), ...configFor(i) })
      }
    } else {
      // allSettled: when one boot fails, the ones that did boot are still stopped below.
      const booted = await Promise.allSettled(Array.from({ length: n }, (_, i) => bootTest({ p2p: true, ...configFor(i) })))
      for (const b of booted) if (b.status === 'fulfilled') nodes.push(b.value)
      const failed = booted.find((b) => b.status === 'rejected')
      if (failed) throw (failed as PromiseRejectedResult).reason
    }
    const links = nodes.flatMap((_, i) => neighbours(topology, i).map((j) => [i, j] as const))
    if (opts.link === 'bootstrap') {
      await Promise.all(links.map(([i, j]) => Promise.all([waitForPeer(nodes[i], peerIdOf(nodes[j])), waitForPeer(nodes[j], peerIdOf(nodes[i]))])))
    } else {
      await pooled(links, ([i, j]) => link(nodes[i], nodes[j]))
    }
    if (opts.waitForDht) {
      await Promise.all(links.flatMap(([i, j]) => [waitForRoutingTable(nodes[i], peerIdOf(nodes[j])), waitForRoutingTable(nodes[j], peerIdOf(nodes[i]))]))
    }
  } catch (err) {
    await network.stop()
    throw err
  }
  return network
}
