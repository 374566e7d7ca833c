// `leither key new|list|export`: the user keys kept in the data dir.
import { resolveDataDir, loadConfig } from '../config/index.ts'
import { createUserKey, findUserKey, listUserKeys, toBase64Url } from '../identity/index.ts'
import type { Parsed } from './args.ts'

const warn = (m: string) => console.error(`warning: ${m}`)
const dataDirOf = (p: Parsed) => resolveDataDir(p.flags.data as string | undefined)

export function keyNew(p: Parsed): number {
  const dataDir = dataDirOf(p)
  const name = (p.flags.name as string | undefined) ?? `user-${listUserKeys(dataDir, warn).length + 1}`
  const key = createUserKey(dataDir, name)
  console.log(key.id)
  return 0
}

export function keyList(p: Parsed): number {
  const dataDir = dataDirOf(p)
  const keys = listUserKeys(dataDir, warn)
  const owner = keys.length ? loadConfig(dataDir).config.owner : ''
  if (p.flags.json) {
    console.log(JSON.stringify(keys.map((k) => ({ id: k.id, name: k.name, created: k.created, owner: k.id === owner })), null, 2))
    return 0
  }
  if (!keys.length) {
    console.log('no user keys (create one: leither key new --name NAME)')
    return 0
  }
  for (const k of keys) console.log(`${k.id}  ${k.name.padEnd(16)} ${k.created}${k.id === owner ? '  (owner)' : ''}`)
  return 0
}

/** Prints the whole key, secret included, for backup or moving to another node. */
export function keyExport(p: Parsed): number {
  const dataDir = dataDirOf(p)
  const which = p.args[0] ?? loadConfig(dataDir).config.owner
  const key = findUserKey(dataDir, which, warn)
  if (process.stdout.isTTY) console.error('warning: the output holds a secret key; store it safely')
  console.log(
    JSON.stringify(
      {
        type: 'ed25519',
        id: key.id,
        name: key.name,
        created: key.created,
        publicKey: toBase64Url(key.publicKey),
        secretKey: toBase64Url(key.secretKey),
      },
      null,
      2,
    ),
  )
  return 0
}
