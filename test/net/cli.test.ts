// `leither peers` and `leither connect` against a running node (a real process), with an
// in-process node on the other end.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cli, startNode, tempDir, type RunningNode } from '../helpers/node.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'
import { peerIdOf, tcpAddr, waitForPeer } from '../helpers/network.ts'

let dir: string & Disposable
let node: RunningNode
let other: TestKernel
beforeAll(async () => {
  dir = tempDir()
  ;[node, other] = await Promise.all([startNode(['--data', dir, '--port', '0', '--host', '127.0.0.1']), bootTest({ p2p: true })])
}, 30_000)
afterAll(async () => {
  await Promise.all([node.stop(), other[Symbol.asyncDispose]()])
  dir[Symbol.dispose]()
})

const run = (...args: string[]) => cli([...args, '--data', dir, '--node', node.url])

describe('leither peers / connect', () => {
  test('connect dials the other node; peers then lists it (text and --json)', async () => {
    expect((await run('peers')).stdout).toContain('no peers connected')
    const connected = await run('connect', tcpAddr(other))
    expect(connected.stderr).toBe('')
    expect(connected.code).toBe(0)
    expect(connected.stdout).toStartWith(`connected ${peerIdOf(other)}  outbound`)
    const nodePeer = JSON.parse((await run('call', 'SwarmAddrs')).stdout).peer as string
    await waitForPeer(other, nodePeer)

    const text = await run('peers')
    expect(text.code).toBe(0)
    expect(text.stdout).toContain(peerIdOf(other))
    expect(text.stdout).toContain('/ip4/127.0.0.1/tcp/')
    const rows = JSON.parse((await run('peers', '--json')).stdout) as { peer: string; direction: string; relayed: boolean }[]
    expect(rows.find((r) => r.peer === peerIdOf(other))).toMatchObject({ direction: 'outbound', relayed: false })
  }, 30_000)

  test('usage and errors: exit 2 without an address, 1 with the node text for a bad one', async () => {
    const missing = await run('connect')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('usage: leither connect MULTIADDR')
    const bad = await run('connect', 'nowhere')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toStartWith('InvalidParams: not a multiaddr')
    const help = await cli(['peers', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: leither peers')
    expect(help.stdout).toContain('--json')
  }, 30_000)
})
