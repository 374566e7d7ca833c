// Every syscall family, in the order the docs and the function list show them.
import type { SyscallRow } from '../runtime/rpc/syscall.ts'
import { DB_SYSCALLS } from './db.ts'
import { FILE_SYSCALLS } from './file.ts'
import { MIMEI_SYSCALLS } from './mimei.ts'
import { MSG_SYSCALLS } from './msg.ts'
import { NET_SYSCALLS } from './net.ts'
import { REPLICATION_SYSCALLS } from './replication.ts'
import { SYS_SYSCALLS } from './sys.ts'
import { USER_SYSCALLS } from './user.ts'
import { USERS_SYSCALLS } from './users.ts'

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
]

export const SYSCALL_TABLES: readonly (readonly SyscallRow[])[] = SYSCALL_FAMILIES.map((f) => f.rows)
