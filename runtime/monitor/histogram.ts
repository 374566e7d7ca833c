// Latency histograms: fixed log-spaced buckets (no allocation to record), p95 from counts, compact blobs.

/**
 * Buckets as in HDR histograms: each power of two of milliseconds split in 8 equal parts, from 2^-7 ms
 * (7.8 µs; bucket 0 holds everything below) to 2^20 ms (17 minutes; the last bucket holds everything
 * above). A bucket is at most 12.5 % wide, so a p95 read from it is within 12.5 % of the sample.
 */
const MIN_EXP = -7
const MAX_EXP = 19
const SUB = 8
export const BUCKETS = (MAX_EXP - MIN_EXP + 1) * SUB + 1

// The bucket comes from the bits of the double: its exponent and the top 3 bits of its mantissa.
const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0

/** The bucket a latency falls in (0 .. BUCKETS-1): no Math.log, no allocation. */
export function bucketOf(ms: number): number {
  if (!(ms >= 2 ** MIN_EXP)) return 0
  f64[0] = ms
  const hi = u32[HI]
  const i = ((((hi >>> 20) & 0x7ff) - 1023 - MIN_EXP) << 3) + ((hi >>> 17) & 7) + 1
  return i < BUCKETS ? i : BUCKETS - 1
}

/** Upper edge of bucket i in ms, exclusive (the last bucket has none: Infinity). */
export function bucketUpperMs(i: number): number {
  if (i <= 0) return 2 ** MIN_EXP
  if (i >= BUCKETS - 1) return Infinity
  const j = i - 1
  return 2 ** (Math.floor(j / SUB) + MIN_EXP) * (1 + ((j % SUB) + 1) / SUB)
}

/**
 * The q-quantile (0..1) of the samples counted in `hist`: the upper edge of the bucket it falls in,
 * never above the largest sample seen (`maxMs`). 0 when there are no samples.
 */
export function quantileMs(hist: Uint32Array, q: number, maxMs: number): number {
  let total = 0
  for (let i = 0; i < hist.length; i++) total += hist[i]
  if (total === 0) return 0
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]
    if (seen >= rank) return Math.min(bucketUpperMs(i), maxMs)
  }
  return maxMs
}

/** Adds `from` into `into`, bucket by bucket. */
export function mergeInto(into: Uint32Array, from: Uint32Array): void {
  for (let i = 0; i < BUCKETS; i++) into[i] += from[i]
}

/** A histogram as stored: (bucket index, count) pairs of u32 for the buckets that are not empty. */
export function encodeHist(hist: Uint32Array): Uint8Array {
  let n = 0
  for (let i = 0; i < BUCKETS; i++) if (hist[i]) n++
  const out = new Uint8Array(n * 8)
  const view = new DataView(out.buffer)
  let at = 0
  for (let i = 0; i < BUCKETS; i++) {
    if (!hist[i]) continue
    view.setUint32(at, i, true)
    view.setUint32(at + 4, hist[i], true)
    at += 8
  }
  return out
}

/** Reads a stored histogram into `into` (added to what it holds); pairs out of range are skipped. */
export function decodeHistInto(blob: Uint8Array | null | undefined, into: Uint32Array): void {
  if (!blob || blob.byteLength % 8 !== 0) return
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  for (let at = 0; at < blob.byteLength; at += 8) {
    const i = view.getUint32(at, true)
    if (i < BUCKETS) into[i] += view.getUint32(at + 4, true)
  }
}
