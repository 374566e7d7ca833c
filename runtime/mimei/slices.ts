// Long work in slices: a loop that hashes or copies gigabytes gives the event loop back every few
// milliseconds, so one request never holds up the others (defect: a 4 GiB commit froze /getvar).
//
// Measured against a Bun Worker for hashing 1 GiB (2 cores): both take the same total time; the
// worker leaves the event loop free, slices leave gaps of about one slice. Slices were chosen:
// they need no second entry point in compiled binaries and keep block storage in one thread.

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
