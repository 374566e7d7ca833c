// `leither init`, `leither id`, `leither version`: set up a data dir and show who this node is.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { configPath, loadConfig, resolveDataDir } from '../config/index.ts'
import { NotFound } from '../errors.ts'
import { ensureOwner, loadOrCreateNodeKey, peerIdOf } from '../identity/index.ts'
import { versionLine } from '../version.ts'
import type { Parsed } from './args.ts'

const warn = (m: string) => console.error(`warning: ${m}`)

export function initCommand(p: Parsed): number {
  const dataDir = resolveDataDir(p.flags.data as string | undefined)
  const fresh = !existsSync(join(dataDir, 'keys', 'node.key'))
  const { config } = loadConfig(dataDir)
  const { key } = loadOrCreateNodeKey(dataDir, warn)
  const { owner } = ensureOwner(dataDir, config, warn)
  console.log(fresh ? `initialized ${dataDir}` : `${dataDir} was already initialized`)
  console.log(`config   ${configPath(dataDir)}`)
  console.log(`nodeid   ${key.id}`)
  console.log(`peerid   ${peerIdOf(key.publicKey)}`)
  console.log(`owner    ${owner.id}`)
  return 0
}

export function idCommand(p: Parsed): number {
  const dataDir = resolveDataDir(p.flags.data as string | undefined)
  if (!existsSync(join(dataDir, 'keys', 'node.key'))) {
    throw new NotFound(`no node in ${dataDir}; run: leither init --data ${dataDir}`)
  }
  const { config } = loadConfig(dataDir)
  const { key } = loadOrCreateNodeKey(dataDir, warn)
  const peerid = peerIdOf(key.publicKey)
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host
  const addrs = {
    http: `http://${host}:${config.port}`,
    p2p: `/ip4/${host}/tcp/${config.p2pPort}/p2p/${peerid}`,
  }
  if (p.flags.json) {
    console.log(JSON.stringify({ nodeid: key.id, peerid, owner: config.owner, addrs }, null, 2))
  } else {
    console.log(`nodeid   ${key.id}`)
    console.log(`peerid   ${peerid}`)
    console.log(`owner    ${config.owner || '(none yet)'}`)
    console.log(`http     ${addrs.http}`)
    console.log(`p2p      ${addrs.p2p}`)
  }
  return 0
}

export function versionCommand(): number {
  console.log(versionLine())
  return 0
}
