// What a syscall handler receives: the kernel's services (handed over by boot, never imported) and the call's facts.
import type { Config } from '../runtime/config/index.ts'
import type { Identity } from '../runtime/identity/index.ts'
import type { Logger } from '../runtime/log/index.ts'
import type { Sessions } from '../runtime/sessions/index.ts'
import type { Store } from '../runtime/store/index.ts'
import type { VarTable } from '../runtime/vars.ts'
import type { MiMeiStore } from '../runtime/mimei/index.ts'
import type { Replication } from '../runtime/net/replication.ts'
import type { Net } from '../runtime/net/index.ts'
import type { Messages } from '../runtime/msg/index.ts'
import type { Apps } from '../runtime/apps/installer.ts'
import type { Grant, Permissions } from '../runtime/permissions/index.ts'
import type { Monitor } from '../runtime/monitor/index.ts'
import type { Ledger } from '../runtime/ledger/index.ts'
import type { CallMeta } from '../runtime/rpc/protocol.ts'

/** Kernel services a handler may use; handed over by boot, never imported. */
export interface Services {
  readonly dataDir: string
  readonly config: Config
  readonly log: Logger
  readonly identity: Identity
  readonly store: Store
  readonly sessions: Sessions
  /** Sids and handles → Grants; audits denials. */
  readonly permissions: Permissions
  readonly mimei: MiMeiStore
  /** MiMei across nodes; undefined on an offline node. */
  readonly replication?: Replication
  /** The libp2p node (swarm, DHT); undefined on an offline node. */
  readonly net?: Net
  /** Messages and app pubsub (works offline for recipients on this node). */
  readonly messages: Messages
  /** Installed apps: packages, install and uninstall. */
  readonly apps: Apps
  /** Variables readable by anyone (also served at /getvar). */
  readonly publicVars: () => VarTable
  /** Counts and latencies of every syscall and HTTP route (the dispatcher records each call here). */
  readonly monitor: Monitor
  /** The coin ledger: accounts, transfers, notarization. */
  readonly ledger: Ledger
}

export interface CallContext {
  readonly grant: Grant
  readonly sys: Services
  readonly meta: CallMeta
}
