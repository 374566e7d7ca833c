// Schema migrations, in order. Append only: a released migration is never edited.
import type { Database } from 'bun:sqlite'

export interface Migration {
  readonly version: number
  readonly name: string
  up(db: Database): void
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'node metadata',
    up(db) {
      db.run(`CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT`)
    },
  },
  {
    version: 2,
    name: 'sessions',
    up(db) {
      // Only a hash of the sid is stored: a copied database file holds no usable session.
      db.run(`CREATE TABLE sessions (
        sid_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        created INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
      ) STRICT`)
      db.run('CREATE INDEX sessions_user ON sessions (user_id)')
    },
  },
  {
    version: 3,
    name: 'mimei objects, versions, rights, references and blocks',
    up(db) {
      // `id` is the compact key every data row uses; `mid` is the public, deterministic id.
      db.run(`CREATE TABLE mimei (
        id INTEGER PRIMARY KEY,
        mid TEXT NOT NULL UNIQUE,
        author TEXT NOT NULL,
        app TEXT NOT NULL,
        ext TEXT NOT NULL,
        mark TEXT NOT NULL,
        type INTEGER NOT NULL,
        created INTEGER NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        last INTEGER,
        release INTEGER,
        next_ver INTEGER NOT NULL DEFAULT 1
      ) STRICT`)
      db.run('CREATE INDEX mimei_author ON mimei (author, app)')
      db.run(`CREATE TABLE mimei_rights (m INTEGER NOT NULL REFERENCES mimei(id), member TEXT NOT NULL, bits INTEGER NOT NULL,
        PRIMARY KEY (m, member)) STRICT, WITHOUT ROWID`)
      db.run(`CREATE TABLE mimei_versions (m INTEGER NOT NULL REFERENCES mimei(id), ver INTEGER NOT NULL, cid TEXT NOT NULL,
        memo TEXT NOT NULL, created INTEGER NOT NULL, seq INTEGER NOT NULL, size INTEGER NOT NULL,
        PRIMARY KEY (m, ver)) STRICT, WITHOUT ROWID`)
      db.run(`CREATE TABLE mimei_refs (m INTEGER NOT NULL REFERENCES mimei(id), ref TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (m, ref)) STRICT, WITHOUT ROWID`)
      db.run(`CREATE TABLE blocks (cid TEXT PRIMARY KEY, size INTEGER NOT NULL, created INTEGER NOT NULL) STRICT, WITHOUT ROWID`)
      // What keeps a block alive: a version's snapshot (kind 'v', owner "m:ver") or a mac file ('f').
      db.run(`CREATE TABLE block_pins (cid TEXT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (cid, owner)) STRICT, WITHOUT ROWID`)
      db.run('CREATE INDEX block_pins_owner ON block_pins (owner)')
    },
  },
  {
    version: 4,
    name: 'database mimei: keys and typed values',
    up(db) {
      // One row per key with its type and the sequence number of its last change (delta sync).
      db.run(`CREATE TABLE kv (m INTEGER NOT NULL, key TEXT NOT NULL, type INTEGER NOT NULL, value BLOB,
        seq INTEGER NOT NULL, PRIMARY KEY (m, key)) STRICT, WITHOUT ROWID`)
      db.run(`CREATE TABLE kv_hash (m INTEGER NOT NULL, key TEXT NOT NULL, field TEXT NOT NULL, value BLOB NOT NULL,
        PRIMARY KEY (m, key, field)) STRICT, WITHOUT ROWID`)
      db.run(`CREATE TABLE kv_list (m INTEGER NOT NULL, key TEXT NOT NULL, pos INTEGER NOT NULL, value BLOB NOT NULL,
        PRIMARY KEY (m, key, pos)) STRICT, WITHOUT ROWID`)
      db.run(`CREATE TABLE kv_set (m INTEGER NOT NULL, key TEXT NOT NULL, member BLOB NOT NULL,
        PRIMARY KEY (m, key, member)) STRICT, WITHOUT ROWID`)
      db.run(`CREATE TABLE kv_zset (m INTEGER NOT NULL, key TEXT NOT NULL, member BLOB NOT NULL, score REAL NOT NULL,
        PRIMARY KEY (m, key, member)) STRICT, WITHOUT ROWID`)
      db.run('CREATE INDEX kv_zset_score ON kv_zset (m, key, score, member)')
      // Deleted keys, kept with the sequence number of the deletion so deltas can carry it.
      db.run(`CREATE TABLE kv_deleted (m INTEGER NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (m, key)) STRICT, WITHOUT ROWID`)
    },
  },
  {
    version: 5,
    name: 'file mimei: the tree of cur',
    up(db) {
      // One row per file or directory of a file MiMei's `cur` (the root has none). Bytes live in
      // files named by `ino` under <data>/files/<m>/; `cid` caches a file's content id.
      db.run(`CREATE TABLE file_nodes (m INTEGER NOT NULL REFERENCES mimei(id), parent TEXT NOT NULL, name TEXT NOT NULL,
        dir INTEGER NOT NULL, ino TEXT NOT NULL, cid TEXT, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
        PRIMARY KEY (m, parent, name)) STRICT, WITHOUT ROWID`)
      db.run('CREATE UNIQUE INDEX file_nodes_ino ON file_nodes (m, ino)')
    },
  },
  {
    version: 6,
    name: 'mimei shared with the network',
    up(db) {
      // What this node announces: 'publish' (it is the author's node and signs the version
      // records) or 'provide' (a replica that follows the author's versions). `record` is the
      // newest signed version record seen, CBOR.
      db.run(`CREATE TABLE net_shared (mid TEXT PRIMARY KEY, mode TEXT NOT NULL, record BLOB, since INTEGER NOT NULL) STRICT, WITHOUT ROWID`)
      // Signed version records this node holds, per version, to hand to peers syncing older ones.
      db.run(`CREATE TABLE net_records (mid TEXT NOT NULL, ver INTEGER NOT NULL, record BLOB NOT NULL, PRIMARY KEY (mid, ver)) STRICT, WITHOUT ROWID`)
    },
  },
  {
    version: 7,
    name: 'messages: inbox, outbox, users served here',
    up(db) {
      // AUTOINCREMENT: a seq is never reused after old rows are pruned, so ReadMsg cursors stay valid.
      // One copy per (from_node, id): ids are chosen by the sender, so they are unique per sender only.
      db.run(`CREATE TABLE msg_inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, from_node TEXT NOT NULL,
        from_user TEXT NOT NULL, to_id TEXT NOT NULL, app TEXT NOT NULL, body BLOB NOT NULL, sent_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL, sig BLOB NOT NULL, node_pk BLOB NOT NULL, read INTEGER NOT NULL DEFAULT 0,
        UNIQUE (from_node, id)) STRICT`)
      db.run('CREATE INDEX msg_inbox_to ON msg_inbox (to_id, read, seq)')
      // `envelope` is the signed message (CBOR) until it is delivered or expires; `step` drives the backoff.
      db.run(`CREATE TABLE msg_outbox (id TEXT PRIMARY KEY, to_id TEXT NOT NULL, from_user TEXT NOT NULL, envelope BLOB NOT NULL,
        created INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0,
        next_try INTEGER NOT NULL, last_error TEXT, done_at INTEGER, delivered_to TEXT) STRICT`)
      db.run('CREATE INDEX msg_outbox_due ON msg_outbox (state, next_try)')
      // Users without a key here who logged in: the node keeps receiving their messages for a while.
      db.run('CREATE TABLE msg_users (user_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL) STRICT, WITHOUT ROWID')
    },
  },
  {
    version: 8,
    name: 'revoked users and passports; messages signed by their sender',
    up(db) {
      // UserRevoke: passports of the user with NotBefore < before (unix seconds) no longer log in.
      db.run('CREATE TABLE user_revocations (user_id TEXT PRIMARY KEY, before INTEGER NOT NULL, at INTEGER NOT NULL) STRICT, WITHOUT ROWID')
      // Login passports ended by Logout, by hash, kept until they expire: they do not log in again.
      db.run('CREATE TABLE passports_ended (hash TEXT PRIMARY KEY, until INTEGER NOT NULL) STRICT, WITHOUT ROWID')
      // The passport each session was opened with (hash and end of validity), burned at Logout.
      db.run('ALTER TABLE sessions ADD COLUMN ppt_hash TEXT')
      db.run('ALTER TABLE sessions ADD COLUMN ppt_until INTEGER')
      // The sender's own signature of a message and their public key. Rows without them came
      // before senders signed: their from_user was never proven and is not shown as the sender.
      db.run('ALTER TABLE msg_inbox ADD COLUMN user_pk BLOB')
      db.run('ALTER TABLE msg_inbox ADD COLUMN user_sig BLOB')
      // A signed message is the same message whichever node relays it: one copy per (sender, id).
      db.run('DELETE FROM msg_inbox WHERE seq NOT IN (SELECT min(seq) FROM msg_inbox GROUP BY from_user, id)')
      db.run('CREATE UNIQUE INDEX msg_inbox_sender_id ON msg_inbox (from_user, id)')
    },
  },
  {
    version: 9,
    name: 'storage: admitted users, who pays for each MiMei, mac file pins',
    up(db) {
      // Users the owner admitted to store here (UserAdmit); quota_bytes NULL = the node's default.
      db.run('CREATE TABLE storage_users (user_id TEXT PRIMARY KEY, admitted INTEGER NOT NULL, quota_bytes INTEGER) STRICT, WITHOUT ROWID')
      // The user charged for a MiMei's bytes: NULL = its author; a replica's is whoever asked for it.
      db.run('ALTER TABLE mimei ADD COLUMN charge_to TEXT')
      db.run('CREATE INDEX mimei_charge ON mimei (coalesce(charge_to, author))')
      // Mac files each user committed; their `f:<cid>` pin (and charge) lasts until pinned_until.
      db.run(`CREATE TABLE mac_files (cid TEXT NOT NULL, user_id TEXT NOT NULL, size INTEGER NOT NULL, pinned_until INTEGER NOT NULL,
        PRIMARY KEY (cid, user_id)) STRICT, WITHOUT ROWID`)
      // Mac files committed before: pinned a day from now, charged to nobody (the owner may gc them after).
      db.run(`INSERT INTO mac_files (cid, user_id, size, pinned_until)
        SELECT substr(owner, 3), '', 0, unixepoch() + 86400 FROM block_pins WHERE owner LIKE 'f:%' GROUP BY owner`)
    },
  },
  {
    version: 10,
    name: 'app sessions and grants',
    up(db) {
      // The app a session was handed to: such a session works only from that app's origin.
      db.run('ALTER TABLE sessions ADD COLUMN app TEXT')
      // What each user granted each app: capability names (runtime/permissions/app-capabilities.ts),
      // with a limit where the capability has one (coin.transfer: milli-Nuo the app may spend).
      db.run(`CREATE TABLE app_grants (user_id TEXT NOT NULL, app_id TEXT NOT NULL, capability TEXT NOT NULL, granted_at INTEGER NOT NULL,
        limit_value INTEGER, PRIMARY KEY (user_id, app_id, capability)) STRICT, WITHOUT ROWID`)
    },
  },
  {
    version: 11,
    name: 'installed apps',
    up(db) {
      // One row per app installed here. Its files are version `mimei_ver` (root `cid`) of the app's
      // file MiMei (id = app_id); `manifest` is the checked manifest.json as JSON text.
      db.run(`CREATE TABLE apps (app_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, author TEXT NOT NULL,
        manifest TEXT NOT NULL, entry TEXT NOT NULL, installed_at INTEGER NOT NULL, installed_by TEXT NOT NULL,
        mimei_ver INTEGER NOT NULL, cid TEXT NOT NULL, size INTEGER NOT NULL) STRICT, WITHOUT ROWID`)
      db.run('CREATE INDEX apps_name ON apps (name)')
    },
  },
  {
    version: 12,
    name: 'messages: inbox counts and bytes per recipient from an index',
    up(db) {
      // The inbox gate and the storage quota read count(*), sum(read = 0) and sum(length(body)) of a
      // recipient on every message and write: covered by this index, the rows are never read.
      db.run('CREATE INDEX msg_inbox_bytes ON msg_inbox (to_id, read, length(body))')
    },
  },
  {
    version: 13,
    name: 'monitor: calls per syscall and HTTP route, by hour and by day',
    up(db) {
      // span 3600: one hour from start (unix seconds); span 86400: one UTC day. hist: the latency
      // histogram's non-empty buckets (runtime/monitor/histogram.ts), for p95 over any range.
      db.run(`CREATE TABLE monitor_stats (span INTEGER NOT NULL, start INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        count INTEGER NOT NULL, errors INTEGER NOT NULL, total_ms REAL NOT NULL, max_ms REAL NOT NULL, hist BLOB NOT NULL,
        PRIMARY KEY (span, start, kind, name)) STRICT, WITHOUT ROWID`)
    },
  },
  {
    version: 14,
    name: 'coin ledger: blocks of every account, notary co-signatures and what this notary signed',
    up(db) {
      // Final blocks of every account's chain (runtime/ledger/block.ts): body and sig are the block;
      // the rest is read from the body, for queries. A send is received once: source is unique.
      db.run(`CREATE TABLE coin_blocks (hash BLOB PRIMARY KEY, account TEXT NOT NULL, height INTEGER NOT NULL, type TEXT NOT NULL,
        balance INTEGER NOT NULL, peer TEXT, amount INTEGER, source BLOB UNIQUE, time INTEGER NOT NULL, body BLOB NOT NULL, sig BLOB NOT NULL,
        UNIQUE (account, height)) STRICT`)
      db.run('CREATE INDEX coin_blocks_to ON coin_blocks (peer, type)')
      // Co-signatures of notaries (node ids) on final blocks.
      db.run('CREATE TABLE coin_cosigs (hash BLOB NOT NULL, notary TEXT NOT NULL, sig BLOB NOT NULL, PRIMARY KEY (hash, notary)) STRICT, WITHOUT ROWID')
      // What this node co-signed as a notary: one block per predecessor, ever (prev empty for open).
      db.run('CREATE TABLE coin_notes (account TEXT NOT NULL, prev BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (account, prev)) STRICT, WITHOUT ROWID')
    },
  },
  {
    version: 15,
    name: 'coin ledger: the blocks this notary co-signed, kept until final',
    up(db) {
      // A block this node co-signed is kept with the note, so after a crash it is tried again
      // rather than leaving its account with a predecessor no other block may follow.
      db.run('ALTER TABLE coin_notes ADD COLUMN body BLOB')
      db.run('ALTER TABLE coin_notes ADD COLUMN sig BLOB')
    },
  },
  {
    version: 16,
    name: 'traffic credits: bytes served to and received from each peer, its debt and payments',
    up(db) {
      // One row per peer node (its node id). Bytes: served (relayed is the part of it forwarded as a
      // circuit relay), received. Costs in µ毫 (1/1000 毫 = bytes × price in 毫 per KB): charged
      // past the free allowance, credited from the peer's final payments; allowance left and when it
      // was last refilled (ms). paid: 毫 this node paid the peer. refused: the peer's last refusal to pay.
      db.run(`CREATE TABLE traffic_meters (peer TEXT PRIMARY KEY, served INTEGER NOT NULL DEFAULT 0, relayed INTEGER NOT NULL DEFAULT 0,
        received INTEGER NOT NULL DEFAULT 0, charged INTEGER NOT NULL DEFAULT 0, credited INTEGER NOT NULL DEFAULT 0,
        allowance INTEGER NOT NULL, refilled INTEGER NOT NULL, paid INTEGER NOT NULL DEFAULT 0, refused TEXT NOT NULL DEFAULT '') STRICT, WITHOUT ROWID`)
    },
  },
  {
    version: 17,
    name: 'blocks in pack files: the pack and offset of each block (NULL: a file of its own)',
    up(db) {
      db.run('ALTER TABLE blocks ADD COLUMN pack INTEGER')
      db.run('ALTER TABLE blocks ADD COLUMN off INTEGER')
      db.run('CREATE INDEX blocks_pack ON blocks (pack) WHERE pack IS NOT NULL')
    },
  },
  {
    version: 18,
    name: 'traffic credits: bytes a peer relayed to this node, apart from those it served',
    up(db) {
      // A relay bills at its relay price: the bytes that came through it are counted apart, so what a
      // node pays it is checked against them at that price.
      db.run('ALTER TABLE traffic_meters ADD COLUMN received_relayed INTEGER NOT NULL DEFAULT 0')
    },
  },
  {
    version: 19,
    name: 'coin ledger: voting rounds, for a conflict neither block won',
    up(db) {
      // A notary's vote in round 1, 2, … after a predecessor (round 0 stays in coin_notes): one per
      // round, ever. A co-signature's round: a block is final with a quorum of the same round.
      db.run(`CREATE TABLE coin_votes (account TEXT NOT NULL, prev BLOB NOT NULL, round INTEGER NOT NULL, hash BLOB NOT NULL, body BLOB NOT NULL, sig BLOB NOT NULL,
        PRIMARY KEY (account, prev, round)) STRICT, WITHOUT ROWID`)
      db.run('ALTER TABLE coin_cosigs ADD COLUMN round INTEGER NOT NULL DEFAULT 0')
    },
  },
]
