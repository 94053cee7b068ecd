#!/usr/bin/env bash
# Reproduces the accept-queue overflow shown in README.md "Examples", inside a throwaway network
# namespace, and runs netdoctor against it. Needs root, ip (iproute2) and python3.
#
#   sudo docs/examples/listen-overflow.sh [path/to/netdoctor]
#
# What happens: a listener on 127.0.0.1:8080 with backlog 4 never calls accept(); a client sends
# 160 non-blocking connects at 20 per second and keeps them open for at most 20 s. The namespace
# (nd-docs-<pid>) and every process started here are removed on exit. Nothing leaves the
# namespace's loopback and no sysctl is changed.
set -euo pipefail
cd "$(dirname "$0")/../.."

netdoctor=${1:-target/release/netdoctor}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
command -v ip >/dev/null || { echo "needs ip (iproute2)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 1; }
[ -x "$netdoctor" ] || { echo "no netdoctor binary at $netdoctor (cargo build --release)" >&2; exit 1; }

ns=nd-docs-$$
tmp=$(mktemp -d)
listener_pid=
burst_pid=
cleanup() {
  exec 3>&- 2>/dev/null || true   # the listener exits when its standard input closes
  [ -n "$burst_pid" ] && kill "$burst_pid" 2>/dev/null || true
  [ -n "$listener_pid" ] && kill "$listener_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up

# The listener: backlog 4, never accepts; holds until fd 3 closes, at most 40 s.
mkfifo "$tmp/hold"
HOLD_SECONDS=40 ip netns exec "$ns" \
  python3 tests/support/sockhold.py L 127.0.0.1 8080 4 <"$tmp/hold" >/dev/null &
listener_pid=$!
exec 3>"$tmp/hold"
sleep 1

# The burst: COUNT non-blocking connects at RATE per second, held for at most HOLD seconds.
ip netns exec "$ns" python3 - 127.0.0.1 8080 160 20 20 <<'PY' &
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
count, rate, hold = min(int(sys.argv[3]), 1000), float(sys.argv[4]), min(float(sys.argv[5]), 60.0)
start = time.monotonic()
kept = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((host, port))
    except OSError:
        pass  # EINPROGRESS: the SYN is on its way
    kept.append(s)
    time.sleep(1.0 / rate)
time.sleep(max(0.0, hold - (time.monotonic() - start)))
for s in kept:
    s.close()
PY
burst_pid=$!
sleep 1.5

show() {
  echo "\$ $*"
  local rc=0
  "$@" || rc=$?
  echo "(exit $rc)"
  echo
}
show "$netdoctor" sockets --listen --netns "$ns"
show "$netdoctor" check --netns "$ns" --interval 2
show "$netdoctor" counters --netns "$ns" ListenOverflows ListenDrops
echo "\$ $netdoctor check --netns $ns --interval 2 --json | head -n 20"
"$netdoctor" check --netns "$ns" --interval 2 --json | head -n 20 || true
