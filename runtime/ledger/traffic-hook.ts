// The traffic hook lives with the protocols that call it (runtime/net/traffic-hook.ts); the ledger registers through it.
export { meterReceived, meterServed, registerTraffic, sizeOf, trafficGate, type TrafficHook } from '../net/traffic-hook.ts'
