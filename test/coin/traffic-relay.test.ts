// Traffic through a circuit relay: the relay meters the bytes it forwards to each end at the relay
// price, the receiving node counts them as received through that relay, and a peer past the relay's
// disconnect threshold gets no new circuit, and its open one is closed.
import { expect, test } from 'bun:test'
import { trafficOf } from '../../runtime/ledger/traffic.ts'
import { callLocal, failure, loginPassport, setNotaries, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, link, peerIdOf, waitForAddr } from '../helpers/network.ts'
import { randomBytes } from '../net/echo.ts'

const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid
const row = (k: TestKernel, peer: TestKernel) => trafficOf(k.ledger)!.row(peer.identity.nodeId)

test('a sync through a relay: the relay charges the relay price to each end, the reader counts the bytes as received through the relay, a cut-off peer gets no new circuit and loses its open one', async () => {
  // The relay: 3 毫 per KB relayed, nothing free; asks at 1000 毫, stops past 1250.
  await using net = await bootNetwork(1, { config: { relayReservations: 4, trafficRelayPrice: 3, trafficAllowance: 0, trafficPayThreshold: 1000 } })
  const relay = net.nodes[0]!
  // Neither end listens, so the circuit carries everything; the reader does not pay.
  const hidden = await net.add({ listen: ['/p2p-circuit'] })
  const reader = await net.add({ listen: ['/p2p-circuit'], trafficPay: false })
  await link(hidden, relay)
  await link(reader, relay)
  const sh = await ownerSid(hidden)
  const mid = (await callLocal(hidden, 'MMCreate', sh, 'notes', 'behind-nat', '', 2, 1)) as string
  const h = await callLocal(hidden, 'MMOpen', sh, mid, 'cur')
  for (let i = 0; i < 32; i++) await callLocal(hidden, 'Set', h, `k${i}`, randomBytes(32 * 1024))
  await callLocal(hidden, 'MMBackup', sh, mid, '')
  await callLocal(hidden, 'MiMeiPublish', sh, mid)
  const so = await ownerSid(reader)
  const relayed = await waitForAddr(hidden, (x) => x.includes('/p2p-circuit'), 'a relayed address')
  await callLocal(reader, 'SwarmConnect', so, relayed)
  const r = (await callLocal(reader, 'MiMeiSync', so, mid)) as { ver: number; bytes: number }
  expect(r.ver).toBe(1)

  // The relay forwarded the blocks to the reader, and its requests to the hidden node.
  const toReader = row(relay, reader)
  expect(toReader.relayed).toBeGreaterThan(r.bytes)
  expect(toReader.served).toBe(toReader.relayed)
  expect(toReader.debt).toBe(BigInt(Math.ceil((toReader.relayed * 3) / 1000)))
  expect(row(relay, hidden).relayed).toBeGreaterThan(0)
  expect(row(relay, hidden).relayed).toBeLessThan(toReader.relayed)
  // The hidden node served the blocks (its own meter, at its own price); the reader counts them from both.
  expect(row(hidden, reader).served).toBeGreaterThanOrEqual(r.bytes)
  expect(row(reader, hidden).received).toBeGreaterThanOrEqual(r.bytes)
  expect(row(reader, relay).receivedRelayed).toBe(row(reader, hidden).received)
  expect(row(reader, relay).received).toBe(0)

  // The reader owes the relay past 1250 毫, but they share no ledger (each node notarizes alone): no one could pay, so nothing is enforced.
  expect(toReader.debt).toBeGreaterThan(1250n)
  expect(toReader.state).toBe('ok')
  const closeCircuits = async () => {
    for (const c of reader.net!.libp2p.getConnections(hidden.net!.libp2p.peerId)) await c.close()
  }
  await closeCircuits()
  expect(((await callLocal(reader, 'SwarmConnect', so, relayed)) as { relayed: boolean }).relayed).toBe(true)
  await closeCircuits()

  // With a ledger the three share (the relay its notary), the reader refuses to pay: no new circuit until it does.
  setNotaries(net.nodes, [relay])
  expect(await failure(callLocal(reader, 'SwarmConnect', so, relayed))).toBeTruthy()
  expect(row(relay, reader).state).toBe('cut off')
  expect(row(relay, reader).refused).toContain('trafficPay is false')
  expect(reader.net!.libp2p.getConnections().some((c) => c.remotePeer.toString() === peerIdOf(hidden))).toBe(false)
  // With the relay's threshold above the debt the same dial goes through: it was the debt that stopped it.
  relay.config.trafficPayThreshold = 1_000_000
  expect(((await callLocal(reader, 'SwarmConnect', so, relayed)) as { relayed: boolean }).relayed).toBe(true)

  // Back under the threshold it passed, with that circuit open: the relay closes it at the next bytes it carries.
  relay.config.trafficPayThreshold = 1000
  const mid2 = (await callLocal(hidden, 'MMCreate', sh, 'notes', 'second', '', 2, 1)) as string
  const h2 = await callLocal(hidden, 'MMOpen', sh, mid2, 'cur')
  await callLocal(hidden, 'Set', h2, 'k', randomBytes(200 * 1024))
  await callLocal(hidden, 'MMBackup', sh, mid2, '')
  await callLocal(hidden, 'MiMeiPublish', sh, mid2)
  const before = row(relay, reader).relayed
  expect(await failure(callLocal(reader, 'MiMeiSync', so, mid2))).toBeTruthy()
  expect(row(relay, reader).relayed - before).toBeLessThan(200 * 1024)
  expect(reader.net!.libp2p.getConnections(hidden.net!.libp2p.peerId).filter((c) => c.status === 'open')).toEqual([])
}, 90_000)
