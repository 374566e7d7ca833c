// Walking a version's snapshot: which blocks a block links to, whatever snapshot format made it
// (database manifests list chunk CIDs as text; file trees use DAG-CBOR links).
import { CID } from 'multiformats/cid'
import { decode as decodeDagCbor } from '../mimei/files/dagcbor.ts'
import { DAG_CBOR } from '../mimei/blocks.ts'
import { decodeCbor } from './wire.ts'

function collect(v: unknown, out: string[], depth = 0): void {
  if (depth > 64) return
  if (typeof v === 'string') {
    if (v.length > 40 && v[0] === 'b') {
      try {
        out.push(CID.parse(v).toString())
      } catch {}
    }
  } else if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1)
  else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) for (const x of Object.values(v)) collect(x, out, depth + 1)
}

/** CIDs a block links to: none for raw data, the links of a manifest or directory otherwise. */
export function linksOf(cid: string, bytes: Uint8Array): string[] {
  if (CID.parse(cid).code !== DAG_CBOR) return []
  let value: unknown
  try {
    value = decodeDagCbor(bytes)
  } catch {
    value = decodeCbor(bytes)
  }
  const out: string[] = []
  collect(value, out)
  return out
}
