// Two real nodes on 127.0.0.1: they connect, big messages cross a stream over TCP and over
// WebSockets, and the swarm syscalls (SwarmPeers, SwarmAddrs, SwarmConnect) answer through the
// dispatcher — with their permission checks, and with a clear error on an offline node.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootTest, callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, peerIdOf, tcpAddr, waitForPeer, wsAddr, type TestNetwork } from '../helpers/network.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { connectVia, echo, randomBytes, serveEcho } from './echo.ts'

let net: TestNetwork
let a: TestKernel
let b: TestKernel
beforeAll(async () => {
  // The connection monitor pings every 3 s here (30 s by default), so the latency test need not wait long.
  process.env.LEITHER_PING_INTERVAL_MS = '3000'
  net = await bootNetwork(2)
  delete process.env.LEITHER_PING_INTERVAL_MS
  ;[a, b] = net.nodes
  await Promise.all(net.nodes.map((k) => serveEcho(k.net!.libp2p)))
}, 30_000)
afterAll(() => net.stop())

const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

/** What libp2p's connection monitor measured on `self`'s connections to `other`: the smallest, or null. */
function monitoredRtt(self: TestKernel, other: TestKernel): number | null {
  const rtts = self.net!.libp2p.getConnections(other.net!.libp2p.peerId).flatMap((c) => (typeof c.rtt === 'number' ? [c.rtt] : []))
  return rtts.length ? Math.min(...rtts) : null
}

describe('two nodes', () => {
  test('connect: each lists the other as a direct peer, the dialer as outbound', async () => {
    type Row = { peer: string; addrs: string[]; direction: string; relayed: boolean; latencyMs: number | null }
    // The helper's chain: node 1 (b) dialed node 0 (a).
    for (const [self, other, direction] of [
      [a, b, 'inbound'],
      [b, a, 'outbound'],
    ] as const) {
      const rows = (await callLocal(self, 'SwarmPeers', await ownerSid(self))) as Row[]
      const row = rows.find((p) => p.peer === peerIdOf(other))
      expect(row).toMatchObject({ relayed: false, direction })
      expect(row!.addrs.some((x) => x.startsWith('/ip4/127.0.0.1/tcp/'))).toBe(true)
      // The connection monitor's round trip (the smallest over the peer's connections), null until it pinged.
      expect(row!.latencyMs).toBe(monitoredRtt(self, other))
    }
  })

  for (const [transport, addr, marker] of [
    ['TCP', () => tcpAddr(b), /\/tcp\/\d+$/],
    ['WebSockets', () => wsAddr(b), /\/ws$/],
  ] as const) {
    test(`a 1 MiB message crosses a stream over ${transport} and comes back intact`, async () => {
      const conn = await connectVia(a.net!.libp2p, addr())
      expect(conn.remoteAddr.toString().replace(/\/p2p\/.*$/, '')).toMatch(marker)
      const message = randomBytes(1024 * 1024 + 17)
      const back = await echo(conn, message)
      expect(back.length).toBe(message.length)
      expect(Buffer.from(back).equals(Buffer.from(message))).toBe(true)
    }, 30_000)
  }
})

describe('swarm syscalls through the dispatcher', () => {
  test('SwarmAddrs is public: peer id, direct addresses, and the relayed subset', async () => {
    const addrs = (await callLocal(b, 'SwarmAddrs', '')) as { peer: string; addrs: string[]; relayed: string[] }
    expect(addrs.peer).toBe(peerIdOf(b))
    expect(addrs.addrs).toContain(tcpAddr(b))
    expect(addrs.addrs).toContain(wsAddr(b))
    // Every node listens on /p2p-circuit too, so B may already hold a reservation on A.
    expect(addrs.relayed).toEqual(addrs.addrs.filter((x) => x.includes('/p2p-circuit')))
    for (const r of addrs.relayed) expect(r).toEndWith(`/p2p/${peerIdOf(a)}/p2p-circuit/p2p/${peerIdOf(b)}`)
  })

  test('SwarmConnect dials a third node; SwarmPeers then lists it', async () => {
    const c = await net.add()
    const sa = await ownerSid(a)
    const row = (await callLocal(a, 'SwarmConnect', sa, tcpAddr(c))) as { peer: string; direction: string }
    expect(row).toMatchObject({ peer: peerIdOf(c), direction: 'outbound' })
    await waitForPeer(c, peerIdOf(a))
    const onC = (await callLocal(c, 'SwarmPeers', await ownerSid(c))) as { peer: string; direction: string }[]
    expect(onC.find((p) => p.peer === peerIdOf(a))?.direction).toBe('inbound')
  }, 30_000)

  test('SwarmConnect explains bad and unreachable addresses', async () => {
    const sa = await ownerSid(a)
    expect(await failure(callLocal(a, 'SwarmConnect', sa, 'not-an-address'))).toStartWith('InvalidParams: not a multiaddr')
    // A port nobody listens on (the HTTP port of an offline node that just stopped).
    const gone = await bootTest()
    const port = gone.http.port
    await gone[Symbol.asyncDispose]()
    expect(await failure(callLocal(a, 'SwarmConnect', sa, `/ip4/127.0.0.1/tcp/${port}`))).toStartWith('NotFound: could not connect to')
  }, 30_000)

  test('deny twins: guests may not list peers or dial; users may list but not dial', async () => {
    expect(await failure(callLocal(a, 'SwarmPeers', ''))).toStartWith('PermissionDenied')
    expect(await failure(callLocal(a, 'SwarmConnect', '', tcpAddr(b)))).toStartWith('PermissionDenied')
    const sid = ((await callLocal(a, 'Login', loginPassport(a, generateKeyPair()))) as { sid: string }).sid
    expect(Array.isArray(await callLocal(a, 'SwarmPeers', sid))).toBe(true)
    expect(await failure(callLocal(a, 'SwarmConnect', sid, tcpAddr(b)))).toStartWith('PermissionDenied')
  })
})

describe('an offline node', () => {
  test('every net syscall says the node runs offline', async () => {
    await using off = await bootTest()
    const sid = await ownerSid(off)
    for (const [name, args] of [
      ['SwarmPeers', []],
      ['SwarmAddrs', []],
      ['SwarmConnect', ['/ip4/127.0.0.1/tcp/1']],
      ['DhtFindPeer', [peerIdOf(a)]],
      ['DhtNetworkSize', []],
    ] as const) {
      expect(await failure(callLocal(off, name, sid, ...args))).toStartWith('InvalidParams: this node runs offline (p2p: false)')
    }
  }, 30_000)
})

describe('latency', () => {
  test("SwarmPeers reports the connection monitor's round trip once it has pinged", async () => {
    // The monitor pings every 3 s here (see beforeAll) and fires no event: look every 250 ms.
    for (const deadline = Date.now() + 20_000; monitoredRtt(a, b) === null && Date.now() < deadline; ) await Bun.sleep(250)
    const measured = monitoredRtt(a, b)
    expect(measured).toBeNumber()
    const rows = (await callLocal(a, 'SwarmPeers', await ownerSid(a))) as { peer: string; latencyMs: number | null }[]
    expect(rows.find((p) => p.peer === peerIdOf(b))?.latencyMs).toBe(measured!)
  }, 30_000)
})
