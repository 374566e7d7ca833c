// The data-dir lock: one running node per data dir, so two never write the same database.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { Busy } from './errors.ts'

export interface DataDirLock {
  release(): void
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else — still a live holder.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `<dataDir>/leither.lock` with O_EXCL. A lock whose holder is dead (crash, SIGKILL,
 * power loss) is stale: it is removed and taken, so a crash never needs manual clean-up.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, 'leither.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      let released = false
      return {
        release() {
          if (released) return
          released = true
          rmSync(path, { force: true })
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      let holder = NaN
      try {
        holder = Number(readFileSync(path, 'utf8').trim())
      } catch {}
      if (holder !== process.pid && alive(holder)) {
        throw new Busy(`data dir ${dataDir} is in use by another leither (pid ${holder}); stop it or use --data`)
      }
      if (holder === process.pid) throw new Busy(`data dir ${dataDir} is already open in this process`)
      rmSync(path, { force: true })
    }
  }
  throw new Busy(`could not take the lock ${path}`)
}
