// `leither user …`: the owner manages the users of a running node (revoke; admit, remove, list).
import { RemoteCallError } from '../rpc/client.ts'
import { UsageError, type Parsed } from './args.ts'
import { connect, type NodeSession } from './session.ts'

/** Runs `body` with an owner session; usage errors exit 2, the node's errors 1 with its text. */
async function asOwner(p: Parsed, body: (s: NodeSession) => Promise<number>): Promise<number> {
  const session = connect(p)
  try {
    await session.login()
    return await body(session)
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message)
      return 2
    }
    console.error(err instanceof RemoteCallError ? err.message : `leither: ${(err as Error).message}`)
    return 1
  } finally {
    await session.close()
  }
}

/** A time as unix seconds: an integer, or a date the JavaScript Date parser reads (ISO 8601). */
export function parseTime(text: string, flag: string): number {
  if (/^\d+$/.test(text)) return Number(text)
  const ms = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : NaN
  if (Number.isNaN(ms)) throw new UsageError(`leither user revoke: ${flag} must be unix seconds or an ISO date like 2024-01-02T03:04:05Z, got "${text}"`)
  return Math.floor(ms / 1000)
}

export function userRevoke(p: Parsed): Promise<number> | number {
  const [userId] = p.args
  if (!userId) {
    console.error('usage: leither user revoke USER [--before TIME]')
    return 2
  }
  let before: number | undefined
  try {
    before = p.flags.before === undefined ? undefined : parseTime(String(p.flags.before), '--before')
  } catch (err) {
    console.error((err as Error).message)
    return 2
  }
  return asOwner(p, async (s) => {
    const r = (await s.call('UserRevoke', before === undefined ? [s.sid, userId] : [s.sid, userId, before])) as { sessions: number; before: number }
    const when = new Date(r.before * 1000).toISOString()
    console.log(`revoked ${userId}: ${r.sessions} sessions ended; passports issued before ${when} refused`)
    return 0
  })
}
