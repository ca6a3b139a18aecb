#!/usr/bin/env bash
# The quick-start demo (`make demo`): three slow poetry servers on free loopback ports, then
# get-poetry fetching from all three at once plus one closed port; then one poem in full.
#
# get-poetry exits 1 because the closed port fails; that is the expected outcome, so the demo
# exits 0 then. Any other outcome (every poem arrived, a usage error, a crash) fails the demo,
# and so does a failure of the single-poem run.
#
# Usage: scripts/demo.sh [BUILD_DIR]   (default build; `make demo` builds it first)
# Environment: DEMO_DELAY (seconds between chunks, default 0.05), DEMO_NUM_BYTES (chunk size,
# default 40).
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${1:-build}
server=$build_dir/bin/poetry-server
client=$build_dir/bin/get-poetry
delay=${DEMO_DELAY:-0.05}
num_bytes=${DEMO_NUM_BYTES:-40}

for program in "$server" "$client"; do
  if [[ ! -x $program ]]; then
    echo "demo: $program not found; run 'make build' first (or 'make demo')." >&2
    exit 1
  fi
done

# The poems: poetry/*.txt, else any file in poetry/ that is not a README.
shopt -s nullglob
poems=(poetry/*.txt)
if ((${#poems[@]} == 0)); then
  for f in poetry/*; do
    [[ -f $f && $(basename "$f") != README* ]] && poems+=("$f")
  done
fi
if ((${#poems[@]} == 0)); then
  echo "demo: no poems in poetry/" >&2
  exit 1
fi

work=$(mktemp -d -t spindle-demo.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Line-buffer the servers' stdout so the "Serving" line reaches the log file at once.
line_buffered=()
if command -v stdbuf >/dev/null 2>&1; then
  line_buffered=(stdbuf -oL)
fi

# start_server POEM NAME: starts a server on a free loopback port and waits (at most 10 s) for
# its "Serving POEM on port N." line. Sets server_pid and server_port.
start_server() {
  local poem=$1 log=$work/$2.log i
  "${line_buffered[@]}" "$server" --iface 127.0.0.1 --delay "$delay" --num-bytes "$num_bytes" \
    "$poem" >"$log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for ((i = 0; i < 100; i++)); do
    server_port=$(sed -n 's/^Serving .* on port \([0-9][0-9]*\)\.$/\1/p' "$log" | head -n 1)
    if [[ -n $server_port ]]; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "demo: poetry-server for $poem exited before serving:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "demo: poetry-server for $poem printed no port within 10 s:" >&2
  cat "$log" >&2
  return 1
}

addresses=()
for i in 0 1 2; do
  poem=${poems[i % ${#poems[@]}]}
  start_server "$poem" "server$i"
  echo "demo: serving $poem on 127.0.0.1:$server_port (${num_bytes} bytes every ${delay} s)"
  addresses+=("127.0.0.1:$server_port")
done

# A port that is surely closed: one a server just had, after that server is gone.
start_server "${poems[0]}" closed
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
addresses+=("127.0.0.1:$server_port")
echo "demo: 127.0.0.1:$server_port is closed (its server was stopped)"

# --timeout bounds the demo even if a server stalls; the poems take a few seconds.
echo "demo: \$ $client --timeout 30 ${addresses[*]}"
echo
status=0
"$client" --timeout 30 "${addresses[@]}" || status=$?
echo

case $status in
  1)
    echo "demo: get-poetry exited 1, as expected: one address is closed."
    ;;
  0)
    echo "demo: get-poetry exited 0, but 127.0.0.1:${addresses[3]##*:} is closed and should" \
      "have failed." >&2
    exit 1
    ;;
  *)
    echo "demo: get-poetry exited $status (expected 1: one address fails)." >&2
    exit 1
    ;;
esac

# And one poem in full: --simple prints only the poems (the tutorial's client 2.1).
echo
echo "demo: \$ $client --simple --timeout 30 ${addresses[0]}"
echo
status=0
"$client" --simple --timeout 30 "${addresses[0]}" || status=$?
if ((status != 0)); then
  echo "demo: get-poetry --simple exited $status (expected 0: the server is up)." >&2
  exit 1
fi
echo "demo: OK"
