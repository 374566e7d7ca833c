// MMLast's wait when the node stops under it: the waiting call ends quietly, no error escapes
// from its timer after the store is closed (it failed tests that ran after it, in the same process).
import { expect, test } from 'bun:test'
import { createUserKey, signPassport } from '../../runtime/identity/index.ts'
import { bootTest, callLocal } from '../helpers/kernel.ts'

test('a node stopped while MMLast waits: the wait ends without an uncaught error', async () => {
  const node = await bootTest()
  const key = createUserKey(node.dataDir, 'stopper')
  const sid = ((await callLocal(node, 'Login', signPassport(key, { audience: node.identity.nodeId, data: { CertFor: 'Self' }, ttl: 600 }))) as { sid: string }).sid
  const mid = (await callLocal(node, 'MMCreate', sid, '', 'versions', 'public', 2, 1)) as string
  await callLocal(node, 'MMBackup', sid, mid, 'v')
  const uncaught: unknown[] = []
  const onError = (err: unknown) => void uncaught.push(err)
  process.on('uncaughtException', onError)
  try {
    const waiting = callLocal(node, 'MMLast', sid, [mid], { [mid]: 1 }, 1).then(
      (v) => ({ v }),
      (e: Error) => ({ e: e.message }),
    )
    await node.stop()
    // The wait's own end (1 s): it must not throw out of its timer now that the store is closed.
    const end = await waiting
    expect(end).toBeDefined()
    await Bun.sleep(50)
    expect(uncaught.map(String)).toEqual([])
  } finally {
    process.off('uncaughtException', onError)
  }
})
