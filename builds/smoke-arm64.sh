#!/usr/bin/env bash
# Smoke test of the linux-arm64 binary under qemu: version, run → ready, GET /getvar?name=ver, SIGTERM → exit 0.
#   builds/smoke-arm64.sh [--rebuild]    (--rebuild: build builds/out/leither-linux-arm64 even if it exists)
# Env: READY_TIMEOUT (seconds, default 60); RESTARTS (restart cycles after the first run, default 1);
#      LEITHER_BIN (test this arm64 binary instead of builds/out's). Exit 0 = PASS, 1 = FAIL, 2 = missing tools.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${LEITHER_BIN:-$ROOT/builds/out/leither-linux-arm64}
SYSROOT=/usr/aarch64-linux-gnu
READY_TIMEOUT=${READY_TIMEOUT:-60}
RESTARTS=${RESTARTS:-1}
STOP_TIMEOUT=30

if ! command -v qemu-aarch64-static >/dev/null || [ ! -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ]; then
  echo "qemu-aarch64-static or the arm64 libc ($SYSROOT) is not installed: run scripts/setup" >&2
  exit 2
fi
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 2; }

ms_now() { echo $(($(date +%s%N) / 1000000)); }
fail() {
  echo "FAIL: $*"
  [ -s "${TMP:-}/stderr" ] && { echo "--- node stderr (last lines):"; tail -n 20 "$TMP/stderr"; }
  exit 1
}

if [ -n "${LEITHER_BIN:-}" ]; then
  [ -x "$BIN" ] || fail "LEITHER_BIN=$BIN is not an executable file"
elif [ "${1:-}" = "--rebuild" ] || [ ! -x "$BIN" ]; then
  echo "building $BIN …"
  "$ROOT/node_modules/.bin/bun" builds/build.ts --target linux-arm64
fi
WANT=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
[ -n "$WANT" ] || fail "no version in package.json"

# A fresh folder under /tmp: no node_modules above it can stand in for what the binary lacks.
TMP=$(mktemp -d /tmp/leither-arm64.XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
cp "$BIN" "$TMP/leither"
cd "$TMP"
QEMU=(qemu-aarch64-static -L "$SYSROOT")

t0=$(ms_now)
VERSION_LINE=$(timeout "$READY_TIMEOUT" "${QEMU[@]}" ./leither version) || fail "leither version failed"
echo "version: $VERSION_LINE ($(($(ms_now) - t0)) ms)"
case "$VERSION_LINE" in
  "leither $WANT ("*linux-arm64*) ;;
  *) fail "version line does not say leither $WANT on linux-arm64" ;;
esac

# One start → ready → getvar → SIGTERM cycle; $1 names it in the output ("fresh" or "restart").
cycle() {
  : >"$TMP/stdout"
  local t0 ready_ms url got code=0 stop_ms
  t0=$(ms_now)
  "${QEMU[@]}" ./leither run --data "$TMP/data" --port 0 --p2p-port 0 --host 127.0.0.1 >"$TMP/stdout" 2>"$TMP/stderr" &
  PID=$!
  until grep -q '^ready ' "$TMP/stdout"; do
    kill -0 "$PID" 2>/dev/null || fail "$1: the node exited before the ready line"
    [ $(($(ms_now) - t0)) -lt $((READY_TIMEOUT * 1000)) ] || fail "$1: no ready line within ${READY_TIMEOUT} s"
    sleep 0.05
  done
  ready_ms=$(($(ms_now) - t0))
  url=$(sed -n 's/^ready \(http:[^ ]*\)$/\1/p' "$TMP/stdout" | head -n 1)
  got=$(curl -sS --max-time 10 "$url/getvar?name=ver") || fail "$1: GET $url/getvar?name=ver failed"
  [ "$got" = "\"$WANT\"" ] || fail "$1: getvar ver = $got, expected \"$WANT\""

  t0=$(ms_now)
  kill -TERM "$PID"
  while kill -0 "$PID" 2>/dev/null; do
    [ $(($(ms_now) - t0)) -lt $((STOP_TIMEOUT * 1000)) ] || fail "$1: still running ${STOP_TIMEOUT} s after SIGTERM"
    sleep 0.05
  done
  wait "$PID" || code=$?
  stop_ms=$(($(ms_now) - t0))
  PID=""
  [ "$code" = 0 ] || fail "$1: exit code $code after SIGTERM"
  echo "$1: ready_ms=$ready_ms getvar=$got stop_ms=$stop_ms exit=$code"
}

cycle fresh     # creates config and keys in the data dir
for _ in $(seq "$RESTARTS"); do cycle restart; done   # the same data dir again
echo "PASS: leither-linux-arm64 under qemu ($(qemu-aarch64-static --version | head -n 1))"
