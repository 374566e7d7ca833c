// The users family: the owner's management of who uses this node: who may store data here
// (admit, remove, list) and revoking a user's sessions and passports.
import { InvalidParams } from '../runtime/errors.ts'
import { isKeyId } from '../runtime/identity/index.ts'
import { syscall } from './row.ts'

/** How far ahead of this node's clock a revocation time may be (the clock skew passports get). */
const FUTURE_SLACK_SEC = 60

function userArg(call: string, userId: unknown): string {
  if (!isKeyId(userId)) throw new InvalidParams(`${call}: userId must be a user id (27 base64url characters)`)
  return userId
}

const USAGE = '{userId, admitted, quotaBytes, usage: {cur, versions, mac, temp, inbox, total}}'

export const USERS_SYSCALLS = [
  syscall<[string, number | undefined]>({
    name: 'UserAdmit',
    sid: true,
    params: [
      { name: 'userId', type: 'string', doc: 'the user allowed to store data here' },
      { name: 'quotaBytes', type: 'int', optional: true, doc: 'their quota in bytes (0 = no limit; absent = the node default, config quotaUserBytes)' },
    ],
    returns: USAGE,
    returnsType: 'StoredUser',
    capability: 'node.admin',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      'Lets a user store data on this node (MiMei, files, replicas they ask for), with their own quota; again with another quota changes it. ' +
      'Unless the config says storageOpen, only the owner and admitted users store; guests never do.',
    handler: (ctx, userId, quotaBytes) => ctx.sys.mimei.storage.admit(userArg('UserAdmit', userId), quotaBytes ?? null),
  }),
  syscall<[string]>({
    name: 'UserRemove',
    sid: true,
    params: [{ name: 'userId', type: 'string', doc: 'the user' }],
    returns: 'true if they were admitted',
    returnsType: 'boolean',
    capability: 'node.admin',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc: 'Takes away the right to store data here: later writes charged to the user are refused. What they stored stays until deleted.',
    handler: (ctx, userId) => ctx.sys.mimei.storage.remove(userArg('UserRemove', userId)),
  }),
  syscall<[]>({
    name: 'UserList',
    sid: true,
    params: [],
    returns: `list of ${USAGE}`,
    returnsType: 'StoredUser[]',
    capability: 'node.admin',
    errors: ['PermissionDenied'],
    doc: 'The owner, the admitted users and anyone else with data here, each with what they store and their quota.',
    handler: (ctx) => ctx.sys.mimei.storage.list(),
  }),
  syscall<[string, number | undefined]>({
    name: 'UserRevoke',
    sid: true,
    params: [
      { name: 'userId', type: 'string', doc: 'the user to revoke' },
      { name: 'before', type: 'int', optional: true, doc: 'unix seconds: passports issued (NotBefore) before it are refused (default: now, this second included)' },
    ],
    returns: '{sessions, before}: sessions ended, and the time before which the user\'s passports are refused',
    returnsType: '{ sessions: number; before: number }',
    capability: 'node.admin',
    errors: ['InvalidParams', 'PermissionDenied'],
    doc:
      "Ends every session of a user on this node and refuses their passports issued before `before`, across restarts: " +
      'for a lost key or a leaked passport. The user logs in again with a passport signed after that time. ' +
      'A later revocation can only move the time forward.',
    handler(ctx, userId, before) {
      const user = userArg('UserRevoke', userId)
      const now = Math.floor(Date.now() / 1000)
      if (before !== undefined && before > now + FUTURE_SLACK_SEC) {
        throw new InvalidParams('UserRevoke: before may not be in the future: it names a time after which passports are trusted again')
      }
      if (before !== undefined && before < 0) throw new InvalidParams('UserRevoke: before must be unix seconds >= 0')
      const sessions = ctx.sys.sessions.revokeUser(user, before)
      return { sessions, before: ctx.sys.sessions.revokedBefore(user) ?? before }
    },
  }),
]
