// `leither mimei publish|findprovs|sync|provide` between two running node processes.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cli, startNode, tempDir, type RunningNode } from '../helpers/node.ts'
import { GOSSIP_ONLY_ENV } from '../helpers/replication.ts'

let dirA: string & Disposable
let dirB: string & Disposable
let a: RunningNode
let b: RunningNode
beforeAll(async () => {
  dirA = tempDir()
  dirB = tempDir()
  a = await startNode(['--data', dirA, '--port', '0', '--host', '127.0.0.1'])
  const addrs = (await (await fetch(`${a.url}/getvar?name=nodeaddrs`)).json()) as string[]
  // B does not poll A for new versions: what it follows comes by gossip.
  b = await startNode(['--data', dirB, '--port', '0', '--host', '127.0.0.1', '--bootstrap', addrs[0]], { env: GOSSIP_ONLY_ENV })
  // The bootstrap dial happens about a second after start; a sync before it finds nobody.
  const aPeer = addrs[0].split('/p2p/')[1]
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(100)) {
    const peers = await cli(['peers', '--json', '--data', dirB, '--node', b.url])
    if (peers.code === 0 && peers.stdout.includes(aPeer)) return
  }
  throw new Error('node B never connected to node A')
})
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  dirA[Symbol.dispose]()
  dirB[Symbol.dispose]()
})

const onA = (...args: string[]) => cli([...args, '--data', dirA, '--node', a.url])
const onB = (...args: string[]) => cli([...args, '--data', dirB, '--node', b.url])

describe('leither mimei across nodes', () => {
  test('publish on A; on B find it, sync it and read it; provide follows a new version', async () => {
    const mid = (await onA('mimei', 'create', '--app', 'notes', '--public')).stdout.trim()
    await onA('mimei', 'put', mid, 'greeting', '"hello from A"')
    await onA('mimei', 'backup', mid)
    const pub = await onA('mimei', 'publish', mid)
    expect(pub.code).toBe(0)
    expect(JSON.parse(pub.stdout)).toMatchObject({ mid, ver: 1 })

    const sync = await onB('mimei', 'sync', mid)
    expect(sync.stderr).toBe('')
    expect(sync.code).toBe(0)
    expect(JSON.parse(sync.stdout)).toMatchObject({ state: 'done', ver: 1 })
    expect(JSON.parse((await onB('mimei', 'get', mid, 'greeting')).stdout)).toBe('hello from A')
    const provs = await onB('mimei', 'findprovs', mid, '--json')
    expect(provs.code).toBe(0)
    const aPeer = JSON.parse((await cli(['id', '--json', '--data', dirA])).stdout).peerid
    expect(JSON.parse(provs.stdout).map((p: { peer: string }) => p.peer)).toContain(aPeer)

    expect((await onB('mimei', 'provide', mid)).code).toBe(0)
    await onA('mimei', 'put', mid, 'greeting', '"second"')
    await onA('mimei', 'backup', mid)
    // B follows by itself: version 2 shows up there without any call to B (each read is one
    // CLI process, a few hundred ms apart). The deadline is under the 30 s poll, which is off anyway.
    let seen = ''
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && seen !== 'second'; ) seen = JSON.parse((await onB('mimei', 'get', mid, 'greeting')).stdout)
    expect(seen).toBe('second')
    const again = await onB('mimei', 'sync', `${mid}:2`)
    expect(JSON.parse(again.stdout)).toMatchObject({ state: 'done', ver: 2 })
  })

  test('syncing an unknown MiMei fails with a clear message', async () => {
    const r = await onB('mimei', 'sync', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('no node announces MiMei')
  })
})
