// Node variables readable by anyone (HTTP /getvar, and GetVar for guests): name → value.
import { VERSION } from './version.ts'

export interface VarSources {
  nodeId(): string
  peerId(): string
  /** The bound HTTP port (differs from the config when it was 0). */
  port(): number
  /** libp2p addresses other nodes can dial ([] on an offline node). */
  nodeAddrs(): string[]
}

export type VarTable = Readonly<Record<string, () => unknown>>

/** Leither's public GetVar names. `now` is milliseconds since the epoch, as JSON has no dates. */
export function publicVars(src: VarSources): VarTable {
  return {
    ver: () => VERSION,
    nodeid: () => src.nodeId(),
    peerid: () => src.peerId(),
    now: () => Date.now(),
    port: () => src.port(),
    nodeaddrs: () => src.nodeAddrs(),
  }
}
