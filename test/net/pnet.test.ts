// Private networks: nodes sharing a pre-shared key (networkKey) connect to each other and to no
// one else; a node of the open network cannot reach them, nor they it.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, peerIdOf, tcpAddr, waitForPeer, type TestNetwork } from '../helpers/network.ts'

/** A libp2p swarm.key text: the format `networkKey` takes (as go-ipfs and js-libp2p write it). */
const swarmKey = () => `/key/swarm/psk/1.0.0/\n/base16/\n${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`

let net: TestNetwork
let open: TestKernel
let privateA: TestKernel
let privateB: TestKernel
let stranger: TestKernel
beforeAll(async () => {
  const key = swarmKey()
  net = await bootNetwork(4, { topology: 'none', config: (i) => (i === 0 ? {} : { networkKey: i === 3 ? swarmKey() : key }) })
  ;[open, privateA, privateB, stranger] = net.nodes
}, 30_000)
afterAll(() => net.stop())

const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

describe('private network (networkKey)', () => {
  test('two nodes with the same key connect', async () => {
    const row = (await callLocal(privateA, 'SwarmConnect', await ownerSid(privateA), tcpAddr(privateB))) as { peer: string }
    expect(row.peer).toBe(peerIdOf(privateB))
    await waitForPeer(privateB, peerIdOf(privateA))
  }, 30_000)

  test('a private node cannot connect to an open-network node, nor the other way round', async () => {
    const toOpen = await failure(callLocal(privateA, 'SwarmConnect', await ownerSid(privateA), tcpAddr(open)))
    expect(toOpen).toMatch(/^(NotFound: could not connect|Timeout: no connection)/)
    const toPrivate = await failure(callLocal(open, 'SwarmConnect', await ownerSid(open), tcpAddr(privateA)))
    expect(toPrivate).toMatch(/^(NotFound: could not connect|Timeout: no connection)/)
    expect(privateA.net!.libp2p.getPeers().map(String)).not.toContain(peerIdOf(open))
  }, 30_000)

  test('a node with another key cannot connect either', async () => {
    // With two different keys each side decrypts the other's bytes to noise: nothing fails
    // outright, the handshake just never completes — hence the short deadline.
    const err = await failure(callLocal(stranger, 'SwarmConnect', await ownerSid(stranger), tcpAddr(privateB), 2))
    expect(err).toMatch(/^(NotFound: could not connect|Timeout: no connection)/)
    expect(stranger.net!.libp2p.getPeers()).toEqual([])
  }, 30_000)
})
