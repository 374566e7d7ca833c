// `leither app pack|install|publish|list|uninstall` against two running node processes: A packs,
// installs (granting with --yes) and publishes an app; B installs it by id from the network.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { cli, startNode, tempDir, type RunningNode } from '../helpers/node.ts'
import { appHost } from '../../runtime/apps/ids.ts'
import { writeAppDir } from './helpers.ts'

let dirA: string & Disposable
let dirB: string & Disposable
let a: RunningNode
let b: RunningNode
beforeAll(async () => {
  dirA = tempDir()
  dirB = tempDir()
  a = await startNode(['--data', dirA, '--port', '0', '--host', '127.0.0.1'])
  const addrs = (await (await fetch(`${a.url}/getvar?name=nodeaddrs`)).json()) as string[]
  b = await startNode(['--data', dirB, '--port', '0', '--host', '127.0.0.1', '--bootstrap', addrs[0]])
  // The bootstrap dial happens about a second after start; an install before it finds nobody.
  const aPeer = addrs[0].split('/p2p/')[1]
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(100)) {
    const peers = await cli(['peers', '--json', '--data', dirB, '--node', b.url])
    if (peers.code === 0 && peers.stdout.includes(aPeer)) return
  }
  throw new Error('node B never connected to node A')
})
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  dirA?.[Symbol.dispose]()
  dirB?.[Symbol.dispose]()
})

const onA = (...args: string[]) => cli([...args, '--data', dirA, '--node', a.url])
const onB = (...args: string[]) => cli([...args, '--data', dirB, '--node', b.url])
const portOf = (node: RunningNode) => new URL(node.url).port

describe('leither app', () => {
  test('pack, install --yes, list, publish on A; install by id and uninstall on B', async () => {
    using src = tempDir()
    writeAppDir(src, { name: 'hello' })
    const file = join(src, 'hello.lapp')
    const pack = await cli(['app', 'pack', src, '-o', file, '--data', dirA])
    expect(pack.stderr).toBe('')
    expect(pack.code).toBe(0)
    const id = /app id: (\S+)/.exec(pack.stdout)![1]

    const install = await onA('app', 'install', file, '--yes')
    expect(install.stderr).toBe('')
    expect(install.code).toBe(0)
    expect(install.stdout).toContain(`installed hello 1.0.0 (app id ${id}`)
    expect(install.stdout).toMatch(/msg\s+to show your messages/)
    expect(install.stdout).toContain('granted: msg')
    expect(install.stdout).toContain(`open: http://${appHost(id)}.localhost:${portOf(a)}/`)
    const grants = await onA('call', 'AppGrants')
    expect(grants.stdout).toContain(id)

    const list = await onA('app', 'list')
    expect(list.stdout).toMatch(new RegExp(`hello\\s+1\\.0\\.0\\s+${id}`))
    expect(JSON.parse((await onA('app', 'list', '--json')).stdout)[0]).toMatchObject({ id, name: 'hello' })

    const pub = await onA('app', 'publish', id)
    expect(pub.code).toBe(0)
    expect(pub.stdout).toContain(`leither app install ${id}`)

    const fromNet = await onB('app', 'install', id)
    expect(fromNet.stderr).toBe('')
    expect(fromNet.code).toBe(0)
    expect(fromNet.stdout).toContain(`installed hello 1.0.0 (app id ${id}`)
    expect(fromNet.stdout).toContain('nothing is granted yet')
    expect(fromNet.stdout).toContain(`open: http://${appHost(id)}.localhost:${portOf(b)}/`)

    const gone = await onB('app', 'uninstall', id, '--keep-data')
    expect(gone.code).toBe(0)
    expect(gone.stdout).toContain('uninstalled hello; 0 data area(s) kept')
    // Only the default app (Weibo) is left.
    const left = (await onB('app', 'list')).stdout
    expect(left).not.toContain(id)
    expect(left).toContain('weibo')
  })

  test('every command answers --help; bad arguments exit 2, refusals 1 with the node\u2019s text', async () => {
    for (const sub of ['pack', 'install', 'publish', 'list', 'uninstall']) {
      const r = await cli(['app', sub, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toStartWith(`Usage: leither app ${sub}`)
    }
    expect((await onA('app', 'install', 'no-such-file.lapp')).code).toBe(2)
    expect((await onA('app', 'uninstall', 'short')).code).toBe(2)
    const missing = await onA('app', 'uninstall', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('NotFound')
    using bad = tempDir()
    writeAppDir(bad, { name: 'bad', manifest: { colour: 'red' } })
    const refused = await cli(['app', 'pack', bad, '--data', dirA])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('unknown key "colour"')
  })
})
