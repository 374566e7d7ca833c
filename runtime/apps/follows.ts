// Following a user's app data area: while any user of this node follows her in an app, the node
// provides (replicates) her public area of the app's data space, so it stays readable here while
// her node is offline; when the last follower here stops, the node stops providing it.
//
// Only areas a user's node published can be synced (the sync checks the author's signed record),
// so what a follower makes this node hold is public already: the replica is made readable to
// everyone on this node, as the author made it on hers. A user follows at most MAX_FOLLOWS areas.
import { InvalidParams, PermissionDenied, QuotaExceeded } from '../errors.ts'
import type { Logger } from '../log/index.ts'
import { mimeiId, type MiMeiStore } from '../mimei/index.ts'
import { Right } from '../mimei/rights.ts'
import type { Replication } from '../net/replication.ts'
import type { Grant } from '../permissions/index.ts'
import { isKeyId } from '../identity/keys.ts'

export const MAX_FOLLOWS = 5000
const PREFIX = 'areafollow:'

export interface FollowResult {
  mid: string
  following: boolean
  /** Users of this node following the area now. */
  followers: number
  /** Whether this node provides it (false on an offline node). */
  provided: boolean
}

export class AreaFollows {
  constructor(
    private readonly mimei: MiMeiStore,
    private readonly replication: Replication | undefined,
    private readonly system: Grant,
    private readonly log: Logger,
  ) {
    // A replica that arrives later (the author was away at the first try) is made readable then.
    replication?.events.addEventListener('synced', (e) => {
      const mid = (e as CustomEvent<{ mid: string }>).detail?.mid
      if (mid && this.count(mid) > 0) this.readable(mid)
    })
  }

  private get db() {
    return this.mimei.db
  }

  /** The user-scope area of `user` in the data space of `app` (the caller's app for an app session). */
  areaOf(who: Grant, app: string, user: string): string {
    if (!isKeyId(user)) throw new InvalidParams(`"${String(user).slice(0, 40)}" is not a user id (27 base64url characters)`)
    const space = this.mimei.dataSpace(app)
    if (who.app && space !== this.mimei.dataSpace(who.app)) throw new PermissionDenied(`an app follows areas of its own data only: pass appid "${who.app}"`)
    return mimeiId(user, space, 'appdata', 'user')
  }

  count(mid: string): number {
    return (this.db.query('SELECT count(*) AS n FROM meta WHERE key LIKE ?').get(`${PREFIX}${mid}:%`) as { n: number }).n
  }

  /** The areas a user follows here. */
  list(who: Grant): string[] {
    const rows = this.db.query('SELECT key FROM meta WHERE key LIKE ? AND value = ?').all(`${PREFIX}%`, who.userId) as { key: string }[]
    return rows.map((r) => r.key.slice(PREFIX.length, PREFIX.length + 27))
  }

  async set(who: Grant, app: string, user: string, on: boolean): Promise<FollowResult> {
    if (!who.userId) throw new InvalidParams('following needs a session; log in first')
    const mid = this.areaOf(who, app, user)
    const key = `${PREFIX}${mid}:${who.userId}`
    if (user === who.userId) return { mid, following: false, followers: this.count(mid), provided: false }
    if (on) {
      const mine = (this.db.query('SELECT count(*) AS n FROM meta WHERE key LIKE ? AND value = ?').get(`${PREFIX}%`, who.userId) as { n: number }).n
      const had = this.db.query('SELECT 1 FROM meta WHERE key = ?').get(key)
      if (!had && mine >= MAX_FOLLOWS) throw new QuotaExceeded(`a user follows at most ${MAX_FOLLOWS} areas on this node; unfollow some first`)
      this.db.query('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, who.userId)
      // The author's own MiMei here (not a replica) is hers to share or keep private: left as it is.
      if (!this.replication || this.authoredHere(mid)) return { mid, following: true, followers: this.count(mid), provided: false }
      // The first sync may wait for a node that is away: it runs on, and retries, without the caller.
      this.replication
        .provide(this.system, mid)
        .then((r) => {
          if ('error' in r) this.log.info('followed area not synced yet', { mid, error: r.error })
          else this.readable(mid)
        })
        .catch((err) => this.log.info('providing a followed area failed', { mid, error: (err as Error).message }))
      return { mid, following: true, followers: this.count(mid), provided: true }
    }
    this.db.query('DELETE FROM meta WHERE key = ?').run(key)
    const left = this.count(mid)
    if (left === 0 && this.replication && !this.authoredHere(mid)) await this.replication.unprovide(this.system, mid)
    return { mid, following: false, followers: left, provided: left > 0 && !!this.replication }
  }

  /** True when the MiMei was made on this node by its author (a replica is charged to whoever asked for it). */
  private authoredHere(mid: string): boolean {
    const row = this.db.query('SELECT author, charge_to FROM mimei WHERE mid = ?').get(mid) as { author: string; charge_to: string | null } | null
    return !!row && row.charge_to === null
  }

  /** Everyone on this node may read a followed replica (it is public on the network). */
  private readable(mid: string): void {
    if (this.authoredHere(mid)) return
    try {
      const row = this.mimei.row(mid)
      if ((this.mimei.rightsOf(row, { userId: '', kind: 'guest', sid: '' }) & Right.read) === 0) this.mimei.setRight(this.system, mid, '', Right.read)
    } catch (err) {
      this.log.info('a followed area could not be made readable', { mid, error: (err as Error).message })
    }
  }
}
