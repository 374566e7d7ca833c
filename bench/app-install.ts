// Installing a 5 MB app from a peer (InstallApp: sync of the app MiMei, then the package's
// signature and every file's hash checked, then recorded) next to the node's own block sync of a
// plain file MiMei with the same files' sizes (MiMeiSync), both between the same two in-process
// nodes, interleaved. `bun bench/app-install.ts [--quick]`
import { randomBytes } from 'node:crypto'
import { bootNetwork } from '../test/helpers/network.ts'
import { callLocal, ownerKey, type TestKernel } from '../test/helpers/kernel.ts'
import { appFiles, ownerSid, signedTar, upload } from '../test/apps/helpers.ts'
import type { PackageFile } from '../runtime/apps/package.ts'
import { machineLine, table, writeSection } from './results.ts'

const quick = process.argv.includes('--quick')
const ROUNDS = quick ? 1 : 7
/** 20 files of 256 KiB: 5.2 MB of random bytes, plus the app's own few small files. */
const FILES = 20
const FILE_BYTES = 256 * 1024

const payload = (): Record<string, Uint8Array> => Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`data/${i}.bin`, new Uint8Array(randomBytes(FILE_BYTES))]))

/** A file MiMei on `k` holding `files` (written through the file syscalls), backed up and published. */
async function plainMiMei(k: TestKernel, sid: string, mark: string, files: PackageFile[]): Promise<string> {
  const mid = (await callLocal(k, 'MMCreate', sid, 'bench', 'plain', mark, 1, 0)) as string
  const h = await callLocal(k, 'MMOpen', sid, mid, 'cur')
  await callLocal(k, 'FSMkDir', sid, h, 'data')
  await callLocal(k, 'FSMkDir', sid, h, 'js')
  for (const f of files) {
    const fsid = await callLocal(k, 'MFOpenByPath', sid, h, f.path, 0x1 | 0x40)
    for (let at = 0; at < f.bytes.length; at += 1 << 20) await callLocal(k, 'MFSetData', fsid, f.bytes.subarray(at, at + (1 << 20)), at)
    await callLocal(k, 'MFClose', fsid)
  }
  await callLocal(k, 'MMBackup', sid, mid, '')
  await callLocal(k, 'MiMeiPublish', sid, mid)
  return mid
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]

const net = await bootNetwork(2)
const [a, b] = net.nodes
const [sa, sb] = [await ownerSid(a), await ownerSid(b)]
const install: number[] = []
const sync: number[] = []
let appBytes = 0
let plainBytes = 0
try {
  for (let r = 0; r < ROUNDS; r++) {
    // Fresh random bytes for each: nothing B fetches is already there.
    const app = await upload(a, sa, await signedTar(ownerKey(a), appFiles({ name: `bench-${r}`, files: payload() })))
    await callLocal(a, 'MiMeiPublish', sa, app.id)
    const plainFiles = appFiles({ name: `plain-${r}`, files: payload() })
    const mid = await plainMiMei(a, sa, `r${r}`, plainFiles)
    appBytes = app.size as number
    plainBytes = plainFiles.reduce((n, f) => n + f.bytes.length, 0)
    const timeInstall = async () => {
      const t = performance.now()
      await callLocal(b, 'InstallApp', sb, app.id)
      install.push(performance.now() - t)
    }
    const timeSync = async () => {
      const t = performance.now()
      await callLocal(b, 'MiMeiSync', sb, mid, { depth: 0 })
      sync.push(performance.now() - t)
    }
    // Alternate which goes first, so neither always runs on a warmer node.
    if (r % 2) await timeSync().then(timeInstall)
    else await timeInstall().then(timeSync)
  }
} finally {
  await net.stop()
}

const ms = (x: number) => `${x.toFixed(0)} ms`
const rate = (bytes: number, t: number) => `${(bytes / 1e6 / (t / 1000)).toFixed(1)} MB/s`
const [mi, msync] = [median(install), median(sync)]
writeSection(
  'App install from a peer (issue 9)',
  [
    `${machineLine()} Two nodes in one process on 127.0.0.1; ${ROUNDS} rounds, medians, the two kinds interleaved (each round alternates which runs first).`,
    '',
    `InstallApp on B of an app A installed and published: ${FILES} files of 256 KiB random bytes plus manifest, page, icon and script (${(appBytes / 1e6).toFixed(2)} MB with the signature file). It syncs the app MiMei (record, blocks, install of cur), reads every file back from the blocks to check the author's signature and each SHA-256, and records the app. Anchor: MiMeiSync on B of a plain file MiMei on A holding files of the same sizes (other random bytes, ${(plainBytes / 1e6).toFixed(2)} MB).`,
    '',
    table(
      ['what', 'median', 'min', 'max', 'rate (median)'],
      [
        ['InstallApp (sync + package checks)', ms(mi), ms(Math.min(...install)), ms(Math.max(...install)), rate(appBytes, mi)],
        ['MiMeiSync of the same sizes', ms(msync), ms(Math.min(...sync)), ms(Math.max(...sync)), rate(plainBytes, msync)],
        ['difference (install − sync)', ms(mi - msync), '', '', ''],
      ],
      '-rrrr',
    ),
    '',
  ].join('\n'),
  { quick },
)
process.exit(0)
