// Co-signature requests to one notary, batched: while a request to it is in flight, the next ones
// wait and then go together in one (op cosigns), so many accounts sending at once cost a stream per
// round trip to each notary instead of one per block.
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Block } from './block.ts'
import { askCosign, askCosigns, COSIGN_BATCH, type FinalBlock } from './proto.ts'

interface Item {
  b: Block
  deps: FinalBlock[]
  resolve: (sig: Uint8Array) => void
  reject: (err: Error) => void
}

export type AskCosign = (peer: PeerId, b: Block, deps: FinalBlock[]) => Promise<Uint8Array>

export function cosignBatcher(libp2p: () => Libp2p): AskCosign {
  const queues = new Map<string, { peer: PeerId; waiting: Item[]; busy: boolean }>()

  async function flush(key: string): Promise<void> {
    const q = queues.get(key)
    if (!q || q.busy || !q.waiting.length) return
    q.busy = true
    const items = q.waiting.splice(0, COSIGN_BATCH)
    try {
      if (items.length === 1) {
        items[0]!.resolve(await askCosign(libp2p(), q.peer, items[0]!.b, items[0]!.deps))
      } else {
        const answers = await askCosigns(libp2p(), q.peer, items)
        answers.forEach((a, i) => (a.sig ? items[i]!.resolve(a.sig) : items[i]!.reject(new Error(a.error ?? 'refused'))))
      }
    } catch (err) {
      for (const it of items) it.reject(err instanceof Error ? err : new Error('the stream ended'))
    } finally {
      q.busy = false
      if (q.waiting.length) void flush(key)
      else queues.delete(key)
    }
  }

  return (peer, b, deps) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const key = peer.toString()
      let q = queues.get(key)
      if (!q) queues.set(key, (q = { peer, waiting: [], busy: false }))
      q.waiting.push({ b, deps, resolve, reject })
      void flush(key)
    })
}
