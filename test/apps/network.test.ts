// Apps across two real nodes: A installs and publishes an app, B installs it by id from the
// network and serves the same files; an app MiMei whose tree is not a signed package is refused
// on B after the sync, and the sync is undone.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootNetwork, type TestNetwork } from '../helpers/network.ts'
import { callLocal, failure, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { appIdOf } from '../../runtime/apps/ids.ts'
import { SIGNATURE_PATH } from '../../runtime/apps/signature.ts'
import { extract } from 'tar-stream'
import { appFiles, holdings, ownerSid, signedTar, upload } from './helpers.ts'

/** The entries of a tar, as path → bytes. */
async function untar(tar: Uint8Array): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>()
  const ex = extract()
  const done = (async () => {
    for await (const e of ex) out.set(e.header.name, new Uint8Array(await new Response(e as unknown as ReadableStream).arrayBuffer()))
  })()
  ex.end(Buffer.from(tar))
  await done
  return out
}

let net: TestNetwork
let a: TestKernel
let b: TestKernel
let sa: string
let sb: string
beforeAll(async () => {
  net = await bootNetwork(2)
  ;[a, b] = net.nodes
  ;[sa, sb] = [await ownerSid(a), await ownerSid(b)]
})
afterAll(() => net?.stop())

const bytesOf = async (k: TestKernel, appId: string, path: string) => {
  const f = await k.apps.file(appId, path)
  return f?.kind === 'file' ? new Uint8Array(await new Response(f.body(0, f.size)).arrayBuffer()) : undefined
}

describe('install by app id from the network', () => {
  test('A installs and publishes; B installs it by id and holds the same files', async () => {
    const big = new Uint8Array(600_000).map((_, i) => (i * 7) & 255)
    const files = appFiles({ name: 'gallery', files: { 'img/big.bin': big } })
    const app = await upload(a, sa, await signedTar(ownerKey(a), files))
    const id = app.id as string
    expect(id).toBe(appIdOf(ownerKey(a).id, 'gallery'))
    expect(await callLocal(a, 'MiMeiPublish', sa, id)).toMatchObject({ mid: id, ver: 1 })

    const got = (await callLocal(b, 'InstallApp', sb, id)) as Record<string, unknown>
    expect(got).toMatchObject({ id, name: 'gallery', version: '1.0.0', author: ownerKey(a).id, ver: 1, cid: app.cid })
    expect(got.permissions).toEqual(app.permissions)
    for (const f of [...files.map((x) => x.path), '.lapp/signature.json']) expect(await bytesOf(b, id, f)).toEqual(await bytesOf(a, id, f))
    expect(await callLocal(b, 'MMSum', sb, id, 1)).toBe(await callLocal(a, 'MMSum', sa, id, 1))
    // The sync's progress stays readable after the install.
    expect(b.apps.progress(id)).toMatchObject({ state: 'done', ver: 1 })
    // B charges the copy to its owner (who installed it); the MiMei stays A's owner's.
    expect(b.mimei.row(id)).toMatchObject({ author: ownerKey(a).id, charge_to: b.config.owner })
  })

  test('an app MiMei that is not a signed package is refused after the sync and nothing stays', async () => {
    // The author makes the app MiMei by hand: right id, right kind, but no package signature.
    const id = (await callLocal(a, 'MMCreate', sa, 'forged', 'app', '', 1, 0)) as string
    expect(id).toBe(appIdOf(ownerKey(a).id, 'forged'))
    const h = await callLocal(a, 'MMOpen', sa, id, 'cur')
    const fsid = await callLocal(a, 'MFOpenByPath', sa, h, 'index.html', 0x1 | 0x40)
    await callLocal(a, 'MFSetData', fsid, '<script>steal()</script>', 0)
    await callLocal(a, 'MFClose', fsid)
    await callLocal(a, 'MMBackup', sa, id, 'v1')
    await callLocal(a, 'MiMeiPublish', sa, id)

    const before = holdings(b)
    expect(await failure(callLocal(b, 'InstallApp', sb, id))).toMatch(/^InvalidSignature: package is not signed/)
    expect(holdings(b)).toEqual(before)
    expect(b.store.db.query('SELECT 1 FROM net_records WHERE mid = ?').get(id)).toBeNull()
  })

  test('an id nobody provides is NotFound; a MiMei that is not an app is refused and removed', async () => {
    expect(await failure(callLocal(b, 'InstallApp', sb, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA'))).toStartWith('NotFound')
    const mid = (await callLocal(a, 'MMCreate', sa, 'notes', 'list', '', 2, 1)) as string
    await callLocal(a, 'MMBackup', sa, mid, 'v1')
    await callLocal(a, 'MiMeiPublish', sa, mid)
    const before = holdings(b)
    expect(await failure(callLocal(b, 'InstallApp', sb, mid))).toMatch(/^InvalidParams: MiMei .* is not an app package/)
    expect(holdings(b)).toEqual(before)
  })

  test('an update from the network with a lower version is refused and B goes back to the version it had', async () => {
    const key = ownerKey(a)
    const app = await upload(a, sa, await signedTar(key, appFiles({ name: 'rollback', version: '2.0.0', files: { 'js/app.js': 'two' } })))
    const id = app.id as string
    await callLocal(a, 'MiMeiPublish', sa, id)
    expect(await callLocal(b, 'InstallApp', sb, id)).toMatchObject({ version: '2.0.0', ver: 1 })
    // A's node refuses to install 1.0.0 over 2.0.0, so the author writes a signed 1.0.0 into the MiMei by hand.
    const older = await untar(await signedTar(key, appFiles({ name: 'rollback', version: '1.0.0', files: { 'js/app.js': 'one' } })))
    expect(older.has(SIGNATURE_PATH)).toBe(true)
    const h = await callLocal(a, 'MMOpen', sa, id, 'cur')
    for (const [path, bytes] of older) {
      const dir = path.split('/').slice(0, -1).join('/')
      if (dir) await callLocal(a, 'FSMkDir', sa, h, dir)
      const fsid = await callLocal(a, 'MFOpenByPath', sa, h, path, 0x1 | 0x40 | 0x200)
      await callLocal(a, 'MFSetData', fsid, bytes, 0)
      await callLocal(a, 'MFClose', fsid)
    }
    expect(await callLocal(a, 'MMBackup', sa, id, 'v2')).toBe(2)
    await callLocal(a, 'MiMeiPublish', sa, id)

    const before = holdings(b)
    expect(await failure(callLocal(b, 'InstallApp', sb, id))).toMatch(/^Conflict: rollback 2\.0\.0 is installed; 1\.0\.0 is older/)
    expect(holdings(b)).toEqual(before)
    expect(b.mimei.row(id).last).toBe(1)
    expect(b.store.db.query('SELECT max(ver) AS v FROM net_records WHERE mid = ?').get(id)).toEqual({ v: 1 })
    expect(new TextDecoder().decode(await bytesOf(b, id, 'js/app.js'))).toBe('two')
    // cur was put back too: the 2.0.0 files, not the refused ones.
    const hb = await callLocal(b, 'MMOpen', sb, id, 'cur')
    const fb = await callLocal(b, 'MFOpenByPath', sb, hb, 'js/app.js', 0)
    expect(new TextDecoder().decode((await callLocal(b, 'MFGetData', fb, 0, 100)) as Uint8Array)).toBe('two')
  })
})
