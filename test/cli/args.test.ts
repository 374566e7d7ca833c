// The command line's parser: key and MiMei ids are base64url and may begin with '-' (one in 32
// does): such an id is an argument, never taken for a flag; flags still are.
import { expect, test } from 'bun:test'
import { parseArgs, UsageError, type CommandSpec } from '../../runtime/cli/args.ts'

const spec = { name: 'user revoke', summary: 'test', args: '<ID>', maxArgs: 1, flags: [{ name: 'before', type: 'string', help: 'a time' }] } as unknown as CommandSpec

test('an id that begins with - or -- is an argument', () => {
  for (const id of ['-aXu9daiztM8AbQbpBL-O4BDEUk', '--Xu9daiztM8AbQbpBL-O4BDEUk']) {
    const p = parseArgs(spec, [id, '--before', '2024-01-02T03:04:05Z'])
    expect(p.args).toEqual([id])
    expect(p.flags.before).toBe('2024-01-02T03:04:05Z')
  }
})

test('what is not an id is still a flag', () => {
  expect(() => parseArgs(spec, ['-aXu9'])).toThrow(UsageError)
  expect(() => parseArgs(spec, ['--bogus'])).toThrow(UsageError)
})
