// The grants family: what a user lets each app do, and the one-time codes that carry a session
// to a browser page (the launcher's, or an app's) without a sid in any URL.
import { InvalidParams, PermissionDenied } from '../runtime/errors.ts'
import { isKeyId } from '../runtime/identity/index.ts'
import { appIdOfOrigin, appOrigin } from '../runtime/apps/ids.ts'
import { APP_CAPABILITIES } from '../runtime/permissions/app-capabilities.ts'
import { syscall, type CallContext } from './row.ts'

const APPID = { name: 'appid', type: 'string', doc: 'the app id' } as const
const CAPS_DOC = `capability names: ${APP_CAPABILITIES.join(', ')}`

function appArg(call: string, appid: string): string {
  if (!isKeyId(appid)) throw new InvalidParams(`${call}: appid must be an app id (27 base64url characters)`)
  return appid
}

/** The launcher's address on this node, as a page of this machine reaches it. */
const nodeBase = (ctx: CallContext) => `http://localhost:${ctx.sys.publicVars().port?.() ?? ctx.sys.config.port}`

export const GRANT_SYSCALLS = [
  syscall<[string, unknown[], number | undefined]>({
    name: 'AppGrant',
    sid: true,
    params: [APPID, { name: 'capabilities', type: 'list', doc: CAPS_DOC }, { name: 'limit', type: 'int', optional: true, doc: 'for coin.transfer: the most the app may spend, in milli-Nuo' }],
    returns: 'list of {capability, grantedAt, limit}: everything the app now holds from the caller',
    returnsType: 'AppGrantInfo[]',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc: "Lets an app do more in the caller's name: its pages' sessions may then call the rows these capabilities open. Audited. Apps cannot call it.",
    handler: (ctx, appid, caps, limit) => ctx.sys.permissions.appGrants.grant(ctx.grant.userId, appArg('AppGrant', appid), caps, limit),
  }),
  syscall<[string, unknown[]]>({
    name: 'AppRevoke',
    sid: true,
    params: [APPID, { name: 'capabilities', type: 'any', rest: true, doc: `${CAPS_DOC}; none = all of them` }],
    returns: 'number of capabilities taken back',
    returnsType: 'number',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc: "Takes capabilities back from an app; its sessions' next call is refused. Audited.",
    handler: (ctx, appid, ...caps) => ctx.sys.permissions.appGrants.revoke(ctx.grant.userId, appArg('AppRevoke', appid), caps as unknown[]),
  }),
  syscall<[]>({
    name: 'AppGrants',
    sid: true,
    params: [],
    returns: 'map of app id → list of {capability, grantedAt, limit}',
    returnsType: 'Record<string, AppGrantInfo[]>',
    capability: 'session',
    errors: ['PermissionDenied'],
    doc: 'What the caller granted each app.',
    handler: (ctx) => ctx.sys.permissions.appGrants.list(ctx.grant.userId),
  }),
  syscall<[string | undefined]>({
    name: 'SessionCode',
    sid: true,
    params: [{ ...APPID, optional: true, doc: 'the app the page is for; absent: the launcher' }],
    returns: '{code, url}: a one-time code, good for a minute, and the page that takes it',
    returnsType: '{ code: string; url: string }',
    capability: 'session',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "Hands the caller's identity to a browser page without a sid in any URL: the page at `url` trades the code once for a session of its own (CodeLogin). " +
      "For an app, that session is bound to the app's origin and to what the caller granted the app. `leither open` uses it.",
    handler(ctx, appid) {
      const { userId, kind } = ctx.grant
      if (kind !== 'user' && kind !== 'owner') throw new PermissionDenied('SessionCode needs a logged-in user')
      const app = appid ? appArg('SessionCode', appid) : undefined
      const code = ctx.sys.permissions.codes.issue({ userId, kind, ...(app ? { app } : {}) })
      const port = ctx.sys.publicVars().port?.() as number | undefined
      const base = app ? appOrigin(app, port ?? ctx.sys.config.port) : nodeBase(ctx)
      return { code, url: `${base}/?code=${code}` }
    },
  }),
  syscall<[string]>({
    name: 'CodeLogin',
    sid: false,
    params: [{ name: 'code', type: 'string', doc: 'from SessionCode (the ?code= of the page address)' }],
    returns: '{sid, uid, owner, app}',
    returnsType: 'LoginResult & { app: string }',
    capability: 'public',
    app: 'basic',
    errors: ['NotFound', 'PermissionDenied'],
    doc: "Trades a one-time code for a session. From a browser the page must be the code's own: the app's origin for an app's code, the node's for the launcher's.",
    handler(ctx, code) {
      const holder = ctx.sys.permissions.codes.take(code)
      const pageApp = appIdOfOrigin(ctx.meta.origin)
      if (ctx.meta.origin !== undefined && pageApp !== holder.app) {
        throw new PermissionDenied(holder.app ? `this code is for the pages of app ${holder.app}` : 'this code is for the launcher, not an app page')
      }
      const s = ctx.sys.sessions.open(holder)
      return { sid: s.sid, uid: s.userId, owner: s.kind === 'owner', app: s.app ?? '' }
    },
  }),
]
