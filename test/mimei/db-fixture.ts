// The node the db family's tests share in one file: a kernel with the owner logged in, and fresh database MiMei on it.
import { afterAll, beforeAll } from 'bun:test'
import { bootTest, callLocal, loginPassport, type TestKernel } from '../helpers/kernel.ts'

export let node: TestKernel
export let sid: string

/** Boots the file's node before its tests and stops it after them. */
export function useDbNode(): void {
  beforeAll(async () => {
    node = await bootTest()
    sid = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
  })
  afterAll(() => node[Symbol.asyncDispose]())
}

export const call = (name: string, ...args: unknown[]) => callLocal(node, name, ...args)

export type Db = ((name: string, ...args: unknown[]) => Promise<any>) & { h: string; mid: string }

/** A new, empty database MiMei; the result calls db syscalls on a handle of its cur. */
export async function fresh(): Promise<Db> {
  const mid = (await call('MMCreate', sid, 'dbtest', 'db', '{{auto}}', 2)) as string
  return open(mid)
}
export async function open(mid: string): Promise<Db> {
  const h = (await call('MMOpen', sid, mid)) as string
  return Object.assign((name: string, ...args: unknown[]) => call(name, h, ...args) as Promise<any>, { h, mid })
}

export const TWO_53 = 2n ** 53n
