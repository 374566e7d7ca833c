// A MiMeiPublish that is refused changes nothing: a MiMei with no version yet is not marked
// published (else its first backup would be announced without anyone asking, and an explicit
// publish later would queue behind that announcement).
import { expect, test } from 'bun:test'
import { bootTest, callLocal, failure } from '../helpers/kernel.ts'
import { ownerSid } from '../helpers/replication.ts'

test('publishing a MiMei with no version is refused and leaves it unpublished', async () => {
  await using node = await bootTest({ p2p: true })
  const sid = await ownerSid(node)
  const mid = (await callLocal(node, 'MMCreate', sid, '', 'pub', 'refused', 2, 1)) as string
  expect(await failure(callLocal(node, 'MiMeiPublish', sid, mid))).toContain('no version yet')
  expect(((await callLocal(node, 'MiMeiShow', sid, mid)) as { mode: string }).mode).toBe('none')
  await callLocal(node, 'MMBackup', sid, mid, 'v1')
  expect(((await callLocal(node, 'MiMeiShow', sid, mid)) as { mode: string }).mode).toBe('none')
  await callLocal(node, 'MiMeiPublish', sid, mid)
  expect(((await callLocal(node, 'MiMeiShow', sid, mid)) as { mode: string }).mode).toBe('publish')
}, 60_000)
