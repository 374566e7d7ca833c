// /leither/block serves only blocks that a version of a published or provided MiMei holds: the
// block store answers isServable, and a peer asking for anything else hears "missing".
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { fetchBlocks } from '../../runtime/net/blockproto.ts'
import { bootNetwork, type TestNetwork } from '../helpers/network.ts'
import { callLocal, loginPassport } from '../helpers/kernel.ts'

let net: TestNetwork
beforeAll(async () => {
  net = await bootNetwork(2, { topology: 'chain' })
})
afterAll(() => net.stop())

test('blocks of a version are served once its MiMei is published, never before', async () => {
  const [author, reader] = net.nodes
  const sid = ((await callLocal(author, 'Login', loginPassport(author))) as { sid: string }).sid
  const mid = (await callLocal(author, 'MMCreate', sid, 'served', 'db', '{{auto}}', 2, 0)) as string
  const h = await callLocal(author, 'MMOpen', sid, mid, 'cur')
  await callLocal(author, 'Set', h, 'k', 'a value kept in a version')
  const ver = (await callLocal(author, 'MMBackup', sid, mid, '')) as number
  const { cid } = author.mimei.versionInfo(mid, ver)
  const ask = async () => {
    const got: string[] = []
    for await (const b of fetchBlocks(reader.net!.libp2p, author.net!.libp2p.peerId, [cid])) got.push(b.cid)
    return got
  }
  expect(author.mimei.blocks.has(cid)).toBe(true)
  expect(await ask()).toEqual([])
  await callLocal(author, 'MiMeiPublish', sid, mid)
  expect(await ask()).toEqual([cid])
})
