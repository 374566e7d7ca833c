// Every syscall family, in the order the docs and the function list show them.
import type { SyscallRow } from '../runtime/rpc/syscall.ts'
import { DB_SYSCALLS } from './db.ts'
import { FILE_SYSCALLS } from './file.ts'
import { MIMEI_SYSCALLS } from './mimei.ts'
import { SYS_SYSCALLS } from './sys.ts'
import { USER_SYSCALLS } from './user.ts'

export const SYSCALL_TABLES: readonly (readonly SyscallRow[])[] = [USER_SYSCALLS, SYS_SYSCALLS, MIMEI_SYSCALLS, FILE_SYSCALLS, DB_SYSCALLS]
