// `leither coin balance|send|history` against a running node, over HTTP (amounts cross the wire as BigInt).
import { expect, test } from 'bun:test'
import { generateKeyPair } from '../../runtime/identity/index.ts'
import { formatNuo, parseNuo } from '../../runtime/cli/coin.ts'
import { cli, startNode, tempDir } from '../helpers/node.ts'

test('Nuo amounts: three decimals out, up to three in', () => {
  expect(formatNuo(1_000_000_000n)).toBe('1000000.000')
  expect(formatNuo(1500)).toBe('1.500')
  expect(parseNuo('1.5')).toBe(1500)
  expect(parseNuo('0.001')).toBe(1)
  for (const bad of ['0', '1.0001', '-1', 'x', '1e3']) expect(parseNuo(bad)).toBeUndefined()
})

test('the owner sends, and balance and history show it', async () => {
  using dir = tempDir()
  await using node = await startNode(['--data', dir, '--port', '0', '--host', '127.0.0.1'])
  const run = (...args: string[]) => cli([...args, '--data', dir, '--node', node.url])
  const to = generateKeyPair().id
  expect((await run('coin', 'balance')).stdout).toContain(': 1000000.000 Nuo')
  const sent = await run('coin', 'send', to, '2.5', 'for', 'bandwidth')
  expect(sent.code).toBe(0)
  expect(sent.stdout).toContain('sent 2.500 Nuo')
  expect((await run('coin', 'balance')).stdout).toContain(': 999997.500 Nuo')
  expect((await run('coin', 'balance', to)).stdout).toContain(`${to}: 0.000 Nuo (+2.500 pending)`)
  const hist = (await run('coin', 'history')).stdout
  expect(hist).toContain(`-2.500 to ${to} "for bandwidth"`)
  const tooMuch = await run('coin', 'send', to, '2000000')
  expect(tooMuch.code).not.toBe(0)
  expect(tooMuch.stderr).toContain('insufficient funds')
  expect((await run('coin', 'send', to, '1.2345')).code).toBe(2)
})
