// The contract every official client meets against a real node, run once per client and transport.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { verifyData } from '../../runtime/identity/index.ts'
import type { CompatNode, Endpoint } from './node.ts'
import { CLIENTS, type ClientName, type Peer, manyValue } from './peers.ts'
import { VALUE_CASES, type WireArg, normalize, unwrap } from './values.ts'

export interface ContractOptions {
  client: ClientName
  endpoint: Endpoint
  node: () => CompatNode
  /** Opens the peer for the endpoint URL; closed after the contract. */
  open: (url: string) => Peer | Promise<Peer>
}

/**
 * The message a call rejects with ('' when it resolves). Awaiting first and asserting after is
 * much faster under bun:test than expect(pending).rejects for calls that wait on the network.
 */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => '',
    (err) => (err as Error).message,
  )
}

const TRANSPORT: Record<Endpoint, string> = { http: 'HTTP /webapi/', ws: 'WebSocket /ws/', ws3: 'WebSocket /ws3/' }

export function peerContract({ client, endpoint, node, open }: ContractOptions): void {
  const info = CLIENTS[client]
  describe(`${client} over ${TRANSPORT[endpoint]}`, () => {
    let peer: Peer
    beforeAll(async () => {
      peer = await open(node().endpoint(endpoint))
    })
    afterAll(async () => {
      await peer?.close()
    })

    describe('Echo round-trips', () => {
      for (const c of VALUE_CASES) {
        const missing = c.needs && info.lacks[c.needs]
        if (missing) {
          test.skip(`${c.name} (skipped: ${client} cannot: ${missing})`, () => {})
          continue
        }
        test(c.name, async () => {
          expect(await peer.echo(c.name)).toEqual(normalize(c.make()))
        })
      }
    })

    test(`the function list the client fetches itself (${info.generation === 2 ? 'bare z → F…z' : 'Cu~z → R…z'}) names every syscall`, async () => {
      const { names, request, echo } = await peer.functionList()
      expect(request).toBe(info.generation === 2 ? 'z' : 'Cu~z')
      expect(names).toEqual(['~', ...node().kernel.dispatcher.names()])
      expect(echo).toBe('through the list')
    })

    describe('errors', () => {
      test('an unknown method rejects with NotFound', async () => {
        expect(await rejection(peer.call('NoSuchSyscall', [1]))).toMatch(/^NotFound: .*NoSuchSyscall/)
      })
      test('a missing argument rejects with InvalidParams naming the parameter', async () => {
        expect(await rejection(peer.call('GetVar', ['']))).toMatch(/^InvalidParams: GetVar is missing parameter name/)
        expect(await rejection(peer.call('GetVar', []))).toMatch(/^InvalidParams: GetVar is missing parameter sid/)
      })
      test('a wrong argument type rejects with InvalidParams naming the parameter', async () => {
        expect(await rejection(peer.call('GetVar', ['', 5]))).toMatch(/^InvalidParams: GetVar: parameter name must be a string/)
      })
      test('too many arguments reject with InvalidParams', async () => {
        expect(await rejection(peer.call('WhoAmI', ['', 'extra']))).toMatch(/^InvalidParams: WhoAmI takes 1 arguments at most/)
      })
      test('a syscall that needs a session rejects a guest with PermissionDenied', async () => {
        expect(await rejection(peer.call('Logout', ['']))).toMatch(/^PermissionDenied: Logout needs a session/)
        expect(await rejection(peer.call('MonitorStats', ['']))).toMatch(/^PermissionDenied: MonitorStats needs a session/)
      })
    })

    test('login as the owner, then calls with the session, then logout', async () => {
      const n = node()
      const login = unwrap(await peer.call('Login', [n.ownerPassport()]))
      expect(login).toEqual({ sid: expect.any(String), uid: n.owner.id, owner: true })
      const sid: string = login.sid

      const who = unwrap(await peer.call('WhoAmI', [sid]))
      expect(who).toMatchObject({ userid: n.owner.id, kind: 'owner', nodeid: n.kernel.identity.nodeId })
      expect(who.capabilities).toContain('node.admin')

      const stats = unwrap(await peer.call('MonitorStats', [sid]))
      expect(stats).toContainEqual(expect.objectContaining({ name: 'Login', count: expect.any(Number) }))

      const signature = await peer.call('Sign', [sid, 'hello'], { bytes: true })
      const sigBytes: Uint8Array = unwrap(signature)
      expect(sigBytes).toHaveLength(64)
      expect(verifyData(n.owner.publicKey, new TextEncoder().encode('hello'), sigBytes)).toBe(true)

      const publicKey = { bytes: [...n.owner.publicKey] }
      const checked = await peer.call('Verify', ['', publicKey, 'hello', signature as WireArg], { bytes: true })
      expect(unwrap(checked)).toEqual({ valid: true, signer: n.owner.id })
      const tampered = await peer.call('Verify', ['', publicKey, 'hellO', signature as WireArg], { bytes: true })
      expect(unwrap(tampered)).toMatchObject({ valid: false })

      expect(await peer.call('Logout', [sid])).toBe(true)
      expect(await rejection(peer.call('WhoAmI', [sid]))).toMatch(/^PermissionDenied: /)
    })

    if (info.generation === 2) {
      test('batch: several calls in one request, each settling on its own', async () => {
        const { settled, requests } = await peer.batch([
          ['Echo', [1]],
          ['NoSuchSyscall', [2]],
          ['Echo', ['x']],
          ['GetVar', ['', 5]],
          ['Echo', [[1, 2]]],
        ])
        expect(requests).toEqual(['Cs4"Echo"a1{1}Cs13"NoSuchSyscall"a1{2}Cs4"Echo"a1{ux}Cs6"GetVar"a2{e5}Cs4"Echo"a1{a2{12}}z'])
        expect(settled[0]).toEqual({ ok: true, value: 1 })
        expect(settled[1]).toEqual({ ok: false, error: expect.stringMatching(/^NotFound: /) })
        expect(settled[2]).toEqual({ ok: true, value: 'x' })
        expect(settled[3]).toEqual({ ok: false, error: expect.stringMatching(/^InvalidParams: GetVar: parameter name/) })
        expect(settled[4]).toEqual({ ok: true, value: { list: [1, 2] } })
      })

      test('byref: the reply carries the arguments back and the client takes them', async () => {
        const r = await peer.byref([3, 1, 2])
        expect(r.requests).toEqual(['Cs4"Echo"a1{a3{312}}tz'])
        expect(r.result).toEqual({ list: [3, 1, 2] })
        // The client replaces its argument only when the reply has an `A` section.
        expect(r.argReplaced).toBe(true)
        expect(r.arg).toEqual({ list: [3, 1, 2] })
      })
    } else {
      test('a call with H request headers succeeds', async () => {
        const r = await peer.callWithHeaders({ user: 'tom', trace: 7 }, 'GetVar', ['', 'port'])
        expect(r.request.startsWith('Hm2{s4"user"s3"tom"s5"trace"7}Cs6"GetVar"')).toBe(true)
        expect(r.result).toBe(node().kernel.http.port)
        expect(r.responseHeaders).toEqual({ map: expect.any(Object) })
      })
    }

    if (endpoint !== 'http') {
      test('200 calls in flight on one socket all resolve with their own values', async () => {
        const results = await peer.echoMany(200)
        expect(results).toEqual(Array.from({ length: 200 }, (_, i) => normalize(manyValue(i))))
      })
    }
  })
}
