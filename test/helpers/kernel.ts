// Test helpers for in-process nodes: boot on 127.0.0.1 port 0 in a temp dir, log in with passports.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { boot, type Kernel } from '../../runtime/boot.ts'
import type { Config } from '../../runtime/config/index.ts'
import { findUserKey, signPassport, type KeyPair } from '../../runtime/identity/index.ts'
import { tempDir } from './node.ts'

export interface TestKernel extends Kernel, AsyncDisposable {}

/** Boots a node in-process; disposing it stops the node and removes its data dir (unless kept). */
export async function bootTest(overrides: Partial<Config> = {}, dataDir?: string): Promise<TestKernel> {
  const dir = dataDir ?? tempDir()
  // Offline unless a test asks for the network; then on loopback, any port, no mDNS multicast.
  const kernel = await boot({
    dataDir: dir,
    // storageOpen: tests log in with fresh keys as users; test/security/storage.test.ts checks the default.
    overrides: { port: 0, host: '127.0.0.1', p2pHost: '127.0.0.1', logLevel: 'warn', p2p: false, p2pPort: 0, mdns: false, dhtServer: 'always', storageOpen: true, ...overrides },
    logToStderr: false,
  })
  return Object.assign(kernel, {
    [Symbol.asyncDispose]: async () => {
      await kernel.stop()
      if (!dataDir) rmSync(dir, { recursive: true, force: true })
    },
  }) as TestKernel
}

export function ownerKey(kernel: Kernel): KeyPair {
  return findUserKey(kernel.dataDir, kernel.config.owner, () => {})
}

/** A login passport for `kernel` signed by `key` (the owner's unless given). */
export function loginPassport(kernel: Kernel, key: KeyPair = ownerKey(kernel), ttl = 600): string {
  return signPassport(key, { audience: kernel.identity.nodeId, data: { CertFor: 'Self' }, ttl })
}

/** Calls a syscall in-process through the dispatcher, as the transports do. */
export function callLocal(kernel: Kernel, name: string, ...args: unknown[]): Promise<unknown> {
  return kernel.dispatcher.call(name, args, { transport: 'local' })
}

/** Awaits a call that must fail, and returns its wire text (`Code: message`) for assertions. */
export async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    return typeof (err as { wireText?: unknown }).wireText === 'function' ? (err as { wireText(): string }).wireText() : String((err as Error).message)
  }
  throw new Error('expected the call to fail, but it succeeded')
}

/** Hands a user key made in another keys dir (`createUserKey(from, …)`) to a node after boot, as its owner would copy the file. */
export function giveUserKey(from: string, userId: string, kernel: Kernel): void {
  mkdirSync(join(kernel.dataDir, 'keys', 'users'), { recursive: true, mode: 0o700 })
  copyFileSync(join(from, 'keys', 'users', `${userId}.key`), join(kernel.dataDir, 'keys', 'users', `${userId}.key`))
}

/** Names the notaries of the coin (`coinNotaries`) on every node of `nodes`, after boot: all of them unless `notaries` is given. */
export function setNotaries(nodes: readonly Kernel[], notaries: readonly Kernel[] = nodes): void {
  for (const n of nodes) n.config.coinNotaries = notaries.map((x) => x.identity.nodeId)
}
