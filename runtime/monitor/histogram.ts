// Latency histograms: fixed log-spaced buckets (no allocation to record), p95 from counts, compact blobs.

/** Buckets: the first holds everything up to MIN_MS, each next one is RATIO times wider; the last is open. */
export const BUCKETS = 128
const MIN_MS = 0.01
/** 2^(1/5): each bucket spans about 15 %, so a p95 read from it is within 15 % of the sample. */
const RATIO = 2 ** (1 / 5)
const LOG_RATIO = Math.log(RATIO)
const LOG_MIN = Math.log(MIN_MS)

/** The bucket a latency falls in (0 .. BUCKETS-1); 128 buckets reach about 500 s. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0
  const i = Math.ceil((Math.log(ms) - LOG_MIN) / LOG_RATIO)
  return i < BUCKETS ? i : BUCKETS - 1
}

/** Upper edge of bucket i in ms (the last bucket has none: Infinity). */
export function bucketUpperMs(i: number): number {
  return i >= BUCKETS - 1 ? Infinity : MIN_MS * RATIO ** i
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
