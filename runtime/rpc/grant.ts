// Kept for modules not yet moved: the Grant lives in runtime/permissions.
export { CAPABILITIES, GUEST, type Capability, type Grant, type SessionKind } from '../permissions/grant.ts'
