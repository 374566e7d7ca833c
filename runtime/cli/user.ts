// `leither user …`: the owner manages the users of a running node (revoke; admit, remove, list).
import { UsageError, type Parsed } from './args.ts'
import { withOwnerSession } from './session.ts'


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
  return withOwnerSession(p, async (s) => {
    const r = (await s.call('UserRevoke', before === undefined ? [s.sid, userId] : [s.sid, userId, before])) as { sessions: number; before: number }
    const when = new Date(r.before * 1000).toISOString()
    console.log(`revoked ${userId}: ${r.sessions} sessions ended; passports issued before ${when} refused`)
    return 0
  })
}

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 }

/** A size: bytes, or a number with a unit (500MB, 2GiB, 1.5gb). */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined
  if (!m || unit === undefined) throw new UsageError(`${flag} must be a size like 1048576, 500MB or 2GiB, got "${text}"`)
  return Math.round(Number(m[1]) * unit)
}

/** Bytes for people: 1.5 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

interface StoredUser {
  userId: string
  admitted: number
  quotaBytes: number | null
  usage: { total: number; cur: number; versions: number; mac: number; temp: number; inbox: number }
}

const quotaText = (q: number | null) => (q === null ? 'node default' : q === 0 ? 'no limit' : formatBytes(q))

export function userAdmit(p: Parsed): Promise<number> | number {
  const [userId] = p.args
  if (!userId) {
    console.error('usage: leither user admit USER [--quota SIZE]')
    return 2
  }
  let quota: number | undefined
  try {
    quota = p.flags.quota === undefined ? undefined : parseSize(String(p.flags.quota), 'leither user admit: --quota')
  } catch (err) {
    console.error((err as Error).message)
    return 2
  }
  return withOwnerSession(p, async (s) => {
    const u = (await s.call('UserAdmit', quota === undefined ? [s.sid, userId] : [s.sid, userId, quota])) as StoredUser
    console.log(`admitted ${u.userId}: may store data here (quota: ${quotaText(u.quotaBytes)}; stores ${formatBytes(u.usage.total)})`)
    return 0
  })
}

export function userRemove(p: Parsed): Promise<number> | number {
  const [userId] = p.args
  if (!userId) {
    console.error('usage: leither user remove USER')
    return 2
  }
  return withOwnerSession(p, async (s) => {
    const was = (await s.call('UserRemove', [s.sid, userId])) as boolean
    console.log(was ? `removed ${userId}: no longer stores data here (what they stored stays until deleted)` : `${userId} was not admitted; nothing changed`)
    return 0
  })
}

export function userList(p: Parsed): Promise<number> {
  return withOwnerSession(p, async (s) => {
    const users = (await s.call('UserList', [s.sid])) as StoredUser[]
    if (p.flags.json) {
      console.log(JSON.stringify(users, null, 2))
      return 0
    }
    console.log(['USER'.padEnd(28), 'ADMITTED'.padEnd(20), 'QUOTA'.padEnd(13), 'STORES'].join(' '))
    for (const u of users) {
      const admitted = u.admitted ? new Date(u.admitted * 1000).toISOString().slice(0, 19).replace('T', ' ') : '-'
      console.log([u.userId.padEnd(28), admitted.padEnd(20), quotaText(u.quotaBytes).padEnd(13), formatBytes(u.usage.total)].join(' '))
    }
    return 0
  })
}
