// The app manifest (manifest.json): its schema, checked strictly (unknown keys refused), and
// semantic-version ordering for the update rules.
import { InvalidParams } from '../errors.ts'
import { APP_CAPABILITIES } from '../permissions/app-capabilities.ts'

export interface AppPermission {
  /** An app capability (runtime/permissions/app-capabilities.ts). */
  readonly name: string
  /** Why the app needs it, shown to the user who grants it. */
  readonly reason: string
}

export interface AppManifest {
  readonly name: string
  readonly version: string
  readonly description: string
  /** Path of the icon in the package ("" = none). */
  readonly icon: string
  /** Path of the page the app opens on (default index.html). */
  readonly entry: string
  readonly permissions: readonly AppPermission[]
  /** Per locale (e.g. "zh-CN"): translated strings such as name and description. */
  readonly locales?: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** Backend entries; stored with the app, not run by this version of the node. */
  readonly backend?: unknown
  /**
   * A data namespace (e.g. "weibo"): the app's data areas are named by it instead of the app id,
   * so they have the same ids on every node whoever signed the app there (runtime/apps/spaces.ts).
   */
  readonly data?: string
}

const KEYS = ['name', 'version', 'description', 'icon', 'entry', 'permissions', 'locales', 'backend', 'data']
/** Semantic Versioning 2.0.0, §2, §9 and §10 (no leading zeros in numeric identifiers). */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/
/** A name that is also a DNS label and a folder name: lowercase letters, digits, inner dashes. */
export const APP_NAME = /^[a-z][a-z0-9-]{0,62}$/
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/

const bad = (msg: string): never => {
  throw new InvalidParams(`manifest.json: ${msg}`)
}

function text(v: unknown, field: string, max: number, required = true): string {
  if (v === undefined && !required) return ''
  if (typeof v !== 'string') return bad(`"${field}" must be a string`)
  if (v.length > max) return bad(`"${field}" is longer than ${max} characters`)
  return v
}

/** A path inside the package, as the package reader accepts them. */
function packagePath(v: unknown, field: string): string {
  const p = text(v, field, 1024)
  if (p === '' || p.startsWith('/') || p.includes('\\') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    bad(`"${field}" must be a relative path inside the package without "..", like "index.html" or "img/icon.png"`)
  }
  return p
}

/** Checks a parsed manifest and returns it with defaults filled in; permissions name app capabilities. */
export function parseManifest(value: unknown, capabilities: readonly string[] = APP_CAPABILITIES): AppManifest {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return bad('must be a JSON object')
  const m = value as Record<string, unknown>
  const unknown = Object.keys(m).filter((k) => !KEYS.includes(k))
  if (unknown.length) bad(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ${KEYS.join(', ')})`)
  const name = text(m.name, 'name', 63)
  if (!APP_NAME.test(name)) bad(`"name" must be 1-63 lowercase letters, digits and dashes, starting with a letter (not "${name}")`)
  const version = text(m.version, 'version', 128)
  if (!SEMVER.test(version)) bad(`"version" must be a semantic version like 1.2.3 (not "${version}")`)
  const description = text(m.description, 'description', 2000, false)
  const icon = m.icon === undefined ? '' : packagePath(m.icon, 'icon')
  const entry = m.entry === undefined ? 'index.html' : packagePath(m.entry, 'entry')
  const permissions = parsePermissions(m.permissions, capabilities)
  const out: AppManifest = { name, version, description, icon, entry, permissions }
  if (m.locales !== undefined) Object.assign(out, { locales: parseLocales(m.locales) })
  if (m.data !== undefined) {
    const data = text(m.data, 'data', 63)
    if (!APP_NAME.test(data)) bad(`"data" must be 1-63 lowercase letters, digits and dashes, starting with a letter (not "${data}")`)
    Object.assign(out, { data })
  }
  if (m.backend !== undefined) {
    if (JSON.stringify(m.backend).length > 64 * 1024) bad('"backend" is larger than 64 KiB')
    Object.assign(out, { backend: m.backend })
  }
  return out
}

function parsePermissions(v: unknown, capabilities: readonly string[]): AppPermission[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) return bad('"permissions" must be a list of {name, reason}')
  if (v.length > 64) bad('"permissions" lists more than 64 entries')
  const seen = new Set<string>()
  return v.map((p, i) => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) return bad(`permissions[${i}] must be an object {name, reason}`)
    const extra = Object.keys(p).filter((k) => k !== 'name' && k !== 'reason')
    if (extra.length) bad(`permissions[${i}] has unknown key "${extra[0]}" (allowed: name, reason)`)
    const name = text((p as AppPermission).name, `permissions[${i}].name`, 64)
    if (!capabilities.includes(name)) bad(`permissions[${i}]: "${name}" is not an app capability (known: ${capabilities.join(', ')})`)
    if (seen.has(name)) bad(`permissions lists "${name}" twice`)
    seen.add(name)
    const given = (p as AppPermission).reason
    const reason = given === undefined ? '' : text(given, `permissions[${i}].reason`, 500).trim()
    if (!reason) bad(`permissions[${i}] ("${name}") needs a reason, shown to the user who grants it`)
    return { name, reason }
  })
}

function parseLocales(v: unknown): Record<string, Record<string, string>> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad('"locales" must be an object: {"zh-CN": {"name": ..., "description": ...}}')
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length > 64) bad('"locales" has more than 64 locales')
  return Object.fromEntries(
    entries.map(([tag, strings]) => {
      if (!LOCALE.test(tag)) bad(`"locales": "${tag}" is not a locale tag like en or zh-CN`)
      if (!strings || typeof strings !== 'object' || Array.isArray(strings)) return bad(`"locales.${tag}" must be an object of strings`)
      const pairs = Object.entries(strings as Record<string, unknown>)
      if (pairs.length > 64) bad(`"locales.${tag}" has more than 64 strings`)
      return [tag, Object.fromEntries(pairs.map(([k, s]) => [k, text(s, `locales.${tag}.${k}`, 2000)]))]
    }),
  )
}

/** Semantic version precedence (SemVer 2.0.0 §11): negative, 0 or positive. Build metadata is ignored. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const core = v.split('+')[0]
    const dash = core.indexOf('-')
    return { nums: (dash < 0 ? core : core.slice(0, dash)).split('.').map(Number), pre: dash < 0 ? [] : core.slice(dash + 1).split('.') }
  }
  const x = split(a)
  const y = split(b)
  for (let i = 0; i < 3; i++) if (x.nums[i] !== y.nums[i]) return x.nums[i] - y.nums[i]
  // A pre-release sorts before its release; then identifiers one by one.
  if (!x.pre.length || !y.pre.length) return y.pre.length - x.pre.length
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const [p, q] = [x.pre[i], y.pre[i]]
    if (p === q) continue
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)]
    if (pn && qn) return Number(p) - Number(q)
    if (pn !== qn) return pn ? -1 : 1
    return p < q ? -1 : 1
  }
  return x.pre.length - y.pre.length
}
