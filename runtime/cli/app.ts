// `leither app …`: pack a folder into a signed package, and install, publish, list and uninstall
// apps on a running node as its owner.
import { closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadConfig, resolveDataDir } from '../config/index.ts'
import { findUserKey } from '../identity/index.ts'
import { packDir } from '../apps/package.ts'
import { UsageError, type Parsed } from './args.ts'
import { toJson } from './call.ts'
import { withOwnerSession, type NodeSession } from './session.ts'

const CHUNK = 1024 * 1024

interface AppInfo {
  id: string
  name: string
  version: string
  author: string
  description: string
  permissions: { name: string; reason: string }[]
  url: string
}


const appIdArg = (p: Parsed, usage: string): string => {
  const id = p.args[0]
  if (!id) throw new UsageError(`usage: leither ${usage}`)
  if (!/^[A-Za-z0-9_-]{27}$/.test(id)) throw new UsageError(`"${id}" is not an app id (27 characters; see: leither app list)`)
  return id
}

/** A one-line progress bar on stderr, only when a person is watching. */
function bar(label: string, total: number) {
  let last = 0
  return (done: number) => {
    if (!process.stderr.isTTY || (done < total && Date.now() - last < 100)) return
    last = Date.now()
    const pct = total ? Math.floor((done / total) * 100) : 100
    process.stderr.write(`\r${label} [${'#'.repeat(Math.floor(pct / 4)).padEnd(25, '.')}] ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB ${pct}%${done >= total ? '\n' : ''}`)
  }
}

export async function appPack(p: Parsed): Promise<number> {
  const dir = p.args[0]
  if (!dir) throw new UsageError('usage: leither app pack DIR [-o FILE.lapp] [--key ID|NAME]')
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`leither app pack: ${dir} is not a folder`)
  const dataDir = resolveDataDir(p.flags.data as string | undefined)
  const { config } = loadConfig(dataDir)
  const key = findUserKey(dataDir, (p.flags.key as string | undefined) ?? config.owner, (m) => console.error(`warning: ${m}`))
  const out = p.flags.out as string | undefined
  const { tar, pkg } = await packDir(dir, key, { out })
  const file = resolve(out ?? `${pkg.manifest.name}-${pkg.manifest.version}.lapp`)
  writeFileSync(file, tar)
  console.log(`packed ${pkg.manifest.name} ${pkg.manifest.version}: ${pkg.files.length - 1} files, ${tar.length} bytes, signed by ${key.id}`)
  console.log(`wrote ${file}`)
  console.log(`app id: ${pkg.appId}`)
  return 0
}

/** Uploads a local file as a mac file (MFOpenTempFile, MFSetData, MFTemp2MacFile) and returns its CID. */
async function uploadFile(s: NodeSession, path: string): Promise<string> {
  const total = statSync(path).size
  const tick = bar('upload', total)
  const fsid = (await s.call('MFOpenTempFile', [s.sid])) as string
  const fd = openSync(path, 'r')
  try {
    const buf = new Uint8Array(CHUNK)
    let off = 0
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      await s.call('MFSetData', [fsid, buf.slice(0, n), off])
      tick((off += n))
    }
    tick(total)
    return (await s.call('MFTemp2MacFile', [fsid])) as string
  } finally {
    closeSync(fd)
    await s.call('MFClose', [fsid]).catch(() => {})
  }
}

/** InstallApp, with the sync's progress on stderr while it runs. */
async function installById(s: NodeSession, appId: string): Promise<AppInfo> {
  let done = false
  const install = s.call('InstallApp', [s.sid, appId]).finally(() => (done = true))
  if (process.stderr.isTTY) {
    while (!done) {
      const st = (await s.call('MiMeiSyncStatus', [s.sid, appId]).catch(() => null)) as { state: string; blocks: number; bytes: number; reused: number } | null
      if (st) process.stderr.write(`\rfetching: ${st.state}, ${st.blocks} blocks, ${(st.bytes / 1e6).toFixed(1)} MB (${st.reused} already here)   `)
      await Promise.race([install.catch(() => {}), Bun.sleep(200)])
    }
    process.stderr.write('\n')
  }
  return (await install) as AppInfo
}

export const appInstall = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    const what = p.args[0]
    if (!what) throw new UsageError('usage: leither app install FILE.lapp|APPID [--yes]')
    const isFile = existsSync(what) && statSync(what).isFile()
    if (!isFile && !/^[A-Za-z0-9_-]{27}$/.test(what)) throw new UsageError(`leither app install: "${what}" is neither a package file nor an app id`)
    const app = isFile ? ((await s.call('UploadApp', [s.sid, await uploadFile(s, what), 'tar'])) as AppInfo) : await installById(s, what)
    console.log(`installed ${app.name} ${app.version} (app id ${app.id}, by ${app.author})`)
    if (app.permissions.length) {
      console.log('it asks for:')
      for (const perm of app.permissions) console.log(`  ${perm.name.padEnd(14)} ${perm.reason}`)
      const names = app.permissions.map((x) => x.name)
      if (p.flags.yes) {
        await s.call('AppGrant', [s.sid, app.id, names])
        console.log(`granted: ${names.join(', ')}`)
      } else {
        console.log(`nothing is granted yet; to grant: leither call AppGrant ${app.id} '${JSON.stringify(names)}' (or install with --yes)`)
      }
    }
    console.log(`open: ${app.url}`)
    return 0
  })

export const appPublish = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    const id = appIdArg(p, 'app publish APPID')
    const r = (await s.call('MiMeiPublish', [s.sid, id])) as { ver: number }
    console.log(JSON.stringify(toJson(r), null, 2))
    console.log(`published; other nodes install it with: leither app install ${id}`)
    return 0
  })

export const appList = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    const apps = (await s.call('AppList', [s.sid])) as AppInfo[]
    if (p.flags.json) console.log(JSON.stringify(toJson(apps), null, 2))
    else if (!apps.length) console.log('no apps installed (install one: leither app install FILE.lapp|APPID)')
    else for (const a of apps) console.log(`${a.name.padEnd(16)} ${a.version.padEnd(10)} ${a.id}  ${a.url}`)
    return 0
  })

export const appUninstall = (p: Parsed) =>
  withOwnerSession(p, async (s) => {
    const id = appIdArg(p, 'app uninstall APPID [--keep-data]')
    const r = (await s.call('UninstallApp', [s.sid, id, p.flags['keep-data'] === true])) as { name: string; dataAreas: number; dataKept: boolean }
    console.log(`uninstalled ${r.name}; ${r.dataAreas} data area(s) ${r.dataKept ? 'kept' : 'deleted'}`)
    return 0
  })
