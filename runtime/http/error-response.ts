// How an HTTP route refuses: the status of the condition in runtime/errors.ts, its wire text as JSON.
import type { LeitherError } from '../errors.ts'

/** A JSON response of `status`. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } })

/** `{"error": "Code: message"}` with the status the errors table gives the condition. */
export const errorResponse = (err: LeitherError, headers: Record<string, string> = {}) => json(err.status, { error: err.wireText() }, headers)
