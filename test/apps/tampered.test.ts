// Bad packages are refused with a clear error, and nothing of them is kept: no app row, no MiMei,
// no version, no pinned block. Each case changes one thing in an otherwise good package.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bootTest, failure, type TestKernel } from '../helpers/kernel.ts'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { appIdOf } from '../../runtime/apps/ids.ts'
import { DEFAULT_PACKAGE_LIMITS, tarFiles } from '../../runtime/apps/package.ts'
import { sha256Hex, signPackage, SIGNATURE_PATH } from '../../runtime/apps/signature.ts'
import { appFiles, holdings, ownerSid, signedTar, upload } from './helpers.ts'

let k: TestKernel
let sid: string
beforeAll(async () => {
  k = await bootTest()
  sid = await ownerSid(k)
})
afterAll(() => k?.[Symbol.asyncDispose]())

const author = generateKeyPair()
const utf8 = new TextEncoder()

/** Uploads the tar and expects a refusal starting with `code`, leaving the node as it was. */
async function refused(tar: Uint8Array, code: string, says: RegExp): Promise<void> {
  const before = holdings(k)
  const err = await failure(upload(k, sid, tar))
  expect(err).toStartWith(code)
  expect(err).toMatch(says)
  expect(holdings(k)).toEqual(before)
}

describe('refused packages leave nothing behind', () => {
  test('a changed byte in a file', async () => {
    const tar = await signedTar(author, appFiles({ name: 'bytes' }))
    const at = Buffer.from(tar).indexOf('console.log("hello")')
    tar[at] ^= 0x20
    await refused(tar, 'InvalidSignature', /js\/app\.js.*not the file the author signed/)
    expect(k.store.db.query('SELECT 1 FROM mimei WHERE mid = ?').get(appIdOf(author.id, 'bytes'))).toBeNull()
  })

  test('a signature by a key that is not the author\u2019s, or over other files', async () => {
    const other = generateKeyPair()
    await refused(await signedTar(other, appFiles({ name: 'signer' }), { tamper: (s) => ({ ...s, author: author.id }) }), 'InvalidSignature', /not the key of its author/)
    await refused(await signedTar(author, appFiles({ name: 'signer' }), { tamper: (s) => ({ ...s, version: '9.9.9' }) }), 'InvalidSignature', /signature does not match/)
    const files = appFiles({ name: 'signer' })
    const unsigned = await tarFiles(files)
    await refused(unsigned, 'InvalidSignature', /not signed/)
    // A file added after signing.
    const sig = signPackage(author, 'signer', '1.0.0', files.map((f) => [f.path, f.bytes.length, sha256Hex(f.bytes)]))
    const added = [...files, { path: 'extra.js', bytes: utf8.encode('x') }, { path: SIGNATURE_PATH, bytes: utf8.encode(JSON.stringify(sig)) }]
    await refused(await tarFiles(added), 'InvalidSignature', /extra\.js.*not covered/)
  })

  test('an update signed by another author, and a lower version', async () => {
    await upload(k, sid, await signedTar(author, appFiles({ name: 'maps', version: '2.0.0' })))
    const squatter = generateKeyPair()
    await refused(await signedTar(squatter, appFiles({ name: 'maps', version: '3.0.0' })), 'Conflict', /another author/)
    await refused(await signedTar(author, appFiles({ name: 'maps', version: '1.9.9' })), 'Conflict', /older/)
    await refused(await signedTar(author, appFiles({ name: 'maps', version: '2.0.0', files: { 'js/app.js': 'changed' } })), 'Conflict', /higher version/)
    expect(k.apps.get(appIdOf(author.id, 'maps'))?.version).toBe('2.0.0')
  })

  test('entries that leave the package: "..", absolute paths, backslashes', async () => {
    const evil = (path: string) => [...appFiles({ name: 'paths' }), { path, bytes: utf8.encode('pwned') }]
    await refused(await signedTar(author, evil('../evil.sh')), 'InvalidParams', /climbs out of the package/)
    await refused(await signedTar(author, evil('js/../../evil.sh')), 'InvalidParams', /climbs out of the package/)
    await refused(await signedTar(author, evil('/etc/cron.d/evil')), 'InvalidParams', /absolute path/)
    await refused(await signedTar(author, evil('..\\evil.sh')), 'InvalidParams', /backslash/)
  })

  test('symbolic links, hard links and devices', async () => {
    const files = appFiles({ name: 'links' })
    await refused(await signedTar(author, files, { extra: [{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }] }), 'InvalidParams', /symlink.*no links/)
    await refused(await signedTar(author, files, { extra: [{ name: 'copy', type: 'link', linkname: 'index.html' }] }), 'InvalidParams', /link.*no links/)
    const dev = await tarFiles(files, [{ name: 'null', type: 'character-device' as 'link', linkname: '' }])
    await refused(dev, 'InvalidParams', /character-device/)
  })

  test('oversize files and too many files', async () => {
    const big = new Uint8Array(DEFAULT_PACKAGE_LIMITS.fileBytes + 1)
    await refused(await signedTar(author, appFiles({ name: 'big', files: { 'big.bin': big } })), 'InvalidParams', /at most 16777216/)
    const many: Record<string, string> = {}
    for (let i = 0; i < DEFAULT_PACKAGE_LIMITS.files; i++) many[`f/${i}.txt`] = String(i)
    await refused(await signedTar(author, appFiles({ name: 'many', files: many })), 'InvalidParams', /more than 2000 files/)
  })

  test('all files together past the total (limit lowered for the test)', async () => {
    const saved = { ...k.apps.limits }
    Object.assign(k.apps.limits, { totalBytes: 100_000, fileBytes: 60_000 })
    try {
      const files = { 'a.bin': new Uint8Array(60_000), 'b.bin': new Uint8Array(50_000) }
      await refused(await signedTar(author, appFiles({ name: 'total', files })), 'InvalidParams', /more than (100000|\d+) bytes/)
    } finally {
      Object.assign(k.apps.limits, saved)
    }
  })

  test('bad manifests', async () => {
    const bad = async (manifest: Record<string, unknown>, says: RegExp, name = 'manifests') =>
      refused(await signedTar(author, appFiles({ name, manifest }), { name, version: String(manifest.version ?? '1.0.0') }), 'InvalidParams', says)
    await bad({ homepage: 'x' }, /unknown key "homepage"/)
    await bad({ version: '1.0' }, /semantic version/)
    await bad({ name: 'Bad Name' }, /lowercase/, 'Bad Name')
    await bad({ permissions: [{ name: 'node.admin', reason: 'everything' }] }, /not an app capability/)
    await bad({ permissions: [{ name: 'msg' }] }, /needs a reason/)
    await bad({ entry: 'start.html' }, /entry "start.html".*not in the package/)
    await bad({ icon: '../icon.png' }, /relative path/)
    await refused(await signedTar(author, appFiles({ name: 'nojson', files: { 'manifest.json': '{' } }), { name: 'nojson', version: '1.0.0' }), 'InvalidParams', /not valid JSON/)
  })

  test('not a tar at all, and a package past the size limit before it is read', async () => {
    await refused(utf8.encode('hello, this is not a tar archive'.repeat(40)), 'InvalidParams', /bad package/)
    const saved = { ...k.apps.limits }
    Object.assign(k.apps.limits, { totalBytes: 1000, files: 4 })
    try {
      await refused(await signedTar(author, appFiles({ name: 'huge', files: { 'x.bin': new Uint8Array(200_000) } })), 'InvalidParams', /more than a package may have/)
    } finally {
      Object.assign(k.apps.limits, saved)
    }
  })
})
