// Errors of the browser client: what the node answered (LeitherError, with its wire code).

/** An error the node answered with; `code` is its stable prefix (PermissionDenied, NotFound …). */
export class LeitherError extends Error {
  readonly code: string
  constructor(text: string) {
    super(text)
    this.code = /^(\w+):/.exec(text)?.[1] ?? 'Error'
    this.name = 'LeitherError'
  }
}
