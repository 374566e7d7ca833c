// Apps a new node has installed by default (Weibo): at start the bundled folder is packed, signed
// with the node owner's key (the node's key when the owner's is not in the data dir) and installed
// through the same checks as any package, so its id is derived from that key and the app's name.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { listUserKeys, type KeyPair } from '../identity/index.ts'
import type { Logger } from '../log/index.ts'
import type { Grant } from '../permissions/index.ts'
import { EMBEDDED_APPS } from './embedded.gen.ts'
import type { Apps } from './installer.ts'
import { tarFiles, type PackageFile } from './package.ts'
import { sha256Hex, signPackage, SIGNATURE_PATH } from './signature.ts'

/** The bundled apps installed on a new node (the launcher and monitor are the node's own pages). */
export const DEFAULT_APPS = ['weibo'] as const

/** Where the node remembers which bundled versions it installed, so an uninstall stays done until a newer version comes. */
const RECORD = 'bundled-apps.json'

async function bundledFiles(app: string): Promise<PackageFile[]> {
  const paths = Object.keys(EMBEDDED_APPS).filter((p) => p.startsWith(`${app}/`))
  return Promise.all(paths.map(async (p) => ({ path: p.slice(app.length + 1), bytes: await Bun.file(EMBEDDED_APPS[p]).bytes() })))
}

/** A signed package of a bundled app, as `leither app pack` makes one. */
export async function bundledPackage(app: string, key: KeyPair): Promise<Uint8Array> {
  const files = await bundledFiles(app)
  const manifest = files.find((f) => f.path === 'manifest.json')
  if (!manifest) throw new Error(`bundled app ${app} has no manifest.json`)
  const { name, version } = JSON.parse(new TextDecoder().decode(manifest.bytes)) as { name: string; version: string }
  const sig = signPackage(key, name, version, files.map((f) => [f.path, f.bytes.length, sha256Hex(f.bytes)]))
  return tarFiles([...files, { path: SIGNATURE_PATH, bytes: new TextEncoder().encode(JSON.stringify(sig)) }])
}

/**
 * Installs each default app whose bundled version this node has not installed before. A node that
 * has them costs one small file read at start; a failure is logged and the node starts anyway.
 */
export async function installDefaultApps(o: { apps: Apps; system: Grant; dataDir: string; owner: string; nodeKey: KeyPair; log: Logger }): Promise<void> {
  const warn = (m: string, f?: Record<string, unknown>) => o.log.warn(m, f)
  const file = join(o.dataDir, RECORD)
  let done: Record<string, string> = {}
  try {
    if (existsSync(file)) done = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>
  } catch {
    done = {}
  }
  let changed = false
  for (const app of DEFAULT_APPS) {
    const manifest = EMBEDDED_APPS[`${app}/manifest.json`]
    if (!manifest) continue
    const { version } = (await Bun.file(manifest).json()) as { version: string }
    if (done[app] === version) continue
    try {
      const key = listUserKeys(o.dataDir, warn).find((k) => k.id === o.owner) ?? o.nodeKey
      await o.apps.installTar(o.system, await bundledPackage(app, key))
    } catch (err) {
      warn(`the bundled app ${app} was not installed`, { error: (err as Error).message })
    }
    done[app] = version
    changed = true
  }
  if (changed) writeFileSync(file, JSON.stringify(done))
}
