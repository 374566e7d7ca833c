// The user family: log in and out, node variables, signing and verification.
import { InvalidParams, NotFound, PermissionDenied } from '../runtime/errors.ts'
import { findUserKey, fromBase64Url, keyId, SIGN_PREFIX, signData, signPassport, toBase64Url, verifyData, verifyPassport } from '../runtime/identity/index.ts'
import { syscall, type CallContext } from './row.ts'

/** The caller's own key, which this node must hold to sign for them. */
function callerKey(ctx: CallContext) {
  try {
    return findUserKey(ctx.sys.dataDir, ctx.grant.userId, (m) => ctx.sys.log.warn(m))
  } catch {
    throw new NotFound(`this node does not hold the key of user ${ctx.grant.userId}; sign on the device that has it`)
  }
}

/** A key, signature or id given as bytes or as base64url text. */
function bytesArg(name: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v
  if (typeof v === 'string') return fromBase64Url(v, name)
  throw new InvalidParams(`${name} must be bytes or base64url text`)
}

/** GetVar names that need more than the public table. */
const SESSION_VARS: Record<string, (ctx: CallContext, args: unknown[]) => unknown> = {
  userid: (ctx) => ctx.grant.userId,
  nodepk: (ctx) => toBase64Url(ctx.sys.identity.nodeKey.publicKey),
  mminfo: (ctx, [mid]) => ctx.sys.mimei.info(ctx.grant, midArg(mid)),
  mmversions: (ctx, [mid]) => ctx.sys.mimei.versions(ctx.grant, midArg(mid)),
  mmprovs: (ctx, [mid]) => {
    // Finding providers walks the DHT: not something a guest may make the node do at will.
    if (ctx.grant.kind === 'guest') throw new PermissionDenied('GetVar mmprovs asks the DHT, which needs a session; log in with Login(ppt) and pass the sid')
    if (!ctx.sys.replication) throw new InvalidParams('this node runs offline (p2p: false): it knows no providers')
    return ctx.sys.replication.findProviders(midArg(mid))
  },
  appinfos: (ctx) => installedApps(ctx, 'appinfos'),
  appids: (ctx) => installedApps(ctx, 'appids').map((a) => a.id),
}

/** What is installed here is for users of the node, as AppList is: not for guests. */
function installedApps(ctx: CallContext, name: string) {
  if (ctx.grant.kind === 'guest') throw new PermissionDenied(`GetVar ${name} lists the apps installed here, which needs a session; log in with Login(ppt) and pass the sid`)
  return ctx.sys.apps.list()
}

function midArg(mid: unknown): string {
  if (typeof mid !== 'string') throw new InvalidParams('this variable takes a MiMei id: GetVar(sid, name, mid)')
  return mid
}

export const USER_SYSCALLS = [
  syscall<[string]>({
    name: 'Login',
    sid: false,
    params: [{ name: 'ppt', type: 'string', doc: 'a passport with CertFor=Self, signed by the user key for this node (audience = node id)' }],
    returns: '{sid, uid, owner}',
    returnsType: 'LoginResult',
    capability: 'public',
    errors: ['InvalidParams', 'InvalidSignature'],
    doc: 'Opens a session. The sid is the first argument of later calls; it survives node restarts and expires when idle.',
    handler(ctx, ppt) {
      const s = ctx.sys.sessions.login(ppt)
      return { sid: s.sid, uid: s.userId, owner: s.kind === 'owner' }
    },
  }),
  syscall<[]>({
    name: 'Logout',
    sid: true,
    params: [],
    returns: 'true',
    returnsType: 'boolean',
    capability: 'session',
    errors: ['PermissionDenied'],
    doc: 'Ends the session given as sid, and the passport it was opened with: that passport does not log in again (sign a new one).',
    handler(ctx) {
      return ctx.sys.sessions.logout(ctx.grant.sid)
    },
  }),
  syscall<[string, ...unknown[]]>({
    name: 'GetVar',
    sid: true,
    params: [
      { name: 'name', type: 'string', doc: 'ver | now | port | nodeid | peerid | nodeaddrs | userid | nodepk | appids | appinfos | mminfo | mmversions | mmprovs (the last three take a MiMei id)' },
      { name: 'args', type: 'any', rest: true, doc: 'extra arguments some variables take' },
    ],
    returns: 'the value',
    returnsType: 'unknown',
    capability: 'public',
    errors: ['NotFound', 'PermissionDenied'],
    doc: 'Reads a node variable. Guests (sid "") may read it; userid is "" for them.',
    handler(ctx, name, ...args) {
      const key = name.toLowerCase()
      // Own keys only: a name such as __proto__ or constructor must not reach Object.prototype.
      const table = ctx.sys.publicVars()
      if (Object.hasOwn(table, key)) return table[key]!()
      if (Object.hasOwn(SESSION_VARS, key)) return SESSION_VARS[key]!(ctx, args)
      throw new NotFound(`no variable "${name}"; known: ${[...Object.keys(ctx.sys.publicVars()), ...Object.keys(SESSION_VARS)].join(', ')}`)
    },
  }),
  syscall<[Record<string, unknown>, number, string | undefined]>({
    name: 'SignPPT',
    sid: true,
    params: [
      { name: 'data', type: 'map', doc: 'string keys and values to sign, e.g. {CertFor: "Self"}' },
      { name: 'period', type: 'int', doc: 'validity in minutes, 1..passportMaxSec/60 (default config: 10080, 7 days)' },
      { name: 'audience', type: 'string', optional: true, doc: 'node id the passport is for (default: this node)' },
    ],
    returns: 'passport (string)',
    returnsType: 'string',
    app: 'user.sign',
    capability: 'user.sign',
    errors: ['InvalidParams', 'NotFound', 'PermissionDenied'],
    doc: "Signs a passport with the caller's key, which this node must hold. Never valid longer than this node's passportMaxSec.",
    handler(ctx, data, period, audience) {
      const maxMin = Math.floor(ctx.sys.config.passportMaxSec / 60)
      if (period < 1 || period > maxMin) throw new InvalidParams(`SignPPT: period must be 1..${maxMin} minutes (passportMaxSec)`)
      const fields: Record<string, string> = {}
      for (const [k, v] of Object.entries(data)) {
        if (typeof v !== 'string') throw new InvalidParams(`SignPPT: data.${k} must be a string`)
        fields[k] = v
      }
      const ttl = period * 60
      return signPassport(callerKey(ctx), { data: fields, audience: audience ?? ctx.sys.identity.nodeId, ttl, maxTtl: ttl })
    },
  }),
  syscall<[Uint8Array]>({
    name: 'Sign',
    sid: true,
    params: [{ name: 'message', type: 'data', doc: 'bytes, or a string signed as UTF-8' }],
    returns: 'signature (64 bytes, Ed25519)',
    returnsType: 'Uint8Array',
    app: 'user.sign',
    capability: 'user.sign',
    errors: ['InvalidParams', 'NotFound', 'PermissionDenied'],
    doc:
      `Signs a message with the caller's key, which this node must hold. What is signed is "${SIGN_PREFIX}" followed by the message, ` +
      'so a signature made here is never a passport, message or event signature; check it with Verify.',
    handler(ctx, message) {
      return signData(callerKey(ctx), message)
    },
  }),
  syscall<[unknown, Uint8Array, unknown]>({
    name: 'Verify',
    sid: true,
    params: [
      { name: 'publicKey', type: 'any', doc: 'the signer public key: 32 bytes or base64url text' },
      { name: 'message', type: 'data', doc: 'bytes, or a string taken as UTF-8' },
      { name: 'signature', type: 'any', doc: '64 bytes or base64url text' },
    ],
    returns: '{valid, signer}',
    returnsType: '{ valid: boolean; signer: string }',
    capability: 'public',
    errors: ['InvalidParams'],
    doc: `Checks a signature made by Sign (Ed25519 over "${SIGN_PREFIX}" + message); signer is the key id of the public key.`,
    handler(_ctx, publicKey, message, signature) {
      const pk = bytesArg('publicKey', publicKey)
      const sig = bytesArg('signature', signature)
      if (pk.length !== 32) throw new InvalidParams('Verify: publicKey must be 32 bytes')
      return { valid: verifyData(pk, message, sig), signer: keyId(pk) }
    },
  }),
  syscall<[string, string | undefined]>({
    name: 'VerifyPPT',
    sid: true,
    params: [
      { name: 'ppt', type: 'string', doc: 'a passport' },
      { name: 'audience', type: 'string', optional: true, doc: 'node id it must be for (default: this node)' },
    ],
    returns: '{signer, data, audience, notBefore, notAfter}',
    returnsType: '{ signer: string; data: Record<string, string>; audience: string; notBefore: number; notAfter: number }',
    capability: 'public',
    errors: ['InvalidSignature'],
    doc: 'Verifies a passport: signature, audience and validity window.',
    handler(ctx, ppt, audience) {
      const p = verifyPassport(ppt, { audience: audience ?? ctx.sys.identity.nodeId })
      return { signer: p.signer, data: p.data, audience: p.audience, notBefore: p.notBefore, notAfter: p.notAfter }
    },
  }),
  syscall<[]>({
    name: 'WhoAmI',
    sid: true,
    params: [],
    returns: '{userid, kind, capabilities, nodeid, idleSec}',
    returnsType: "{ userid: string; kind: 'guest' | 'user' | 'owner'; capabilities: string[]; nodeid: string; idleSec: number }",
    capability: 'public',
    errors: ['PermissionDenied'],
    doc: 'Who the session is and what it may do; a guest (sid "") is kind "guest".',
    handler(ctx) {
      return {
        userid: ctx.grant.userId,
        kind: ctx.grant.kind,
        capabilities: [...ctx.grant.capabilities],
        nodeid: ctx.sys.identity.nodeId,
        idleSec: ctx.sys.sessions.idleSec,
      }
    },
  }),
]
