// The node the mimei family's tests share in one file: a kernel with the owner, alice and bob logged in.
import { afterAll, beforeAll } from 'bun:test'
import { generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import type { MiMeiInfo } from '../../runtime/rpc/browser/types.ts'
import { bootTest, callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'

export const alice = generateKeyPair()
export const bob = generateKeyPair()

export let node: TestKernel
export let ownerSid: string
export let aliceSid: string
export let bobSid: string

export async function login(kernel: TestKernel, key?: KeyPair): Promise<string> {
  return ((await callLocal(kernel, 'Login', loginPassport(kernel, key))) as { sid: string }).sid
}

/** Boots the file's node before its tests and stops it after them. */
export function useMiMeiNode(): void {
  beforeAll(async () => {
    node = await bootTest()
    ownerSid = await login(node)
    aliceSid = await login(node, alice)
    bobSid = await login(node, bob)
  })
  afterAll(() => node[Symbol.asyncDispose]())
}

export const call = (name: string, ...args: unknown[]) => callLocal(node, name, ...args)

/** A fresh database MiMei of alice's with a handle on cur. */
export async function aliceDb(right = 0): Promise<{ mid: string; h: string }> {
  const mid = (await call('MMCreate', aliceSid, 'test', 'db', '{{auto}}', 2, right)) as string
  return { mid, h: (await call('MMOpen', aliceSid, mid)) as string }
}

/** GetVar mminfo: what MMList shows, with the rights. */
export interface Info extends MiMeiInfo {
  rights: Record<string, number>
  yourRights: string[]
}
export const info = async (sid: string, mid: string) => (await call('GetVar', sid, 'mminfo', mid)) as Info

export interface Versions {
  mid: string
  last: number | null
  release: number | null
  curSeq: number
  versions: { ver: number; cid: string; memo: string; created: number; seq: number; size: number }[]
}
export const versions = async (mid: string) => (await call('GetVar', aliceSid, 'mmversions', mid)) as Versions
