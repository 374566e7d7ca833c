// Estimating how many nodes a Kademlia network has from one node's routing table (DhtNetworkSize).
//
// Method. Kademlia ids are SHA-256 hashes, so nodes sit uniformly on [0, 1) once a XOR distance
// is divided by 2^256. With N nodes in all, the i-th closest of the N-1 others is expected at
// distance i/N. Fitting d_i = i/N by least squares over the k closest peers gives
// N = Σ i² / Σ i·d_i (the density estimate go-libp2p-kad-dht's netsize package also builds on).
// The closest peers are the ones a routing table knows best: a node keeps every peer of its own
// neighbourhood, while far buckets hold only k of many.
//
// While the table holds fewer than k peers no bucket has ever been full, so the node has kept
// every DHT server it met: the count (plus itself) is then the better answer, and the density
// fit over so few points would be mostly noise.

export interface NetworkSizeEstimate {
  /** Peers in the DHT routing table. */
  routingTable: number
  /** Estimated nodes in the network, this one included. */
  estimate: number
  /** `count`: routing table + 1 (table not yet full); `density`: the fit over the closest peers. */
  method: 'count' | 'density'
  /** Peers the density fit used (0 for `count`). */
  sample: number
}

const FLOAT_BITS = 53n

/** XOR distance of two ids as a fraction of the id space, in [0, 1). */
export function normalizedDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error('ids of different lengths')
  let x = 0n
  for (let i = 0; i < a.length; i++) x = (x << 8n) | BigInt(a[i] ^ b[i])
  const bits = BigInt(a.length * 8)
  // Keep the top 53 bits: a double holds no more, and the rest cannot change the estimate.
  return Number(bits > FLOAT_BITS ? x >> (bits - FLOAT_BITS) : x << (FLOAT_BITS - bits)) / 2 ** 53
}

/** The estimate from the normalized distances of every peer in the table; `k` is the bucket size. */
export function estimateNetworkSize(distances: number[], k: number): NetworkSizeEstimate {
  const routingTable = distances.length
  if (routingTable < k) return { routingTable, estimate: routingTable + 1, method: 'count', sample: 0 }
  const closest = [...distances].sort((x, y) => x - y).slice(0, k)
  let sumSquares = 0
  let sumWeighted = 0
  closest.forEach((d, index) => {
    const i = index + 1
    sumSquares += i * i
    sumWeighted += i * d
  })
  const fit = sumWeighted > 0 ? sumSquares / sumWeighted : Infinity
  // Never fewer than the nodes we know exist; never unbounded when every distance is 0.
  const estimate = Math.round(Math.max(routingTable + 1, Math.min(fit, Number.MAX_SAFE_INTEGER)))
  return { routingTable, estimate, method: 'density', sample: closest.length }
}
