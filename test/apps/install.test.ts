// Installing signed app packages on a real node: pack → UploadApp → AppList → files served from
// the installed version; updates, uninstall with and without data, and the permission twins.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootTest, callLocal, failure, loginPassport, ownerKey, type TestKernel } from '../helpers/kernel.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { packDir } from '../../runtime/apps/package.ts'
import { appHost, appIdOf, appIdFromHost } from '../../runtime/apps/ids.ts'
import { tempDir } from '../helpers/node.ts'
import { appFiles, holdings, ownerSid, signedTar, upload, writeAppDir } from './helpers.ts'

let k: TestKernel
let sid: string
beforeAll(async () => {
  k = await bootTest()
  sid = await ownerSid(k)
})
afterAll(() => k?.[Symbol.asyncDispose]())

const text = async (appId: string, path: string) => {
  const f = await k.apps.file(appId, path)
  if (!f || f.kind !== 'file') return undefined
  return new Response(f.body(0, f.size)).text()
}

describe('install from a package', () => {
  test('pack → UploadApp → AppList and GetVar appinfos → files readable from the installed version', async () => {
    using dir = tempDir()
    const key = ownerKey(k)
    const { tar, pkg } = await packDir(writeAppDir(dir, { name: 'notes' }), key)
    expect(pkg.appId).toBe(appIdOf(key.id, 'notes'))
    const app = await upload(k, sid, tar)
    expect(app).toMatchObject({ id: pkg.appId, name: 'notes', version: '1.0.0', author: key.id, entry: 'index.html', ver: 1 })
    expect(app.permissions).toEqual([{ name: 'msg', reason: 'to show your messages' }])
    expect(app.url).toBe(`http://${appHost(pkg.appId)}.localhost:${k.http.port}/`)
    expect(appIdFromHost(appHost(pkg.appId))).toBe(pkg.appId)
    const list = (await callLocal(k, 'AppList', sid)) as { id: string }[]
    expect(list.map((a) => a.id)).toContain(pkg.appId)
    const infos = (await callLocal(k, 'GetVar', sid, 'appinfos')) as { id: string; name: string }[]
    expect(infos.find((a) => a.id === pkg.appId)?.name).toBe('notes')
    expect(await text(pkg.appId, 'js/app.js')).toBe('console.log("hello")')
    expect(await text(pkg.appId, '')).toContain('<title>notes</title>')
    expect((await k.apps.file(pkg.appId, 'js'))?.kind).toBe('redirect')
    expect(await k.apps.file(pkg.appId, 'missing.js')).toBeUndefined()
    // The package's signature travels with the files, so any node can check them again.
    expect(await text(pkg.appId, '.lapp/signature.json')).toContain(key.id)
    // The MiMei is the author's; its bytes are charged to whoever installed it (here the same user).
    expect(k.mimei.row(pkg.appId)).toMatchObject({ author: key.id, app: 'notes', ext: 'app', type: 1, last: 1 })
  })

  test('an app by another user: the MiMei is theirs, charged to the installer; the same package twice changes nothing', async () => {
    const author = generateKeyPair()
    const tar = await signedTar(author, appFiles({ name: 'weather' }))
    const first = await upload(k, sid, tar)
    expect(first.author).toBe(author.id)
    expect(k.mimei.row(first.id as string)).toMatchObject({ author: author.id, charge_to: k.config.owner })
    const before = holdings(k)
    const again = await upload(k, sid, tar)
    expect(again.ver).toBe(first.ver)
    expect(holdings(k)).toEqual(before)
  })

  test('an update with a higher version becomes a new MiMei version; the old files stay in the old one', async () => {
    const author = generateKeyPair()
    const v1 = await upload(k, sid, await signedTar(author, appFiles({ name: 'clock', files: { 'js/app.js': 'v1' } })))
    const v2 = await upload(k, sid, await signedTar(author, appFiles({ name: 'clock', version: '1.1.0', files: { 'js/app.js': 'v2' } })))
    expect(v2).toMatchObject({ id: v1.id, version: '1.1.0', ver: 2 })
    expect(await text(v1.id as string, 'js/app.js')).toBe('v2')
    const old = await k.mimei.files.servable(await grantOf(), v1.id as string, '1', 'js/app.js', false)
    expect(old.kind === 'file' && (await new Response(old.body(0, old.size)).text())).toBe('v1')
  })
})

/** The owner's grant, as the dispatcher would make it (through a syscall that needs it). */
async function grantOf() {
  return k.permissions.authorize(sid, 'session', 'test')
}

describe('uninstall', () => {
  test('removes the package and, unless kept, the data areas the app opened', async () => {
    const author = generateKeyPair()
    const a = await upload(k, sid, await signedTar(author, appFiles({ name: 'diary' })))
    const id = a.id as string
    const h = await callLocal(k, 'MMOpenAppData', sid, id, 'user')
    await callLocal(k, 'Set', h, 'k', 'v')
    await callLocal(k, 'MMClose', h)
    const areas = () => (k.store.db.query("SELECT count(*) AS n FROM mimei WHERE app = ? AND ext = 'appdata'").get(id) as { n: number }).n
    expect(areas()).toBe(1)
    expect(await callLocal(k, 'UninstallApp', sid, id, true)).toMatchObject({ id, dataAreas: 1, dataKept: true })
    expect(areas()).toBe(1)
    expect(k.store.db.query('SELECT 1 FROM mimei WHERE mid = ?').get(id)).toBeNull()
    expect(await k.apps.file(id, 'index.html')).toBeUndefined()
    // Installed again, the kept data is there; uninstalled without keeping, it is gone.
    await upload(k, sid, await signedTar(author, appFiles({ name: 'diary' })))
    const h2 = await callLocal(k, 'MMOpenAppData', sid, id, 'user')
    expect(await callLocal(k, 'Get', h2, 'k')).toBe('v')
    await callLocal(k, 'MMClose', h2)
    expect(await callLocal(k, 'UninstallApp', sid, id)).toMatchObject({ dataKept: false })
    expect(areas()).toBe(0)
    expect(((await callLocal(k, 'AppList', sid)) as { id: string }[]).some((x) => x.id === id)).toBe(false)
    expect(await failure(callLocal(k, 'UninstallApp', sid, id))).toStartWith('NotFound')
  })
})

describe('who may', () => {
  test('installing and uninstalling are the owner\u2019s; any user lists', async () => {
    const user = generateKeyPair()
    const usid = ((await callLocal(k, 'Login', loginPassport(k, user))) as { sid: string }).sid
    const tar = await signedTar(user, appFiles({ name: 'mine' }))
    const fsid = (await callLocal(k, 'MFOpenTempFile', usid)) as string
    await callLocal(k, 'MFSetData', fsid, tar, 0)
    const cid = (await callLocal(k, 'MFTemp2MacFile', fsid)) as string
    const before = holdings(k)
    expect(await failure(callLocal(k, 'UploadApp', usid, cid, 'tar'))).toStartWith('PermissionDenied')
    expect(await failure(callLocal(k, 'InstallApp', usid, appIdOf(user.id, 'mine')))).toStartWith('PermissionDenied')
    expect(await failure(callLocal(k, 'UninstallApp', usid, appIdOf(user.id, 'mine')))).toStartWith('PermissionDenied')
    expect(holdings(k)).toEqual(before)
    expect(Array.isArray(await callLocal(k, 'AppList', usid))).toBe(true)
    expect(await failure(callLocal(k, 'AppList', ''))).toStartWith('PermissionDenied')
    expect(await failure(callLocal(k, 'GetVar', '', 'appinfos'))).toStartWith('PermissionDenied')
    expect(await callLocal(k, 'GetVar', usid, 'appids')).toEqual(((await callLocal(k, 'AppList', usid)) as { id: string }[]).map((a) => a.id))
    expect(await failure(callLocal(k, 'UploadApp', sid, cid, 'zip'))).toStartWith('InvalidParams')
  })
})
