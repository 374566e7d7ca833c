// Every syscall family, in the order the docs and the function list show them.
import type { SyscallRow } from './row.ts'
import { DB_SYSCALLS } from './db.ts'
import { FILE_SYSCALLS } from './file.ts'
import { MIMEI_SYSCALLS } from './mimei.ts'
import { MSG_SYSCALLS } from './msg.ts'
import { NET_SYSCALLS } from './net.ts'
import { REPLICATION_SYSCALLS } from './replication.ts'
import { SYS_SYSCALLS } from './sys.ts'
import { USER_SYSCALLS } from './user.ts'
import { USERS_SYSCALLS } from './users.ts'
import { APP_SYSCALLS } from './app.ts'
import { GRANT_SYSCALLS } from './grants.ts'
import { COIN_SYSCALLS } from './coin.ts'
import { APPDATA_SYSCALLS } from './appdata.ts'
import { FAMILY_APP_ACCESS } from '../runtime/permissions/app-capabilities.ts'

/**
 * A row as the kernel uses it: with what an app's session needs to call it (the row's own `app`,
 * else its family's default; owner-only rows are never open to apps).
 */
function withAppAccess(family: string, rows: readonly SyscallRow[]): SyscallRow[] {
  return rows.map((row) => (row.app ? row : { ...row, app: row.capability === 'node.admin' ? 'never' : (FAMILY_APP_ACCESS[family] ?? 'never') }))
}

/** One entry per family: its name (the docs' heading) and its table. Add a family here. */
export const SYSCALL_FAMILIES: readonly { readonly name: string; readonly rows: readonly SyscallRow[] }[] = [
  { name: 'user', rows: USER_SYSCALLS },
  { name: 'users', rows: USERS_SYSCALLS },
  { name: 'sys', rows: SYS_SYSCALLS },
  { name: 'mimei', rows: MIMEI_SYSCALLS },
  { name: 'file', rows: FILE_SYSCALLS },
  { name: 'db', rows: DB_SYSCALLS },
  { name: 'replication', rows: REPLICATION_SYSCALLS },
  { name: 'net', rows: NET_SYSCALLS },
  { name: 'msg', rows: MSG_SYSCALLS },
  { name: 'app', rows: APP_SYSCALLS },
  { name: 'grants', rows: GRANT_SYSCALLS },
  { name: 'coin', rows: COIN_SYSCALLS },
  { name: 'appdata', rows: APPDATA_SYSCALLS },
].map((f) => ({ name: f.name, rows: withAppAccess(f.name, f.rows) }))

export const SYSCALL_TABLES: readonly (readonly SyscallRow[])[] = SYSCALL_FAMILIES.map((f) => f.rows)
