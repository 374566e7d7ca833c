// What an app may be granted: capability names an app's manifest asks for, and the rule that
// says which syscall rows each one opens to an app's session.

/**
 * Capabilities a user can grant an app (manifest `permissions`), each with what it lets the app do:
 * - `mimei`: create and manage the app's own MiMei (versions, rights, references).
 * - `user.sign`: sign data and passports with the user's key.
 * - `msg`: read the user's messages and use the app's pubsub topics.
 * - `msg.send`: send messages in the user's name.
 * - `net`: publish, provide and sync MiMei on the network; look at peers.
 * - `coin.transfer`: pay from the user's account, up to a limit the user sets.
 * Besides these every app session has `basic`: its own data areas, handles, who it is, the
 * node's public variables. Owner-only rows (`node.admin`) and granting are never open to apps.
 */
export const APP_CAPABILITIES = ['mimei', 'user.sign', 'msg', 'msg.send', 'net', 'coin.transfer'] as const
export type AppCapability = (typeof APP_CAPABILITIES)[number]

/** What a row needs from an app session: nothing beyond `basic`, a grant, or never open to apps. */
export type AppAccess = AppCapability | 'basic' | 'never'

export const APP_CAPABILITY_DOCS: Record<AppCapability, string> = {
  mimei: "create and manage the app's own MiMei",
  'user.sign': "sign data and passports with the user's key",
  msg: "read the user's messages and use the app's pubsub topics",
  'msg.send': "send messages in the user's name",
  net: 'publish, provide and sync MiMei on the network; see peers',
  'coin.transfer': "pay from the user's account, up to the limit the user sets",
}

/** What each family's rows need from an app unless a row says otherwise. */
export const FAMILY_APP_ACCESS: Record<string, AppAccess> = {
  user: 'basic',
  sys: 'basic',
  mimei: 'mimei',
  file: 'basic',
  db: 'basic',
  replication: 'net',
  net: 'net',
  msg: 'msg',
  users: 'never',
  app: 'never',
  grants: 'never',
}

export const isAppCapability = (name: unknown): name is AppCapability => typeof name === 'string' && (APP_CAPABILITIES as readonly string[]).includes(name)
