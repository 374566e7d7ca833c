// Node configuration: defaults < leither.json in the data dir < environment < command-line flags.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { InvalidParams } from '../errors.ts'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface Config {
  /** HTTP/RPC port; 0 picks any free port. */
  port: number
  /** libp2p TCP port; 0 picks any free port. */
  p2pPort: number
  /** Address the HTTP server binds: 127.0.0.1 (this machine only) unless opened, e.g. 0.0.0.0 for the LAN. */
  host: string
  /** Address libp2p listens on (its listen multiaddrs are derived from it unless `listen` is set). */
  p2pHost: string
  /** Host names the HTTP server answers besides localhost names and its own addresses (DNS-rebinding defence). */
  allowedHosts: string[]
  /** Origins (scheme://host[:port]) of pages that may call /webapi/ and open /ws/ besides the node's own. */
  allowedOrigins: string[]
  logLevel: LogLevel
  /** User id of the node owner (created by `leither init`). */
  owner: string
  /** Largest accepted HTTP request body, bytes. */
  maxBodyBytes: number
  /** A session unused this long (seconds) expires. */
  sessionIdleSec: number
  /** Longest validity window (seconds) of a login passport this node accepts, and of one SignPPT issues. */
  passportMaxSec: number
  /** Bytes of MiMei data each user may store on this node; 0 = no limit. */
  quotaUserBytes: number
  /** Bytes of MiMei data each app may store on this node (all users together); 0 = no limit. */
  quotaAppBytes: number
  /** Largest file (temp upload, cur file or mac file) in bytes: truncation and write offsets stop here. */
  maxFileBytes: number
  /** Who may store data here (storage.open): false = the owner and the users the owner admitted; true = any user. Guests never. */
  storageOpen: boolean
  /** Bytes the node stores in all, every user together (storage.maxBytes); 0 = no limit but the disk's floor. */
  storageMaxBytes: number
  /** Free bytes the disk keeps: writes that would go below are refused with DiskFull. */
  storageMinFreeBytes: number
  /** Read messages are deleted this many days after they arrived (unread ones stay). */
  msgRetentionDays: number
  /** Messages one recipient may hold here, read and unread; past it the oldest read ones make room, else new ones are refused. */
  msgInboxMax: number
  /** Record every syscall and HTTP request (count, errors, latencies) for MonitorStats. */
  monitor: boolean
  /** Days the monitor keeps its daily rows. */
  monitorRetentionDays: number
  /** Days the monitor keeps its hourly rows (the days they add up to stay monitorRetentionDays). */
  monitorHourlyDays: number
  /** Run the libp2p node; false = an offline node (local data and apps only). */
  p2p: boolean
  /** Multiaddrs of nodes to join the network through (with /p2p/<peer id>). */
  bootstrap: string[]
  /** Find other nodes on the LAN with mDNS. */
  mdns: boolean
  /** DHT server mode: auto (AutoNAT decides), always (LAN or test networks), never. */
  dhtServer: 'auto' | 'always' | 'never'
  /** A private network's pre-shared key (the libp2p swarm.key text); "" = the open network. */
  networkKey: string
  /** Reservations this node grants as a relay for nodes behind NAT; 0 = not a relay. */
  relayReservations: number
  /**
   * libp2p listen multiaddrs instead of the ones derived from p2pHost and p2pPort; [] = derived.
   * `["/p2p-circuit"]` makes a node that cannot be dialed directly, reachable only through a relay.
   */
  listen: string[]
  /** The coin's genesis account (a key id) holding the whole supply at first; "" = the node owner (a one-node network). */
  coinGenesis: string
  /** The coin's supply in 毫 (1/1000 Nuo), all of it in the genesis account's open block. */
  coinSupply: number
  /** Node ids of the coin's notaries; a block is final when two thirds of them (rounded up) co-signed it. [] = this node alone. */
  coinNotaries: string[]
  /**
   * Meter the bytes served to and received from each peer (block, mimei, relay), ask debtors to settle, cut off those past the
   * disconnect threshold. Settling and cutting off need a ledger shared with the peers (coinNotaries set); without one, meters only count.
   */
  trafficMeter: boolean
  /** Price of traffic in 毫 per KB (1000 bytes) on the block and mimei protocols. */
  trafficPrice: number
  /** Price in 毫 per KB of bytes this node forwards as a circuit relay. */
  trafficRelayPrice: number
  /** Free traffic each peer gets, in 毫; it refills at trafficRefill. */
  trafficAllowance: number
  /** 毫 per second the free allowance refills, up to trafficAllowance. */
  trafficRefill: number
  /** A peer's debt in 毫 at which it is asked to settle; past 1.25 times this it is not served until it pays. */
  trafficPayThreshold: number
  /** Pay peers' settlement requests automatically from the node's account (false = refuse: they will stop serving this node). */
  trafficPay: boolean
}

interface Field {
  doc: string
  check: (v: unknown) => boolean
  expect: string
}

/** True for "scheme://host[:port]" exactly as a browser writes an Origin header. */
const isOrigin = (v: string) => {
  try {
    return /^https?:$/.test(new URL(v).protocol) && new URL(v).origin === v.toLowerCase()
  } catch {
    return false
  }
}

const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535

export const CONFIG_FIELDS: Record<keyof Config, Field> = {
  port: { doc: 'HTTP/RPC port (0 = any free port)', check: isPort, expect: 'an integer 0..65535' },
  p2pPort: { doc: 'libp2p TCP port (0 = any free port)', check: isPort, expect: 'an integer 0..65535' },
  host: {
    doc: 'address the HTTP server binds (127.0.0.1 = this machine only; 0.0.0.0 = every interface)',
    check: (v) => typeof v === 'string' && v.length > 0,
    expect: 'a host name or IP',
  },
  p2pHost: { doc: 'address libp2p listens on', check: (v) => typeof v === 'string' && v.length > 0, expect: 'a host name or IP' },
  allowedHosts: {
    doc: 'extra host names the HTTP server answers (e.g. "node.lan")',
    check: (v) => Array.isArray(v) && v.every((h) => typeof h === 'string' && /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/i.test(h)),
    expect: 'a list of host names without scheme or port',
  },
  allowedOrigins: {
    doc: 'extra origins whose pages may call the RPC endpoint (e.g. "http://node.lan:4800")',
    check: (v) => Array.isArray(v) && v.every((o) => typeof o === 'string' && isOrigin(o)),
    expect: 'a list of origins like "http://host:port" (no path)',
  },
  logLevel: { doc: 'debug | info | warn | error', check: (v) => LOG_LEVELS.includes(v as LogLevel), expect: LOG_LEVELS.join('|') },
  owner: { doc: 'user id of the node owner', check: (v) => typeof v === 'string', expect: 'a user id' },
  maxBodyBytes: {
    doc: 'largest HTTP request body in bytes',
    check: (v) => Number.isInteger(v) && (v as number) >= 1024,
    expect: 'an integer >= 1024',
  },
  sessionIdleSec: {
    doc: 'seconds a session may stay unused before it expires',
    check: (v) => Number.isInteger(v) && (v as number) >= 60,
    expect: 'an integer >= 60',
  },
  passportMaxSec: {
    doc: 'longest validity in seconds of a login passport accepted (and of one SignPPT issues)',
    check: (v) => Number.isInteger(v) && (v as number) >= 60 && (v as number) <= 365 * 86400,
    expect: 'an integer 60..31536000',
  },
  quotaUserBytes: {
    doc: 'bytes of MiMei data per user (0 = no limit)',
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    expect: 'an integer >= 0',
  },
  quotaAppBytes: {
    doc: 'bytes of MiMei data per app (0 = no limit)',
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    expect: 'an integer >= 0',
  },
  storageOpen: {
    doc: 'who may store data: false = the owner and users the owner admitted (leither user admit); true = any logged-in user',
    check: (v) => typeof v === 'boolean',
    expect: 'true or false',
  },
  storageMaxBytes: {
    doc: 'bytes the node stores in all (0 = no limit but the free-disk floor)',
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    expect: 'an integer >= 0',
  },
  storageMinFreeBytes: {
    doc: 'free disk bytes kept in reserve; writes that would go below fail with DiskFull',
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    expect: 'an integer >= 0',
  },
  msgRetentionDays: {
    doc: 'days a read message is kept after it arrived (unread ones are kept)',
    check: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 36500,
    expect: 'an integer 1..36500',
  },
  msgInboxMax: {
    doc: 'messages one recipient may hold on this node, read and unread (the oldest read ones make room)',
    check: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1_000_000,
    expect: 'an integer 1..1000000',
  },
  maxFileBytes: {
    doc: 'largest file in bytes (temp uploads, cur files, mac files)',
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 1024 * 1024,
    expect: 'an integer >= 1048576',
  },
  monitor: { doc: 'record every syscall and HTTP request for MonitorStats (false = off)', check: (v) => typeof v === 'boolean', expect: 'true or false' },
  monitorRetentionDays: {
    doc: 'days the monitor keeps its daily stats',
    check: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 36500,
    expect: 'an integer 1..36500',
  },
  monitorHourlyDays: {
    doc: 'days the monitor keeps its hourly stats',
    check: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 3650,
    expect: 'an integer 1..3650',
  },
  p2p: { doc: 'run the libp2p node (false = offline)', check: (v) => typeof v === 'boolean', expect: 'true or false' },
  bootstrap: {
    doc: 'multiaddrs of nodes to join through',
    check: (v) => Array.isArray(v) && v.every((a) => typeof a === 'string' && a.startsWith('/')),
    expect: 'a list of multiaddrs',
  },
  mdns: { doc: 'find nodes on the LAN with mDNS', check: (v) => typeof v === 'boolean', expect: 'true or false' },
  dhtServer: {
    doc: 'auto | always | never',
    check: (v) => v === 'auto' || v === 'always' || v === 'never',
    expect: 'auto, always or never',
  },
  networkKey: { doc: 'pre-shared key of a private network', check: (v) => typeof v === 'string', expect: 'a string' },
  relayReservations: {
    doc: 'relay slots granted to NATed nodes (0 = no relay)',
    check: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1024,
    expect: 'an integer 0..1024',
  },
  listen: {
    doc: 'libp2p listen multiaddrs ([] = from p2pHost and p2pPort; ["/p2p-circuit"] = only through a relay)',
    check: (v) => Array.isArray(v) && v.every((a) => typeof a === 'string' && a.startsWith('/')),
    expect: 'a list of multiaddrs',
  },
  coinGenesis: {
    doc: 'the coin genesis account, a key id ("" = the node owner)',
    check: (v) => v === '' || (typeof v === 'string' && /^[A-Za-z0-9_-]{27}$/.test(v)),
    expect: 'a key id (27 base64url characters) or ""',
  },
  coinSupply: {
    doc: 'the coin supply in 毫 (1/1000 Nuo), held by the genesis account at first',
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    expect: 'an integer >= 0',
  },
  coinNotaries: {
    doc: 'node ids of the coin notaries ([] = this node alone)',
    check: (v) => Array.isArray(v) && v.length <= 64 && v.every((n) => typeof n === 'string' && /^[A-Za-z0-9_-]{27}$/.test(n)),
    expect: 'a list of at most 64 node ids',
  },
  trafficMeter: { doc: 'meter traffic per peer, ask debtors to settle, cut off those past the disconnect threshold (these two only with coinNotaries set)', check: (v) => typeof v === 'boolean', expect: 'true or false' },
  trafficPrice: { doc: 'traffic price in 毫 per KB served', check: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1_000_000, expect: 'an integer 0..1000000' },
  trafficRelayPrice: { doc: 'price in 毫 per KB relayed', check: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1_000_000, expect: 'an integer 0..1000000' },
  trafficAllowance: { doc: 'free traffic per peer in 毫', check: (v) => Number.isSafeInteger(v) && (v as number) >= 0, expect: 'an integer >= 0' },
  trafficRefill: { doc: '毫 per second the free allowance refills', check: (v) => Number.isSafeInteger(v) && (v as number) >= 0, expect: 'an integer >= 0' },
  trafficPayThreshold: {
    doc: 'debt in 毫 at which a peer is asked to settle (cut off past 1.25 times this)',
    check: (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 1e12,
    expect: 'an integer 1..1000000000000',
  },
  trafficPay: { doc: "pay peers' settlement requests from the node account (false = refuse)", check: (v) => typeof v === 'boolean', expect: 'true or false' },
}

export const DEFAULT_CONFIG: Config = {
  port: 4800,
  p2pPort: 4801,
  host: '127.0.0.1',
  p2pHost: '0.0.0.0',
  allowedHosts: [],
  allowedOrigins: [],
  logLevel: 'info',
  owner: '',
  maxBodyBytes: 16 * 1024 * 1024,
  sessionIdleSec: 3600,
  passportMaxSec: 7 * 86400,
  quotaUserBytes: 0,
  quotaAppBytes: 0,
  maxFileBytes: 4 * 1024 ** 3,
  storageOpen: false,
  storageMaxBytes: 0,
  storageMinFreeBytes: 256 * 1024 ** 2,
  msgRetentionDays: 30,
  msgInboxMax: 10_000,
  monitor: true,
  monitorRetentionDays: 400,
  monitorHourlyDays: 31,
  p2p: true,
  bootstrap: [],
  mdns: true,
  dhtServer: 'auto',
  networkKey: '',
  relayReservations: 16,
  listen: [],
  coinGenesis: '',
  coinSupply: 1_000_000_000,
  coinNotaries: [],
  trafficMeter: true,
  trafficPrice: 1,
  trafficRelayPrice: 2,
  trafficAllowance: 10_000,
  trafficRefill: 100,
  trafficPayThreshold: 100_000,
  trafficPay: true,
}

export type Env = Record<string, string | undefined>

/** `--data`, else LEITHER_DATA (when not empty), else ~/.leither. */
export function resolveDataDir(flag: string | undefined, env: Env = process.env): string {
  return resolve(flag ?? (env.LEITHER_DATA || join(homedir(), '.leither')))
}

export function configPath(dataDir: string): string {
  return join(dataDir, 'leither.json')
}

export function validateConfigValue<K extends keyof Config>(key: K, value: unknown, source: string): Config[K] {
  const field = CONFIG_FIELDS[key]
  if (!field.check(value)) throw new InvalidParams(`${source}: ${key} must be ${field.expect}, got ${JSON.stringify(value)}`)
  return value as Config[K]
}

export interface LoadedConfig {
  config: Config
  /** True when leither.json did not exist and was written with defaults. */
  created: boolean
  /** Keys in leither.json this version does not know (kept, reported once). */
  unknownKeys: string[]
}

/** Reads leither.json (writing it with defaults on first run) and applies environment overrides. */
export function loadConfig(dataDir: string, env: Env = process.env): LoadedConfig {
  const path = configPath(dataDir)
  let fileValues: Record<string, unknown> = {}
  let created = false
  if (existsSync(path)) {
    try {
      fileValues = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw new InvalidParams(`${path} is not valid JSON: ${(err as Error).message}`)
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new InvalidParams(`${path} must hold a JSON object`)
    }
  } else {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    updateConfigFile(dataDir, DEFAULT_CONFIG)
    created = true
  }
  const config: Config = { ...DEFAULT_CONFIG }
  const unknownKeys: string[] = []
  for (const [key, value] of Object.entries(fileValues)) {
    if (key in CONFIG_FIELDS) (config as any)[key] = validateConfigValue(key as keyof Config, value, path)
    else unknownKeys.push(key)
  }
  if (env.LEITHER_PORT !== undefined) config.port = validateConfigValue('port', parseIntStrict(env.LEITHER_PORT), 'LEITHER_PORT')
  return { config, created, unknownKeys }
}

/**
 * Patches leither.json atomically: only the given keys change, so values that came from flags or
 * the environment are never persisted by accident, and keys this version does not know survive.
 */
export function updateConfigFile(dataDir: string, patch: Partial<Config>): void {
  const path = configPath(dataDir)
  let existing: Record<string, unknown> = {}
  if (existsSync(path)) {
    try {
      existing = JSON.parse(readFileSync(path, 'utf8'))
    } catch {
      existing = {}
    }
  }
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify({ ...existing, ...patch }, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, path)
}

/** Integer parse that refuses "12abc", "1e3" and empty strings (NaN passes no validator). */
export function parseIntStrict(text: string): number {
  return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN
}
