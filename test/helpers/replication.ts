// Test helpers for MiMei across nodes: the owner's session, polling off, and waiting for a synced version.
import { afterEach } from 'bun:test'
import type { SyncResult } from '../../runtime/net/sync.ts'
import { bootTest, callLocal, loginPassport, type TestKernel } from './kernel.ts'

export const ownerSid = async (k: TestKernel) => ((await callLocal(k, 'Login', loginPassport(k))) as { sid: string }).sid

/**
 * Turns off the replicas' 30 s poll for newer records, so a version that reaches them came by
 * gossip (or the catch-up after a start) — a test that claims live following proves it then.
 */
export function gossipOnly(...nodes: TestKernel[]): void {
  for (const k of nodes) k.replication!.setPollInterval(0)
}

/** Child processes get the same through the environment. */
export const GOSSIP_ONLY_ENV = { LEITHER_REPLICA_POLL_MS: '0' }

/**
 * Resolves with the sync result when `k` installs version `ver` (or newer) of `mid`; rejects after
 * `timeoutMs`, well under the poll interval, so a version that would only arrive by polling fails.
 */
export function synced(k: TestKernel, mid: string, ver: number, timeoutMs = 20_000): Promise<SyncResult> {
  return new Promise((resolve, reject) => {
    const events = k.replication!.events
    const timer = setTimeout(() => {
      events.removeEventListener('synced', on)
      reject(new Error(`version ${ver} of ${mid} did not reach node ${k.identity.peerId} within ${timeoutMs} ms`))
    }, timeoutMs)
    const on = (e: Event) => {
      const r = (e as CustomEvent<SyncResult>).detail
      if (r.mid === mid && r.ver >= ver) {
        events.removeEventListener('synced', on)
        clearTimeout(timer)
        resolve(r)
      }
    }
    events.addEventListener('synced', on)
  })
}

/**
 * For a test file: boots nodes with p2p on and the replica poll off (`gossipOnly`), every one of
 * them stopped after each test. Call it once at the top of the file.
 */
export function gossipOnlyNodes(): (overrides?: Record<string, unknown>, dataDir?: string) => Promise<TestKernel> {
  const nodes: TestKernel[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })
  return async (overrides = {}, dataDir) => {
    const k = await bootTest({ p2p: true, ...overrides }, dataDir)
    nodes.push(k)
    gossipOnly(k)
    return k
  }
}

/** Resolves when `k` has at least `n` peers that identify told it about (their protocols known). */
export async function connected(k: TestKernel, n: number): Promise<void> {
  const libp2p = k.net!.libp2p
  await new Promise<void>((resolve) => {
    const check = () => {
      if (libp2p.getPeers().length < n) return
      libp2p.removeEventListener('peer:identify', check)
      resolve()
    }
    libp2p.addEventListener('peer:identify', check)
    check()
  })
}
