// Test helpers for apps: app folders, signed (or deliberately broken) package tars, uploading a
// package through the file syscalls, and what a node holds (to prove nothing was installed).
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { KeyPair } from '../../runtime/identity/index.ts'
import { sha256Hex, signPackage, SIGNATURE_PATH, type PackageSignature } from '../../runtime/apps/signature.ts'
import { tarFiles, type PackageFile } from '../../runtime/apps/package.ts'
import { callLocal, type TestKernel } from '../helpers/kernel.ts'

const utf8 = new TextEncoder()

export interface AppSpec {
  name?: string
  version?: string
  manifest?: Record<string, unknown>
  /** Extra files by path (strings are UTF-8). */
  files?: Record<string, string | Uint8Array>
}

export function manifestOf(spec: AppSpec): Record<string, unknown> {
  return {
    name: spec.name ?? 'hello',
    version: spec.version ?? '1.0.0',
    description: 'Says hello',
    icon: 'icon.svg',
    permissions: [{ name: 'msg', reason: 'to show your messages' }],
    ...spec.manifest,
  }
}

/** The files of a small app: manifest, index.html, icon, a script in a folder, plus `spec.files`. */
export function appFiles(spec: AppSpec = {}): PackageFile[] {
  const files: Record<string, string | Uint8Array> = {
    'manifest.json': JSON.stringify(manifestOf(spec)),
    'index.html': `<!doctype html><title>${spec.name ?? 'hello'}</title><script src="js/app.js"></script>`,
    'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'js/app.js': 'console.log("hello")',
    ...spec.files,
  }
  return Object.entries(files).map(([path, v]) => ({ path, bytes: typeof v === 'string' ? utf8.encode(v) : v }))
}

/** Writes an app folder for `leither app pack`. */
export function writeAppDir(dir: string, spec: AppSpec = {}): string {
  for (const f of appFiles(spec)) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true })
    writeFileSync(join(dir, f.path), f.bytes)
  }
  return dir
}

/**
 * A package tar of `files` signed by `key` (name and version from the manifest among them, or
 * given); `tamper` may change the signature before it is written, `extra` adds raw entries.
 */
export async function signedTar(
  key: KeyPair,
  files: PackageFile[],
  opts: { tamper?: (s: PackageSignature) => PackageSignature; extra?: Parameters<typeof tarFiles>[1]; name?: string; version?: string } = {},
): Promise<Uint8Array> {
  const manifest = files.find((f) => f.path === 'manifest.json')
  const m = manifest && !opts.name ? (JSON.parse(new TextDecoder().decode(manifest.bytes)) as { name?: string; version?: string }) : {}
  let sig = signPackage(key, opts.name ?? String(m.name), opts.version ?? String(m.version), files.map((f) => [f.path, f.bytes.length, sha256Hex(f.bytes)]))
  if (opts.tamper) sig = opts.tamper(sig)
  return tarFiles([...files, { path: SIGNATURE_PATH, bytes: utf8.encode(JSON.stringify(sig)) }], opts.extra)
}

export const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', (await import('../helpers/kernel.ts')).loginPassport(k))) as { sid: string }).sid

/** Uploads bytes as a mac file the way clients do (MFOpenTempFile, MFSetData, MFTemp2MacFile). */
export async function uploadMac(k: TestKernel, sid: string, bytes: Uint8Array): Promise<string> {
  const fsid = (await callLocal(k, 'MFOpenTempFile', sid)) as string
  for (let at = 0; at < bytes.length; at += 1 << 20) await callLocal(k, 'MFSetData', fsid, bytes.subarray(at, at + (1 << 20)), at)
  const cid = (await callLocal(k, 'MFTemp2MacFile', fsid)) as string
  await callLocal(k, 'MFClose', fsid)
  return cid
}

/** Uploads a package and installs it with UploadApp. */
export async function upload(k: TestKernel, sid: string, tar: Uint8Array): Promise<Record<string, unknown>> {
  return (await callLocal(k, 'UploadApp', sid, await uploadMac(k, sid, tar), 'tar')) as Record<string, unknown>
}

/** What installing changes: app rows, MiMei, versions, and blocks pinned by versions. */
export function holdings(k: TestKernel) {
  const n = (sql: string) => (k.store.db.query(sql).get() as { n: number }).n
  return {
    apps: n('SELECT count(*) AS n FROM apps'),
    mimei: n('SELECT count(*) AS n FROM mimei'),
    versions: n('SELECT count(*) AS n FROM mimei_versions'),
    versionPins: n("SELECT count(*) AS n FROM block_pins WHERE owner LIKE 'v:%'"),
  }
}
