// Who holds which rights on a MiMei (mimei_rights), granting them, and what open handles do when
// rights change or a session ends. The bits themselves are in rights.ts.
import type { Database } from 'bun:sqlite'
import { InvalidParams, PermissionDenied } from '../errors.ts'
import { isOwnerOrSystem, type Grant, type HandleAccess, type Principal } from '../permissions/index.ts'
import type { HandleTable } from './handles.ts'
import type { MiMeiRow } from './model.ts'
import { ALL_RIGHTS, EVERYONE_MASK, requireRight, Right, type RightName } from './rights.ts'

export interface AccessHost {
  readonly db: Database
  readonly handles: HandleTable
  row(mid: string): MiMeiRow
  /** The data space an app's MiMei are named under (its id, or its namespace). */
  dataSpace(app: string): string
  /** Closes the file handles matching `match`, telling their users `because`. */
  closeFileHandles(match: (mid: string | undefined, owner: Principal) => boolean, because: string): number
}

export class Access {
  /** Bumped whenever any rights change: handles re-read theirs on next use. */
  private epoch = 0

  constructor(private readonly host: AccessHost) {}

  get rightsEpoch(): number {
    return this.epoch
  }

  /** The rights bits `who` holds on the MiMei. Guests read at most: they never store. */
  rightsOf(row: MiMeiRow, who: Principal): number {
    const { db, dataSpace } = this.host
    const get = db.query('SELECT bits FROM mimei_rights WHERE m = ? AND member = ?')
    // An app's session holds its user's rights on the app's own MiMei only; elsewhere it reads what everyone may.
    if (who.app && row.app !== who.app && row.app !== dataSpace(who.app)) return ((get.get(row.id, '') as { bits: number } | null)?.bits ?? 0) & Right.read
    if (isOwnerOrSystem(who) || (who.userId && who.userId === row.author)) return ALL_RIGHTS
    const everyone = get.get(row.id, '') as { bits: number } | null
    if (!who.userId) return (everyone?.bits ?? 0) & Right.read
    const own = get.get(row.id, who.userId) as { bits: number } | null
    return (own?.bits ?? 0) | ((everyone?.bits ?? 0) & EVERYONE_MASK)
  }

  require(row: MiMeiRow, who: Grant, need: RightName): void {
    requireRight(this.rightsOf(row, who), need, who.userId, row.mid)
  }

  setRight(who: Grant, mid: string, member: string, bits: number): number {
    const { db, handles } = this.host
    const row = this.host.row(mid)
    this.require(row, who, 'admin')
    if (!Number.isSafeInteger(bits) || bits < 0) throw new InvalidParams('rights must be a non-negative integer')
    const clean = bits & (member === '' ? EVERYONE_MASK : ALL_RIGHTS)
    if (clean === 0) db.query('DELETE FROM mimei_rights WHERE m = ? AND member = ?').run(row.id, member)
    else db.query('INSERT INTO mimei_rights (m, member, bits) VALUES (?, ?, ?) ON CONFLICT (m, member) DO UPDATE SET bits = excluded.bits').run(row.id, member, clean)
    this.rightsChanged()
    // Handles that lost the read right close now; lost write rights are refused on next use.
    const lost = (owner: Principal) => (this.rightsOf(row, owner) & Right.read) === 0
    const because = `the read right on MiMei ${mid} was taken away; this handle was closed`
    handles.closeWhere((h) => h.m === row.id && lost(h.owner), because)
    this.host.closeFileHandles((m, owner) => m === row.mid && lost(owner), because)
    return clean
  }

  getRight(who: Grant, mid: string, member: string): number {
    const row = this.host.row(mid)
    this.require(row, who, 'read')
    // "" is everyone: what every logged-in user holds (guests of those only read).
    if (member === '') return ((this.host.db.query("SELECT bits FROM mimei_rights WHERE m = ? AND member = ''").get(row.id) as { bits: number } | null)?.bits ?? 0) & EVERYONE_MASK
    return this.rightsOf(row, { userId: member, kind: 'user', sid: '' })
  }

  /** Every open handle re-reads its rights on next use (cheap: one number compared per call). */
  rightsChanged(): void {
    this.epoch++
  }

  /**
   * The rights `owner` holds on MiMei `mid`, re-read only when rights changed since `cached`
   * (permissions/ calls this on every handle use).
   */
  currentRights(mid: string, owner: Principal, cached: { rights: number; epoch: number }): number {
    if (cached.epoch !== this.epoch) {
      cached.rights = this.rightsOf(this.host.row(mid), owner)
      cached.epoch = this.epoch
    }
    return cached.rights
  }

  /** Checks a MiMei handle for `access` and returns its opener (the resolver of permissions/). */
  checkHandle(id: unknown, access: HandleAccess): Principal {
    const { handles } = this.host
    const h = handles.get(id as string)
    const bits = this.currentRights(h.mid, h.owner, h)
    if ((bits & Right.read) === 0) {
      handles.close(h.id)
      requireRight(bits, 'read', h.owner.userId, h.mid)
    }
    if (access === 'write') {
      if (h.ver !== 'cur') throw new PermissionDenied(`version ${h.ver} of MiMei ${h.mid} is read-only; open "cur" to write`)
      requireRight(bits, 'write', h.owner.userId, h.mid)
    }
    return h.owner
  }

  /** Closes the handles a principal opened: all of a user's, or one session's. */
  closeHandlesOf(ended: { userId: string; sid?: string; app?: string }): number {
    const match = (owner: Principal) =>
      ended.sid ? owner.sid === ended.sid : ended.app ? owner.app === ended.app : owner.userId === ended.userId && owner.kind !== 'guest'
    const because = 'the session that opened this handle has ended; log in again and reopen it'
    return this.host.handles.closeWhere((h) => match(h.owner), because) + this.host.closeFileHandles((_mid, owner) => match(owner), because)
  }
}
