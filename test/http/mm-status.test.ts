// /mm/ refusals: each answers with the status of its condition in runtime/errors.ts and its wire text.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ERRORS } from '../../runtime/errors.ts'
import { bootTest, type TestKernel } from '../helpers/kernel.ts'

let node: TestKernel
beforeAll(async () => {
  node = await bootTest()
})
afterAll(() => node[Symbol.asyncDispose]())

const statusOf = (code: string) => ERRORS.find((r) => r.code === code)!.status
const MISSING = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA'

async function get(path: string): Promise<{ status: number; error: string }> {
  const r = await fetch(`${node.url}${path}`)
  expect(r.headers.get('content-type')).toStartWith('application/json')
  return { status: r.status, error: ((await r.json()) as { error: string }).error }
}

test('a sid in the URL is InvalidParams (400), saying where the sid goes instead', async () => {
  const r = await get(`/mm/${MISSING}/index.html?sid=abc`)
  expect(r).toEqual({ status: statusOf('InvalidParams'), error: expect.stringMatching(/^InvalidParams: a sid is not accepted in the URL .* Authorization: Bearer <sid>$/) })
  expect(r.status).toBe(400)
})

test('a URL that is not valid percent-encoding is InvalidParams (400)', async () => {
  expect(await get(`/mm/${MISSING}/%E0%A4%A`)).toEqual({ status: 400, error: 'InvalidParams: the URL is not valid percent-encoding' })
})

test('a MiMei the node does not hold is NotFound (404)', async () => {
  const r = await get(`/mm/${MISSING}/index.html`)
  expect(r.status).toBe(statusOf('NotFound'))
  expect(r.error).toStartWith('NotFound: ')
})
