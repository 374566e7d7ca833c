// Test helpers for MiMei across nodes: the owner's session, and waiting for a synced version.
import type { SyncResult } from '../../runtime/net/sync.ts'
import { callLocal, loginPassport, type TestKernel } from './kernel.ts'

export const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

/** Resolves with the sync result when `k` installs version `ver` (or newer) of `mid`. */
export function synced(k: TestKernel, mid: string, ver: number): Promise<SyncResult> {
  return new Promise((resolve) => {
    const on = (e: Event) => {
      const r = (e as CustomEvent<SyncResult>).detail
      if (r.mid === mid && r.ver >= ver) {
        k.replication!.events.removeEventListener('synced', on)
        resolve(r)
      }
    }
    k.replication!.events.addEventListener('synced', on)
  })
}
