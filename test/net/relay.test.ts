// Circuit relay v2: a node that cannot be dialed (it listens only on /p2p-circuit) reserves a slot
// on a relay and is reached through the relayed address by a third node.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, link, peerIdOf, tcpAddr, waitForAddr, type TestNetwork } from '../helpers/network.ts'
import { echo, randomBytes, serveEcho } from './echo.ts'

let net: TestNetwork
let relay: TestKernel
let hidden: TestKernel
let dialer: TestKernel
beforeAll(async () => {
  net = await bootNetwork(2, { topology: 'none', config: { relayReservations: 4 } })
  ;[relay, dialer] = net.nodes
  hidden = await net.add({ listen: ['/p2p-circuit'] })
  await serveEcho(hidden.net!.libp2p)
}, 30_000)
afterAll(() => net.stop())

const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

describe('relay', () => {
  test('a node without listen addresses is reachable through its relay reservation', async () => {
    expect(hidden.net!.addrs()).toEqual([])
    await link(hidden, relay)
    const relayed = await waitForAddr(hidden, (x) => x.includes('/p2p-circuit'), 'a relayed address')
    expect(relayed).toBe(`${tcpAddr(relay)}/p2p-circuit/p2p/${peerIdOf(hidden)}`)
    const addrs = (await callLocal(hidden, 'SwarmAddrs', '')) as { addrs: string[]; relayed: string[] }
    expect(addrs.relayed).toContain(relayed)
    expect(addrs.addrs.filter((x) => !x.includes('/p2p-circuit'))).toEqual([])

    const sd = await ownerSid(dialer)
    const row = (await callLocal(dialer, 'SwarmConnect', sd, relayed)) as { peer: string; relayed: boolean; addrs: string[] }
    expect(row.peer).toBe(peerIdOf(hidden))
    expect(row.relayed).toBe(true)
    expect(row.addrs[0]).toContain('/p2p-circuit')
    const peers = (await callLocal(dialer, 'SwarmPeers', sd)) as { peer: string; relayed: boolean }[]
    expect(peers.find((p) => p.peer === peerIdOf(hidden))?.relayed).toBe(true)

    const conn = dialer.net!.libp2p.getConnections().find((c) => c.remotePeer.toString() === peerIdOf(hidden))!
    // Relayed connections are limited (circuit relay v2 default: 128 KiB per circuit, then the
    // relay closes it); 48 KiB each way fits with the protocol overhead.
    const message = randomBytes(48 * 1024)
    const back = await echo(conn, message)
    expect(Buffer.from(back).equals(Buffer.from(message))).toBe(true)
  }, 30_000)
})

describe('relay carries syncs', () => {
  test('two nodes that cannot be dialed sync a MiMei through the relay', async () => {
    // Neither side listens, so no direct connection (nor hole punch) can replace the circuit.
    const other = await net.add({ listen: ['/p2p-circuit'] })
    await link(other, relay)
    const sh = await ownerSid(hidden)
    const mid = (await callLocal(hidden, 'MMCreate', sh, 'notes', 'behind-nat', '', 2, 1)) as string
    const h = await callLocal(hidden, 'MMOpen', sh, mid, 'cur')
    // 2 MB of distinct values: far past the relay protocol's default 128 KiB per circuit.
    for (let i = 0; i < 64; i++) await callLocal(hidden, 'Set', h, `k${i}`, randomBytes(32 * 1024))
    await callLocal(hidden, 'MMBackup', sh, mid, '')
    await callLocal(hidden, 'MiMeiPublish', sh, mid)
    const so = await ownerSid(other)
    const relayed = await waitForAddr(hidden, (x) => x.includes('/p2p-circuit'), 'a relayed address')
    await callLocal(other, 'SwarmConnect', so, relayed)
    const r = (await callLocal(other, 'MiMeiSync', so, mid)) as { ver: number; bytes: number }
    expect(r.ver).toBe(1)
    expect(r.bytes).toBeGreaterThan(2 * 1024 * 1024)
    expect(await callLocal(other, 'MMSum', so, mid, 1)).toBe(await callLocal(hidden, 'MMSum', sh, mid, 1))
    const conns = other.net!.libp2p.getConnections().filter((c) => c.remotePeer.toString() === peerIdOf(hidden))
    expect(conns.length).toBeGreaterThan(0)
    expect(conns.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true)
  }, 60_000)
})
