// A hostile peer for replication tests: a bare libp2p node that serves whatever records, blocks and
// deltas a test gives it, and the blocks of a file tree that expands exponentially.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { lpStream } from '@libp2p/utils'
import { decode as decodeCbor } from 'cbor-x'
import { bunNoiseCrypto } from '../../runtime/net/crypto.ts'
import { encodeCbor } from '../../runtime/net/wire.ts'
import { BLOCK_PROTOCOL } from '../../runtime/net/blockproto.ts'
import { encodeRecord, signRecord, type VersionRecord } from '../../runtime/net/records.ts'
import { generateKeyPair, type KeyPair } from '../../runtime/identity/index.ts'
import { DAG_CBOR, cidOf } from '../../runtime/mimei/blocks.ts'
import { encode, link } from '../../runtime/mimei/files/dagcbor.ts'
import { FILE_FORMAT } from '../../runtime/mimei/files/content.ts'
import { DIR_FORMAT } from '../../runtime/mimei/files/snapshot.ts'
import { mimeiId } from '../../runtime/mimei/index.ts'

/** A plain libp2p node speaking only what a test gives it. */
export const bareNode = (): Promise<Libp2p> =>
  createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: bunNoiseCrypto })],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  }) as Promise<Libp2p>

/**
 * Serves /leither/mimei/1.0.0 (the record; `delta` answers a request for changes, as a list of
 * messages) and /leither/block (blocks from `blocks`). `sent` counts delta messages the
 * other side accepted before it stopped reading.
 */
export async function serveHostile(
  node: Libp2p,
  opts: { record?: VersionRecord; blocks?: Map<string, Uint8Array>; delta?: () => Iterable<unknown>; stallBlocks?: boolean },
): Promise<{ sent: number }> {
  const stats = { sent: 0 }
  await node.handle('/leither/mimei/1.0.0', async (stream) => {
    const io = lpStream(stream, { maxDataLength: 64 * 1024 * 1024 })
    const req = decodeCbor((await io.read()).subarray()) as { since?: number }
    try {
      if (req.since !== undefined) {
        for (const part of opts.delta?.() ?? [{ none: true }]) {
          await io.write(encodeCbor(part), { signal: AbortSignal.timeout(10_000) })
          stats.sent++
        }
      } else await io.write(encodeCbor(opts.record ? { record: encodeRecord(opts.record) } : {}))
      await stream.close()
    } catch {
      stream.abort(new Error('the other side stopped reading'))
    }
  })
  await node.handle(BLOCK_PROTOCOL.id, async (stream) => {
    const io = lpStream(stream)
    const req = decodeCbor((await io.read()).subarray()) as { cids: string[] }
    // A stalling provider never answers: the sync waits (until cancelled or timed out).
    if (opts.stallBlocks) return
    for (const cid of req.cids) {
      const data = opts.blocks?.get(cid)
      await io.write(BLOCK_PROTOCOL.frame!.encode(data ? { parts: [data], size: data.length } : { missing: true }))
    }
    await stream.close()
  })
  return stats
}

/**
 * The blocks of a file tree in which every directory lists the one below twice (names a and b):
 * `levels` directories over one file of `fileBytes` bytes, so 2^levels files, from levels + 2 blocks.
 */
export function doublingTree(levels: number, fileBytes = 1024): { root: string; blocks: Map<string, Uint8Array>; files: number; bytes: number } {
  const blocks = new Map<string, Uint8Array>()
  const put = (bytes: Uint8Array, codec?: number) => {
    const cid = cidOf(bytes, codec)
    blocks.set(cid, bytes)
    return cid
  }
  const chunk = put(new Uint8Array(fileBytes).fill(7))
  let cid = put(encode({ size: fileBytes, chunks: [link(chunk)], format: FILE_FORMAT }), DAG_CBOR)
  let kind = 0
  let size = fileBytes
  for (let i = 0; i < levels; i++) {
    cid = put(encode({ format: DIR_FORMAT, entries: [['a', kind, link(cid), size], ['b', kind, link(cid), size]] }), DAG_CBOR)
    kind = 1
    size = 0
  }
  return { root: cid, blocks, files: 2 ** levels, bytes: 2 ** levels * fileBytes }
}

/** A MiMei of a fresh author, and that author's signed record of version `ver` with these facts. */
export function authorRecord(facts: { type: number; cid: string; size: number; ver?: number; seq?: number }, author: KeyPair = generateKeyPair()) {
  const [app, ext, mark] = ['hostile', 'files', 'x']
  const mid = mimeiId(author.id, app, ext, mark)
  const record = signRecord(author, { mid, app, ext, mark, type: facts.type, ver: facts.ver ?? 1, cid: facts.cid, seq: facts.seq ?? 1, size: facts.size, created: Math.floor(Date.now() / 1000), refs: [] })
  return { mid, record, author }
}
