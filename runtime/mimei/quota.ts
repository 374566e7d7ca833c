// Quotas of MiMei writes: the gate every database write, version and replica passes (who pays,
// the payer's quota, the app's quota, the node's size limit; runtime/mimei/storage.ts keeps the counts).
import type { Database } from 'bun:sqlite'
import type { Config } from '../config/index.ts'
import { QuotaExceeded } from '../errors.ts'
import type { Handle } from './handles.ts'
import type { MiMeiRow } from './model.ts'
import type { Storage } from './storage.ts'

export interface QuotaHost {
  readonly db: Database
  readonly config: Pick<Config, 'quotaAppBytes' | 'storageMaxBytes'>
  readonly storage: Pick<Storage, 'charge' | 'quotaOf'>
  row(mid: string): MiMeiRow
}

export class Quotas {
  constructor(private readonly host: QuotaHost) {}

  /**
   * Refuses a replica of `size` bytes for `payer` before any byte of it is fetched (the sync
   * calls this with the signed size of the version it is about to fetch).
   */
  admitReplica(mid: string, payer: string, size: number): void {
    const row = this.host.db.query('SELECT charge_to, author, bytes FROM mimei WHERE mid = ?').get(mid) as { charge_to: string | null; author: string; bytes: number } | null
    this.host.storage.charge(row ? (row.charge_to ?? row.author) : payer, row ? size + Math.max(0, size - row.bytes) : 2 * size)
  }

  /**
   * The gate of a database write through handle `h`. Without limits that need sizes, the exact
   * size is not computed (only who may store and the disk floor are checked): `size` is lazy.
   */
  chargeWrite(h: Handle, size: () => number): void {
    if (!this.quotasApply(h.payer)) return this.host.storage.charge(h.payer, 1)
    const n = size()
    if (n > 0) this.checkQuota(this.host.row(h.mid), n)
  }

  /** Whether a write paid by `payer` must be sized: an app quota, the node's size limit or the payer's quota applies. */
  quotasApply(payer: string): boolean {
    const { config } = this.host
    return config.quotaAppBytes > 0 || config.storageMaxBytes > 0 || this.host.storage.quotaOf(payer) > 0
  }

  /** Refuses a write of `incoming` bytes that would take the payer or the app past its quota. */
  checkQuota(row: MiMeiRow, incoming: number): void {
    this.host.storage.charge(row.charge_to ?? row.author, incoming)
    const { quotaAppBytes } = this.host.config
    if (quotaAppBytes > 0 && incoming > 0) {
      const used = (this.host.db.query('SELECT coalesce(sum(bytes), 0) AS n FROM mimei WHERE app = ?').get(row.app) as { n: number }).n
      if (used + incoming > quotaAppBytes) {
        throw new QuotaExceeded(`app ${row.app || '(none)'} would use ${used + incoming} of ${quotaAppBytes} bytes; delete data or raise quotaAppBytes`)
      }
    }
  }
}
