// Child of fuzz-found.test.ts: boots a node, stores one value that could freeze it, prints the error text.
//   bun fuzz-found-child.ts branching-cycle | doubling | zadd-bytes
import { bootTest, callLocal, failure, loginPassport } from '../helpers/kernel.ts'

const CASES: Record<string, () => [string, unknown]> = {
  /** A set member that holds itself twice over: a tree walk of it doubles at every level. */
  'branching-cycle': () => {
    const list: unknown[] = [1]
    list.push(list, { back: list })
    return ['Sadd', list]
  },
  /** 40 levels of [x, x]: a few hundred bytes on the wire, 2^40 elements once expanded. */
  /** A score pair that is 16 MiB of bytes: walking it as an object made 16M entries (seconds, gigabytes). */
  'zadd-bytes': () => ['Zadd', new Uint8Array(16 << 20).fill(7)],
  doubling: () => {
    let v: unknown = ['leaf']
    for (let i = 0; i < 40; i++) v = [v, v]
    return ['Set', v]
  },
}

const make = CASES[process.argv[2] ?? '']
if (!make) throw new Error(`no case ${process.argv[2]}; cases: ${Object.keys(CASES).join(', ')}`)
const [call, value] = make()
const node = await bootTest()
const sid = ((await callLocal(node, 'Login', loginPassport(node))) as { sid: string }).sid
const mid = (await callLocal(node, 'MMCreate', sid, 'fuzz', 'db', 'child', 2)) as string
const handle = (await callLocal(node, 'MMOpen', sid, mid)) as string
console.log(await failure(callLocal(node, call, handle, 'k', value)))
await node[Symbol.asyncDispose]()
