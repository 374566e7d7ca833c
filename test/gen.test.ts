// Generated files are committed; this fails when they drift from their sources (run `bun run gen`).
import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { GENERATED } from '../scripts/gen.ts'

test('generated files match their sources', async () => {
  for (const [file, make] of Object.entries(GENERATED)) {
    expect(readFileSync(join(import.meta.dir, '..', file), 'utf8'), `${file} is stale: run bun run gen`).toBe(await make())
  }
})
