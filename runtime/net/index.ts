// The network subsystem: a libp2p node whose identity is the node key — TCP and WebSockets,
// Noise, Yamux, identify, ping, Kademlia DHT under /leither, gossipsub, circuit relay v2,
// AutoNAT, DCUtR, mDNS and bootstrap — plus a registry for the node's own protocols.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub } from '@libp2p/gossipsub'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { Identity } from '../identity/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import { bunNoiseCrypto } from './crypto.ts'
import { applyBunCompat } from './bun-compat.ts'
import { repairGossip, type GossipRepair } from './gossip-repair.ts'
import { DHT_NAMESPACE, selectDhtRecord, validateDhtRecord } from './records.ts'

export interface NetComponents extends BaseComponents {
  readonly identity: Identity
}

export interface Net extends Subsystem {
  /** The libp2p node; throws before start. */
  readonly libp2p: Libp2p<NetServices>
  /** Addresses other nodes can dial, with /p2p/<peer id>. */
  addrs(): string[]
}

export type NetServices = {
  identify: ReturnType<ReturnType<typeof identify>>
  ping: ReturnType<ReturnType<typeof ping>>
  dht: KadDHT
  pubsub: ReturnType<ReturnType<typeof gossipsub>>
  autonat?: unknown
  dcutr?: unknown
  relay?: unknown
}

/** The DHT protocol of Leither networks: separate from IPFS's, so the two never mix records. */
export const DHT_PROTOCOL = '/leither/kad/1.0.0'

/**
 * The connection monitor's ping: its interval, and a timeout below it so pings never overlap.
 * LEITHER_PING_INTERVAL_MS changes the interval (tests that wait for a measured round trip).
 */
const PING_INTERVAL_MS = 30_000
const PING_TIMEOUT_MS = 25_000
function pingTiming(): { interval: number; timeout: number } {
  const interval = Number(process.env.LEITHER_PING_INTERVAL_MS) || PING_INTERVAL_MS
  return { interval, timeout: Math.min(PING_TIMEOUT_MS, Math.floor(interval * 0.8)) }
}

/** How gossipsub's peer scoring writes this machine's addresses (multiaddr host strings). */
const LOOPBACK_IPS = ['127.0.0.1', '::1']

function listenAddrs(host: string, port: number): string[] {
  const ip = host.includes(':') ? 'ip6' : 'ip4'
  const h = host === 'localhost' ? '127.0.0.1' : host
  // WebSockets listens on the next port (or any free one when the TCP port is 0).
  return [`/${ip}/${h}/tcp/${port}`, `/${ip}/${h}/tcp/${port === 0 ? 0 : port + 1}/ws`, '/p2p-circuit']
}

/** Parts of the stack that can be left out, for measuring what each costs (bench/rss-services.ts). */
export const OPTIONAL_SERVICES = ['autonat', 'dcutr', 'relay', 'circuit', 'websockets'] as const

/** LEITHER_NET_OFF=autonat,dcutr,… leaves those out; a diagnostic, not a setting (nodes need them). */
function servicesOff(v = process.env.LEITHER_NET_OFF ?? ''): Set<string> {
  const names = v.split(',').map((s) => s.trim()).filter(Boolean)
  for (const n of names) if (!(OPTIONAL_SERVICES as readonly string[]).includes(n)) throw new Error(`LEITHER_NET_OFF: unknown part ${n} (known: ${OPTIONAL_SERVICES.join(', ')})`)
  return new Set(names)
}

export function net() {
  return (components: NetComponents): Net => {
    const { config, identity } = components
    const log = components.log.child('net')
    let node: Libp2p<NetServices> | undefined
    let repair: GossipRepair | undefined

    return {
      name: 'net',
      get libp2p() {
        if (!node) throw new Error('net is not started')
        return node
      },
      addrs() {
        return node ? node.getMultiaddrs().map((a) => a.toString()) : []
      },
      async start() {
        applyBunCompat()
        const off = servicesOff()
        const offFilter = (a: string) => !(off.has('websockets') && a.includes('/ws')) && !(off.has('circuit') && a.includes('/p2p-circuit'))
        const key = identity.nodeKey
        const raw = new Uint8Array(64)
        raw.set(key.secretKey)
        raw.set(key.publicKey, 32)
        const pinging = pingTiming()
        const services: Record<string, unknown> = {
          identify: identify(),
          // Two pingers share the protocol: the connection monitor (below) and kad-dht, which pings a
          // peer before adding it to its routing table. With the spec's one outbound stream per
          // peer, the second ping failed and the monitor aborted the connection for it.
          ping: ping({ timeout: PING_TIMEOUT_MS, maxOutboundStreams: 2, maxInboundStreams: 4 }),
          dht: kadDHT({
            protocol: DHT_PROTOCOL,
            clientMode: config.dhtServer === 'never',
            peerInfoMapper: passthroughMapper,
            validators: { [DHT_NAMESPACE]: validateDhtRecord },
            selectors: { [DHT_NAMESPACE]: selectDhtRecord },
          }),
          pubsub: gossipsub({
            allowPublishToZeroTopicPeers: true,
            emitSelf: false,
            // Peer scoring counts peers per IP and, past 10, scores each of them (n - 10)² × -5: at
            // 20 nodes on one host every peer fell below the graylist threshold (-80), its RPCs
            // (subscriptions, grafts) were ignored and no mesh formed. Nodes on this machine are
            // not a Sybil risk to it; other addresses keep the limit.
            scoreParams: { IPColocationFactorWhitelist: new Set(LOOPBACK_IPS) },
          }),
        }
        // The optional parts are imported only when used: a module never imported costs no memory.
        if (!off.has('autonat')) services.autonat = (await import('@libp2p/autonat')).autoNAT()
        if (!off.has('dcutr')) services.dcutr = (await import('@libp2p/dcutr')).dcutr()
        const relayed = config.relayReservations > 0 && !off.has('relay')
        const circuit = relayed || !off.has('circuit') ? await import('@libp2p/circuit-relay-v2') : undefined
        if (relayed) {
          // The protocol's defaults (128 KiB and 2 minutes per circuit) suit hole punching only; a
          // NATed Leither node serves MiMei through its relay, so circuits carry real syncs.
          services.relay = circuit!.circuitRelayServer({
            reservations: { maxReservations: config.relayReservations, defaultDataLimit: 256n * 1024n * 1024n, defaultDurationLimit: 30 * 60_000 },
          })
        }
        const discovery = []
        if (config.mdns) discovery.push((await import('@libp2p/mdns')).mdns())
        if (config.bootstrap.length) discovery.push((await import('@libp2p/bootstrap')).bootstrap({ list: config.bootstrap }))
        const transports = [tcp()]
        if (!off.has('websockets')) transports.push((await import('@libp2p/websockets')).webSockets() as never)
        if (!off.has('circuit')) transports.push(circuit!.circuitRelayTransport() as never)
        node = (await createLibp2p({
          privateKey: privateKeyFromRaw(raw),
          addresses: { listen: (config.listen.length ? config.listen : listenAddrs(config.p2pHost, config.p2pPort)).filter(offFilter) },
          transports,
          connectionEncrypters: [noise({ crypto: bunNoiseCrypto })],
          streamMuxers: [yamux()],
          connectionProtector: config.networkKey ? (await import('@libp2p/pnet')).preSharedKey({ psk: new TextEncoder().encode(config.networkKey) }) : undefined,
          peerDiscovery: discovery,
          // Loopback and LAN addresses are normal for Leither (home networks, routers).
          connectionGater: { denyDialMultiaddr: () => false },
          // libp2p refuses a host's 6th connection within a second; a home network behind one
          // address, or nodes on one machine, open more than that when they start together.
          connectionManager: { inboundConnectionThreshold: 50 },
          // libp2p pings every connection (default every 10 s, timing out after 5 s or more) and
          // aborts it when a ping fails. A busy event loop (20 nodes in one process, a large
          // commit) lost healthy connections that way, and gossipsub never reopens its streams on
          // a peer's remaining connections. One monitor ping at a time per connection, generous.
          connectionMonitor: { pingInterval: pinging.interval, pingTimeout: { minTimeout: pinging.timeout, maxTimeout: pinging.timeout } },
          services: services as never,
        })) as unknown as Libp2p<NetServices>
        if (config.dhtServer === 'always') await node.services.dht.setMode('server')
        repair = repairGossip(node as unknown as Libp2p, node.services.pubsub)
        log.info('libp2p started', { peerid: node.peerId.toString(), addrs: this.addrs() })
      },
      async stop() {
        repair?.stop()
        repair = undefined
        await node?.stop()
        node = undefined
      },
    }
  }
}
