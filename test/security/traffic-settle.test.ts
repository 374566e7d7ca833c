// A node asked to settle a traffic debt pays no more than its own count of what it received from
// the asker: a peer that served nothing (or a new identity made to ask) gets nothing.
import { expect, test } from 'bun:test'
import { createUserKey } from '../../runtime/identity/index.ts'
import { trafficOf } from '../../runtime/ledger/traffic.ts'
import { askSettle } from '../../runtime/ledger/traffic-proto.ts'
import { callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'
import { bootNetwork, link } from '../helpers/network.ts'
import { tempDir } from '../helpers/node.ts'
import { randomBytes } from '../net/echo.ts'

const owner = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid
const funds = (k: TestKernel, of: TestKernel) => ((i) => i.balance + i.pending)(k.ledger.info(of.identity.nodeId))

test('a settlement request pays at most what the payer received from the asker, at the price', async () => {
  using keys = tempDir()
  const g = createUserKey(keys, 'genesis')
  await using net = await bootNetwork(2, { topology: 'none', config: { coinSupply: 1_000_000, coinGenesis: g.id } })
  const [x, y] = net.nodes as [TestKernel, TestKernel]
  await link(y, x)
  for (const k of net.nodes) k.config.coinNotaries = [x.identity.nodeId, y.identity.nodeId]
  await x.ledger.transfer(g, y.identity.nodeId, 200_000n)
  await new Promise<void>((done) => (funds(y, y) === 200_000n ? done() : y.ledger.onFinal(() => funds(y, y) === 200_000n && done())))

  // x served y nothing: asking for 50,000 毫 gets nothing.
  const ask = (owed: number) => askSettle(x.net!.libp2p, y.net!.libp2p.peerId, { owed, served: 0 })
  expect(await ask(50_000)).toEqual({ paid: 0 })
  expect(funds(y, y)).toBe(200_000n)

  // y downloads about 400 KB from x: x may ask for that at 1 毫 per KB (and a tenth more for framing), not 50,000.
  const sx = await owner(x)
  const mid = (await callLocal(x, 'MMCreate', sx, 'settle', 'm', '', 2, 1)) as string
  const h = await callLocal(x, 'MMOpen', sx, mid, 'cur')
  for (let i = 0; i < 4; i++) await callLocal(x, 'Set', h, `k${i}`, randomBytes(100_000))
  await callLocal(x, 'MMBackup', sx, mid, '')
  await callLocal(x, 'MiMeiPublish', sx, mid)
  await callLocal(y, 'MiMeiSync', await owner(y), mid)
  const received = trafficOf(y.ledger)!.row(x.identity.nodeId).received
  expect(received).toBeGreaterThan(400_000)
  const paid = (await ask(50_000)).paid
  expect(paid).toBe(Math.floor((received * 11) / 10 / 1000))
  expect(funds(y, y)).toBe(200_000n - BigInt(paid))
  // Paid up: asking again gets nothing more.
  expect(await ask(50_000)).toEqual({ paid: 0 })
}, 60_000)
