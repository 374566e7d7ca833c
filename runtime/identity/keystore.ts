// Key files in the data dir: keys/node.key for the node, keys/users/<id>.key for user keys.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Corrupt, InvalidParams, NotFound } from '../errors.ts'
import { fromBase64Url, generateKeyPair, keyPairFromSecret, toBase64Url, type KeyPair } from './keys.ts'

/** A stored key with its human name; the file holds the secret, so it is written mode 0600. */
export interface NamedKey extends KeyPair {
  readonly name: string
  readonly created: string
}

interface KeyFile {
  type: 'ed25519'
  id: string
  name: string
  created: string
  publicKey: string
  secretKey: string
}

const isWindows = process.platform === 'win32'

export function keysDir(dataDir: string): string {
  return join(dataDir, 'keys')
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
}

/** Atomic write with owner-only permissions: a crash leaves the old file or the new, never half. */
function writeSecretFile(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, text, { mode: 0o600 })
  if (!isWindows) chmodSync(tmp, 0o600)
  renameSync(tmp, path)
}

function readKeyFile(path: string, warn: (msg: string) => void): NamedKey {
  let file: KeyFile
  try {
    file = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new Corrupt(`key file ${path} is unreadable: ${(err as Error).message}`)
  }
  if (file?.type !== 'ed25519' || typeof file.secretKey !== 'string') {
    throw new Corrupt(`key file ${path} is not an ed25519 key`)
  }
  const pair = keyPairFromSecret(fromBase64Url(file.secretKey, 'secretKey'))
  if (file.id !== pair.id) throw new Corrupt(`key file ${path}: id ${file.id} does not match its key`)
  if (!isWindows && (statSync(path).mode & 0o077) !== 0) {
    // Like ssh we do not trust a key others can read; unlike ssh we repair it rather than refuse to boot.
    chmodSync(path, 0o600)
    warn(`key file ${path} was readable by others; permissions reset to 0600`)
  }
  return { ...pair, name: file.name ?? '', created: file.created ?? '' }
}

function toFile(key: NamedKey): string {
  const file: KeyFile = {
    type: 'ed25519',
    id: key.id,
    name: key.name,
    created: key.created,
    publicKey: toBase64Url(key.publicKey),
    secretKey: toBase64Url(key.secretKey),
  }
  return JSON.stringify(file, null, 2) + '\n'
}

function newNamedKey(name: string): NamedKey {
  return { ...generateKeyPair(), name, created: new Date().toISOString() }
}

/** Loads the node key, creating it on first run. Returns whether it was created. */
export function loadOrCreateNodeKey(dataDir: string, warn: (msg: string) => void): { key: NamedKey; created: boolean } {
  const dir = keysDir(dataDir)
  const path = join(dir, 'node.key')
  if (existsSync(path)) return { key: readKeyFile(path, warn), created: false }
  ensureDir(dir)
  const key = newNamedKey('node')
  writeSecretFile(path, toFile(key))
  return { key, created: true }
}

const usersDir = (dataDir: string) => join(keysDir(dataDir), 'users')

export function createUserKey(dataDir: string, name: string): NamedKey {
  if (!/^[\w.@-]{1,64}$/.test(name)) throw new InvalidParams(`key name "${name}" must be 1-64 letters, digits, . _ @ -`)
  if (listUserKeys(dataDir, () => {}).some((k) => k.name === name)) {
    throw new InvalidParams(`a key named "${name}" already exists`)
  }
  ensureDir(usersDir(dataDir))
  const key = newNamedKey(name)
  writeSecretFile(join(usersDir(dataDir), `${key.id}.key`), toFile(key))
  return key
}

export function listUserKeys(dataDir: string, warn: (msg: string) => void): NamedKey[] {
  const dir = usersDir(dataDir)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.key'))
    .map((f) => readKeyFile(join(dir, f), warn))
    .sort((a, b) => a.created.localeCompare(b.created))
}

/** The key of user `id` when this node holds it (keys/users/<id>.key), without reading the others. */
export function loadUserKey(dataDir: string, id: string, warn: (msg: string) => void): NamedKey | undefined {
  if (!/^[A-Za-z0-9_-]{27}$/.test(id)) return undefined
  const path = join(usersDir(dataDir), `${id}.key`)
  return existsSync(path) ? readKeyFile(path, warn) : undefined
}

/** Finds a user key by id or by name. */
export function findUserKey(dataDir: string, idOrName: string, warn: (msg: string) => void): NamedKey {
  const key = listUserKeys(dataDir, warn).find((k) => k.id === idOrName || k.name === idOrName)
  if (!key) throw new NotFound(`no user key "${idOrName}" in ${usersDir(dataDir)} (see: leither key list)`)
  return key
}
