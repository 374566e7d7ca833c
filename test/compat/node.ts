// A real node for a compat test file: booted in-process on 127.0.0.1:0 with a temp data dir, stopped after.
import { afterAll, beforeAll } from 'bun:test'
import type { Kernel } from '../../runtime/boot.ts'
import type { Config } from '../../runtime/config/index.ts'
import type { KeyPair } from '../../runtime/identity/index.ts'
import { type TestKernel, bootTest, loginPassport, ownerKey } from '../helpers/kernel.ts'

/**
 * The time zone the suite runs in. JS clients write dates in local time (`;`, docs/hprose.md §6) and
 * the node reads them in its own, which is the test's (same process). A zone off UTC by a
 * half hour makes a node that read `;` as UTC shift every date, so the date cases would catch it.
 */
export const COMPAT_TZ = 'Asia/Kolkata'

export type Endpoint = 'http' | 'ws' | 'ws3'

export interface CompatNode {
  readonly kernel: Kernel
  /** http://127.0.0.1:port */
  readonly url: string
  /** Full URL of an Hprose endpoint: POST /webapi/, WebSocket /ws/ or /ws3/. */
  endpoint(kind: Endpoint): string
  /** The owner's key, as held in the node's data dir. */
  readonly owner: KeyPair
  /** A fresh login passport of the owner for this node (CertFor=Self, audience = node id). */
  ownerPassport(): string
}

/** Registers beforeAll/afterAll that boot and stop one node; call the result inside tests. */
export function useNode(overrides: Partial<Config> = {}): () => CompatNode {
  let node: CompatNode | undefined
  let kernel: TestKernel | undefined
  let savedTZ: string | undefined

  beforeAll(async () => {
    savedTZ = process.env.TZ
    process.env.TZ = COMPAT_TZ
    const booted = (kernel = await bootTest(overrides))
    const url = booted.url
    node = {
      kernel: booted,
      url,
      endpoint: (kind) => (kind === 'http' ? `${url}/webapi/` : `${url.replace(/^http/, 'ws')}/${kind}/`),
      owner: ownerKey(booted),
      ownerPassport: () => loginPassport(booted),
    }
  })

  afterAll(async () => {
    node = undefined
    await kernel?.[Symbol.asyncDispose]()
    kernel = undefined
    if (savedTZ === undefined) delete process.env.TZ
    else process.env.TZ = savedTZ
  })

  return () => {
    if (!node) throw new Error('the node is not booted (use it inside a test)')
    return node
  }
}
