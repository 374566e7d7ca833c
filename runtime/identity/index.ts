// The node's identity subsystem: loads (or on first run creates) the node key, exposes its ids.
import { updateConfigFile, type Config } from '../config/index.ts'
import type { BaseComponents, Subsystem } from '../kernel.ts'
import { peerIdOf } from './keys.ts'
import { createUserKey, listUserKeys, loadOrCreateNodeKey, type NamedKey } from './keystore.ts'

export * from './domains.ts'
export * from './keys.ts'
export * from './keystore.ts'
export * from './passport.ts'

export interface Identity extends Subsystem {
  /** The node key; throws before start. */
  readonly nodeKey: NamedKey
  readonly nodeId: string
  readonly peerId: string
}

/**
 * Makes sure the node has an owner: on first run a user key named "owner" is created and its id
 * recorded in leither.json. The owner's key lives in the data dir so `leither call` can log in.
 */
export function ensureOwner(dataDir: string, config: Config, warn: (m: string) => void): { owner: NamedKey; created: boolean } {
  const keys = listUserKeys(dataDir, warn)
  const known = keys.find((k) => k.id === config.owner) ?? keys.find((k) => k.name === 'owner')
  const owner = known ?? createUserKey(dataDir, 'owner')
  if (config.owner !== owner.id) {
    updateConfigFile(dataDir, { owner: owner.id })
    config.owner = owner.id
  }
  return { owner, created: !known }
}

export function identity() {
  return (components: BaseComponents): Identity => {
    const log = components.log.child('identity')
    let key: NamedKey | undefined
    let peerId = ''
    const need = () => {
      if (!key) throw new Error('identity is not started')
      return key
    }
    return {
      name: 'identity',
      get nodeKey() {
        return need()
      },
      get nodeId() {
        return need().id
      },
      get peerId() {
        need()
        return peerId
      },
      start() {
        const loaded = loadOrCreateNodeKey(components.dataDir, (m) => log.warn(m))
        key = loaded.key
        peerId = peerIdOf(key.publicKey)
        if (loaded.created) log.info('created node key', { nodeid: key.id, peerid: peerId })
        const { owner, created } = ensureOwner(components.dataDir, components.config, (m) => log.warn(m))
        if (created) log.info('created owner key', { userid: owner.id })
      },
      stop() {},
    }
  }
}
