// The network subsystem: a libp2p node whose identity is the node key — TCP and WebSockets,
// Noise, Yamux, identify, ping, Kademlia DHT under /leither, gossipsub, circuit relay v2,
// AutoNAT, DCUtR, mDNS and bootstrap — plus a registry for the node's own protocols.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub } from '@libp2p/gossipsub'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { autoNAT } from '@libp2p/autonat'
import { dcutr } from '@libp2p/dcutr'
import { mdns } from '@libp2p/mdns'
import { bootstrap } from '@libp2p/bootstrap'
import { preSharedKey } from '@libp2p/pnet'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { Identity } from '../identity/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import { bunNoiseCrypto } from './crypto.ts'
import { applyBunCompat } from './bun-compat.ts'
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
  autonat: unknown
  dcutr: unknown
  relay?: unknown
}

/** The DHT protocol of Leither networks: separate from IPFS's, so the two never mix records. */
export const DHT_PROTOCOL = '/leither/kad/1.0.0'

function listenAddrs(host: string, port: number): string[] {
  const ip = host.includes(':') ? 'ip6' : 'ip4'
  const h = host === 'localhost' ? '127.0.0.1' : host
  // WebSockets listens on the next port (or any free one when the TCP port is 0).
  return [`/${ip}/${h}/tcp/${port}`, `/${ip}/${h}/tcp/${port === 0 ? 0 : port + 1}/ws`, '/p2p-circuit']
}

export function net() {
  return (components: NetComponents): Net => {
    const { config, identity } = components
    const log = components.log.child('net')
    let node: Libp2p<NetServices> | undefined

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
        const key = identity.nodeKey
        const raw = new Uint8Array(64)
        raw.set(key.secretKey)
        raw.set(key.publicKey, 32)
        const services: Record<string, unknown> = {
          identify: identify(),
          ping: ping(),
          dht: kadDHT({
            protocol: DHT_PROTOCOL,
            clientMode: config.dhtServer === 'never',
            peerInfoMapper: passthroughMapper,
            validators: { [DHT_NAMESPACE]: validateDhtRecord },
            selectors: { [DHT_NAMESPACE]: selectDhtRecord },
          }),
          pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
          autonat: autoNAT(),
          dcutr: dcutr(),
        }
        if (config.relayReservations > 0) {
          // The protocol's defaults (128 KiB and 2 minutes per circuit) suit hole punching only; a
          // NATed Leither node serves MiMei through its relay, so circuits carry real syncs.
          services.relay = circuitRelayServer({
            reservations: { maxReservations: config.relayReservations, defaultDataLimit: 256n * 1024n * 1024n, defaultDurationLimit: 30 * 60_000 },
          })
        }
        const discovery = []
        if (config.mdns) discovery.push(mdns())
        if (config.bootstrap.length) discovery.push(bootstrap({ list: config.bootstrap }))
        node = (await createLibp2p({
          privateKey: privateKeyFromRaw(raw),
          addresses: { listen: config.listen.length ? config.listen : listenAddrs(config.p2pHost, config.p2pPort) },
          transports: [tcp(), webSockets(), circuitRelayTransport()],
          connectionEncrypters: [noise({ crypto: bunNoiseCrypto })],
          streamMuxers: [yamux()],
          connectionProtector: config.networkKey ? preSharedKey({ psk: new TextEncoder().encode(config.networkKey) }) : undefined,
          peerDiscovery: discovery,
          // Loopback and LAN addresses are normal for Leither (home networks, routers).
          connectionGater: { denyDialMultiaddr: () => false },
          // libp2p refuses a host's 6th connection within a second; a home network behind one
          // address, or nodes on one machine, open more than that when they start together.
          connectionManager: { inboundConnectionThreshold: 50 },
          services: services as never,
        })) as unknown as Libp2p<NetServices>
        if (config.dhtServer === 'always') await node.services.dht.setMode('server')
        log.info('libp2p started', { peerid: node.peerId.toString(), addrs: this.addrs() })
      },
      async stop() {
        await node?.stop()
        node = undefined
      },
    }
  }
}
