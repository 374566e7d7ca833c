// `leither coin traffic` against a running node (in this process) that served a peer: one line per
// peer with its bytes and debt, JSON with amounts in 毫; a guest session cannot read the meters.
import { expect, test } from 'bun:test'
import { callLocal, failure, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork } from '../helpers/network.ts'
import { cli } from '../helpers/node.ts'
import { randomBytes } from '../net/echo.ts'

const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

test('leither coin traffic prints the meters per peer', async () => {
  await using net = await bootNetwork(2, { config: { trafficAllowance: 100, trafficRefill: 0 } })
  const [a, b] = net.nodes as [TestKernel, TestKernel]
  const run = (...args: string[]) => cli([...args, '--data', a.dataDir, '--node', a.url])

  const sa = await owner(a)
  const mid = (await callLocal(a, 'MMCreate', sa, 'cli', 'traffic', '', 2, 1)) as string
  const h = await callLocal(a, 'MMOpen', sa, mid, 'cur')
  for (let i = 0; i < 4; i++) await callLocal(a, 'Set', h, `k${i}`, randomBytes(100_000))
  await callLocal(a, 'MMBackup', sa, mid, '')
  await callLocal(a, 'MiMeiPublish', sa, mid)
  await callLocal(b, 'MiMeiSync', await owner(b), mid)

  const peer = b.identity.nodeId
  const text = await run('coin', 'traffic')
  expect(text.code).toBe(0)
  expect(text.stdout).toMatch(new RegExp(`^${peer}  ok +served 0\\.4 MB, received 0\\.0 MB; owes 0\\.3\\d\\d Nuo`, 'm'))
  const rows = JSON.parse((await run('coin', 'traffic', peer, '--json')).stdout) as { peer: string; served: number; debt: number | string; allowance: number | string }[]
  expect(rows.length).toBe(1)
  expect(rows[0]).toMatchObject({ peer, state: 'ok' })
  expect(BigInt(rows[0]!.allowance)).toBe(0n)
  expect(BigInt(rows[0]!.debt)).toBe(BigInt(Math.ceil(rows[0]!.served / 1000 - 100)))
  expect(await failure(callLocal(a, 'CoinTraffic', ''))).toMatch(/^PermissionDenied/)
}, 60_000)
