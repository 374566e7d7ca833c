// App packages (.lapp): a tar of an app folder plus the author's signature, packed with
// tar-stream; reading one checks every entry as it arrives (kind, path, sizes, counts), then the
// signature, every file's hash and the manifest. A package that fails any check is refused whole.
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { extract, pack } from 'tar-stream'
import { InvalidParams, InvalidSignature } from '../errors.ts'
import type { KeyPair } from '../identity/index.ts'
import { MAX_NAME_BYTES } from '../mimei/files/path.ts'
import { appIdOf } from './ids.ts'
import { parseManifest, type AppManifest } from './manifest.ts'
import { RESERVED_DIR, sha256Hex, signPackage, SIGNATURE_PATH, verifySignatureFile, type FileHash, type PackageSignature } from './signature.ts'

export interface PackageLimits {
  /** Bytes of all files together. */
  totalBytes: number
  files: number
  fileBytes: number
}

export const DEFAULT_PACKAGE_LIMITS: Readonly<PackageLimits> = { totalBytes: 64 * 1024 ** 2, files: 2000, fileBytes: 16 * 1024 ** 2 }

/** The most tar bytes a package within `limits` can take: files, a header and padding each, pax and end blocks. */
export const maxTarBytes = (l: PackageLimits) => l.totalBytes + (l.files + 1) * 3 * 512 + 64 * 1024

export interface PackageFile {
  readonly path: string
  readonly bytes: Uint8Array
}

/** A package whose signature, hashes, paths and manifest were all checked. */
export interface VerifiedPackage {
  readonly appId: string
  readonly manifest: AppManifest
  readonly signature: PackageSignature
  /** Every file, the signature file included, sorted by path. */
  readonly files: readonly PackageFile[]
  /** Bytes of the files, the signature file included. */
  readonly size: number
}

const utf8 = new TextEncoder()
const refuse = (msg: string): never => {
  throw new InvalidParams(`bad package: ${msg}`)
}

/** A path as a package may hold it: relative, "/"-separated, no "." or ".." or empty parts. */
export function checkEntryPath(path: string): string {
  const shown = JSON.stringify(path.slice(0, 200))
  if (path.startsWith('/')) refuse(`entry ${shown} is an absolute path`)
  if (path.includes('\\')) refuse(`entry ${shown} contains a backslash`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) refuse(`entry ${shown} contains control characters`)
  if (utf8.encode(path).length > 1024) refuse(`entry ${shown} is longer than 1024 bytes`)
  for (const part of path.split('/')) {
    if (part === '..') refuse(`entry ${shown} climbs out of the package with ".."`)
    if (part === '' || part === '.') refuse(`entry ${shown} has an empty or "." path component`)
    if (utf8.encode(part).length > MAX_NAME_BYTES) refuse(`entry ${shown} has a name longer than ${MAX_NAME_BYTES} bytes`)
  }
  return path
}

// — reading —

/**
 * Reads a package from its tar bytes, streamed. Limits are checked from each entry's header,
 * before its bytes are read; links, devices and anything but files and folders are refused.
 */
export async function readPackage(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, limits: PackageLimits = DEFAULT_PACKAGE_LIMITS, capabilities?: readonly string[]): Promise<VerifiedPackage> {
  const files = new Map<string, Uint8Array>()
  const dirs = new Set<string>()
  let total = 0
  const ex = extract()
  const reading = (async () => {
    for await (const entry of ex) {
      const h = entry.header
      const isDir = h.type === 'directory'
      const path = checkEntryPath(isDir ? h.name.replace(/\/$/, '') : h.name)
      if (!isDir && h.type !== 'file') refuse(`entry ${JSON.stringify(path)} is a ${h.type}; packages hold only files and folders (no links or devices)`)
      if (files.has(path) || dirs.has(path)) refuse(`entry ${JSON.stringify(path)} appears twice`)
      if (isDir) {
        dirs.add(path)
        entry.resume()
        continue
      }
      const size = h.size ?? 0
      if (files.size + 1 > limits.files) refuse(`more than ${limits.files} files`)
      if (size > limits.fileBytes) refuse(`file ${JSON.stringify(path)} has ${size} bytes; a file may have at most ${limits.fileBytes}`)
      if (total + size > limits.totalBytes) refuse(`the files add up to more than ${limits.totalBytes} bytes`)
      total += size
      const body = new Uint8Array(size)
      let at = 0
      for await (const part of entry) {
        const b = part as Uint8Array
        if (at + b.length > size) refuse(`file ${JSON.stringify(path)} is longer than its header says`)
        body.set(b, at)
        at += b.length
      }
      if (at !== size) refuse(`file ${JSON.stringify(path)} is cut short`)
      files.set(path, body)
    }
  })()
  // A refusal inside the reader ends the feeding too; errors from either side surface once.
  let failed: unknown
  reading.catch((err) => (failed ??= err))
  try {
    for await (const chunk of chunks) {
      if (failed) break
      if (!ex.write(chunk)) await Promise.race([new Promise<void>((r) => ex.once('drain', () => r())), reading.catch(() => {})])
    }
    ;(ex as unknown as { end(): void }).end()
    await reading
  } catch (err) {
    ex.destroy()
    if (err instanceof InvalidParams || err instanceof InvalidSignature) throw err
    refuse(`not a readable tar (${(err as Error).message})`)
  }
  if (failed) throw failed
  return verifyFiles(files, dirs, capabilities)
}

/** Checks a set of package files (from a tar or from an installed tree) against their signature. */
export function verifyFiles(files: ReadonlyMap<string, Uint8Array>, dirs: ReadonlySet<string> = new Set(), capabilities?: readonly string[]): VerifiedPackage {
  for (const d of dirs) if (files.has(d)) refuse(`"${d}" is both a file and a folder`)
  for (const p of files.keys()) {
    const parts = p.split('/')
    for (let i = 1; i < parts.length; i++) if (files.has(parts.slice(0, i).join('/'))) refuse(`"${p}" lies below the file "${parts.slice(0, i).join('/')}"`)
  }
  const sigBytes = files.get(SIGNATURE_PATH)
  if (!sigBytes) throw new InvalidSignature(`package is not signed: it has no ${SIGNATURE_PATH} (make packages with: leither app pack DIR -o FILE.lapp)`)
  const signature = verifySignatureFile(sigBytes)
  const listed = new Map(signature.files.map((f) => [f[0], f]))
  for (const [path, bytes] of files) {
    if (path === SIGNATURE_PATH) continue
    const f = listed.get(path)
    if (!f) throw new InvalidSignature(`package file "${path}" is not covered by the author's signature`)
    if (f[1] !== bytes.length || f[2] !== sha256Hex(bytes)) throw new InvalidSignature(`package file "${path}" is not the file the author signed (its hash differs)`)
  }
  for (const path of listed.keys()) if (!files.has(path)) throw new InvalidSignature(`package file "${path}" is signed but missing`)
  if (!files.has('manifest.json')) refuse('no manifest.json at the top of the package')
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(files.get('manifest.json')))
  } catch (err) {
    return refuse(`manifest.json is not valid JSON (${(err as Error).message})`)
  }
  const manifest = parseManifest(json, capabilities)
  if (manifest.name !== signature.name || manifest.version !== signature.version) {
    throw new InvalidSignature(`the signature is for ${signature.name} ${signature.version}, the manifest says ${manifest.name} ${manifest.version}`)
  }
  if (!files.has(manifest.entry)) refuse(`the entry "${manifest.entry}" named in manifest.json is not in the package`)
  if (manifest.icon && !files.has(manifest.icon)) refuse(`the icon "${manifest.icon}" named in manifest.json is not in the package`)
  const sorted = [...files].sort((a, b) => Buffer.compare(utf8.encode(a[0]), utf8.encode(b[0]))).map(([path, bytes]) => ({ path, bytes }))
  const size = sorted.reduce((n, f) => n + f.bytes.length, 0)
  return { appId: appIdOf(signature.author, manifest.name), manifest, signature, files: sorted, size }
}

// — packing —

/** Files of an app folder; links and special files are refused, `.git` and `.DS_Store` skipped. */
function collect(dir: string, skip: string | undefined, limits: PackageLimits): PackageFile[] {
  const out: PackageFile[] = []
  let total = 0
  const walk = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      const full = join(abs, name)
      const rel = relative(dir, full).split('\\').join('/')
      if (name === '.git' || name === '.DS_Store' || full === skip) continue
      if (rel === RESERVED_DIR) throw new InvalidParams(`${full}: "${RESERVED_DIR}" is reserved for the package signature; rename it`)
      const st = lstatSync(full)
      if (st.isDirectory()) walk(full)
      else if (st.isFile()) {
        checkEntryPath(rel)
        if (st.size > limits.fileBytes) throw new InvalidParams(`${full} has ${st.size} bytes; a package file may have at most ${limits.fileBytes}`)
        if ((total += st.size) > limits.totalBytes) throw new InvalidParams(`the files of ${dir} add up to more than ${limits.totalBytes} bytes`)
        if (out.length >= limits.files - 1) throw new InvalidParams(`${dir} has more than ${limits.files - 1} files (the signature is one more)`)
        out.push({ path: rel, bytes: new Uint8Array(readFileSync(full)) })
      } else throw new InvalidParams(`${full} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; packages hold only files and folders`)
    }
  }
  walk(dir)
  return out
}

/** Writes files into a tar (fixed times and modes, so the same files give the same bytes). */
export async function tarFiles(files: readonly PackageFile[], extra: { name: string; type: 'symlink' | 'link'; linkname: string }[] = []): Promise<Uint8Array> {
  const p = pack()
  for (const f of files) p.entry({ name: f.path, size: f.bytes.length, mode: 0o644, mtime: new Date(0), type: 'file' }, Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.length))
  for (const e of extra) p.entry({ ...e, mode: 0o777, mtime: new Date(0) })
  p.finalize()
  const parts: Buffer[] = []
  for await (const c of p) parts.push(c as Buffer)
  return new Uint8Array(Buffer.concat(parts))
}

/** Packs the app folder `dir` signed with `key`: checks its manifest first; returns the tar bytes and what it holds. */
export async function packDir(dir: string, key: KeyPair, opts: { out?: string; limits?: PackageLimits; capabilities?: readonly string[] } = {}): Promise<{ tar: Uint8Array; pkg: VerifiedPackage }> {
  const limits = opts.limits ?? DEFAULT_PACKAGE_LIMITS
  const root = resolve(dir)
  const files = collect(root, opts.out && resolve(opts.out), limits)
  const manifestFile = files.find((f) => f.path === 'manifest.json')
  if (!manifestFile) throw new InvalidParams(`${root} has no manifest.json (name, version, description, icon, entry, permissions)`)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder().decode(manifestFile.bytes))
  } catch (err) {
    throw new InvalidParams(`${join(root, 'manifest.json')} is not valid JSON (${(err as Error).message})`)
  }
  const manifest = parseManifest(json, opts.capabilities)
  const hashes: FileHash[] = files.map((f) => [f.path, f.bytes.length, sha256Hex(f.bytes)])
  const signature = signPackage(key, manifest.name, manifest.version, hashes)
  const all = [...files, { path: SIGNATURE_PATH, bytes: utf8.encode(JSON.stringify(signature, null, 1) + '\n') }]
  const tar = await tarFiles(all)
  // Read back as any node will: what is packed is what installs.
  const pkg = await readPackage([tar], limits, opts.capabilities)
  return { tar, pkg }
}
