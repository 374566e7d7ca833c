// Long work in slices: a loop over many items (recording thousands of blocks, say) gives the event
// loop back every few milliseconds, so one request never holds up the others. Hashing itself
// runs on worker threads (hasher.ts): measured on 1 GiB, slices left the loop pausing a slice at
// a time, the worker left it free, for the same total time.

/** Work done between two yields: other requests wait at most about this long. */
export const SLICE_MS = 8

/**
 * Lets timers, I/O and other requests run, then continues. A timer, not setImmediate: under Bun
 * an immediate resumed before pending sockets were read (HTTP requests waited 25 ms at p50
 * behind a sliced hash, against 0.05 ms with a zero timer).
 */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * A pause to call between units of work: it yields once the current slice has run SLICE_MS, and
 * throws the signal's reason when the work was cancelled.
 */
export function slicer(signal?: AbortSignal, sliceMs = SLICE_MS): () => Promise<void> {
  let start = performance.now()
  return async () => {
    signal?.throwIfAborted()
    if (performance.now() - start < sliceMs) return
    await yieldToLoop()
    signal?.throwIfAborted()
    start = performance.now()
  }
}
