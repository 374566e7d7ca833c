// The `E` value: an exception carried as a value (a 3.x client may send an Error as an argument).

/**
 * An exception carried as a value (`E<string>`, docs/hprose.md §2.1), e.g. an `Error` argument a 3.x
 * client sent. The reader returns it rather than throwing, so a call can still be dispatched;
 * the writer writes any `Error` as `E`.
 */
export class RemoteError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RemoteError'
  }

  /**
   * A RemoteError without a local stack trace: the trace would only show the decoder, and
   * capturing it costs microseconds per value, which a body full of `E`s would multiply.
   */
  static fromWire(message: string): RemoteError {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      return new RemoteError(message)
    } finally {
      Error.stackTraceLimit = limit
    }
  }
}
