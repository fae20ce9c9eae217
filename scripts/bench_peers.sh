#!/usr/bin/env bash
# strata side by side with InfluxDB 1.x and VictoriaMetrics, in one run, on this machine.
#
# usage: scripts/bench_peers.sh FILE.lp [workers]
#
#   1. starts the release strata daemon (Unix socket, plus --tcp 127.0.0.1:28087 for qtime.py),
#   2. CREATE DATABASE bench, loads FILE with the shared load.py (batch 5000, W workers) over
#      the Unix socket, prints strata's points/s (a 204 means fsynced + applied = queryable),
#   3. runs the same InfluxQL queries as peers.sh (each checked once for an error, then timed
#      with the shared qtime.py: median of 5 after a warm-up),
#   4. SIGTERM (strata drains everything to SSTables), then du -sb of the data dir / points,
#   5. runs ../shared/bench/peers.sh FILE W (InfluxDB 1.x + VictoriaMetrics),
#   6. prints a summary with ratios strata / peer.
#
# Environment: STRATA_BIN (default target/release/strata), BENCH_DIR (the shared bench scripts;
# default ../shared/bench, else /work/shared/bench), STRATA_TCP (default 127.0.0.1:28087).
set -u
F=${1:?usage: bench_peers.sh FILE.lp [workers]}
W=${2:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STRATA_BIN=${STRATA_BIN:-$ROOT/target/release/strata}
if [ -z "${BENCH_DIR:-}" ]; then
    for c in "$ROOT/../shared/bench" /work/shared/bench; do
        [ -f "$c/peers.sh" ] && { BENCH_DIR=$(cd "$c" && pwd); break; }
    done
fi
[ -f "${BENCH_DIR:-}/peers.sh" ] || { echo "bench_peers: cannot find peers.sh (set BENCH_DIR)" >&2; exit 2; }
[ -x "$STRATA_BIN" ] || { echo "bench_peers: $STRATA_BIN not found (cargo build --release, or set STRATA_BIN)" >&2; exit 2; }
[ -f "$F" ] || { echo "bench_peers: no such file $F" >&2; exit 2; }
TCP=${STRATA_TCP:-127.0.0.1:28087}

D=$(mktemp -d -t strata-bench.XXXX)
SOCK=$D/s.sock
DATA=$D/data
LOG=$D/all.log          # every figure line, strata's and the peers', parsed for the summary
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT

say() { echo "$*" | tee -a "$LOG"; }

POINTS=$(python3 - "$F" <<'PY'
import sys
n=0
with open(sys.argv[1],'rb') as f:
    for l in f:
        p=l.split(b' ')
        if len(p)>=2: n+=p[1].count(b',')+1
print(n)
PY
)
echo "load at start: $(cut -d" " -f1-3 /proc/loadavg)"
echo "file=$F workers=$W points=$POINTS strata_bin=$STRATA_BIN bench_dir=$BENCH_DIR"

# ---- strata --------------------------------------------------------------------------------
"$STRATA_BIN" serve --data-dir "$DATA" --socket "$SOCK" --tcp "$TCP" > "$D/strata.log" 2>&1 & SP=$!
for i in $(seq 100); do
    curl -sf --unix-socket "$SOCK" http://localhost/ping >/dev/null && break
    kill -0 $SP 2>/dev/null || { echo "strata exited at start:" >&2; cat "$D/strata.log" >&2; exit 1; }
    sleep 0.1
done
curl -sS --unix-socket "$SOCK" -XPOST 'http://localhost/query' --data-urlencode 'q=CREATE DATABASE bench' | sed 's/^/strata: create: /'; echo

if ! python3 "$BENCH_DIR/load.py" "$F" "unix:$SOCK:/write?db=bench" --workers "$W" > "$D/load.out" 2>&1; then
    echo "strata: LOAD FAILED:" >&2; sed 's/^/  /' "$D/load.out" >&2
    echo "strata: last daemon log lines:" >&2; tail -20 "$D/strata.log" >&2
    exit 1
fi
sed 's/^/strata: /' "$D/load.out" | tee -a "$LOG"

# Queries: the InfluxQL set of peers.sh.  First one untimed probe on the Unix socket: an HTTP
# error or an "error" member in the JSON means "not supported yet"; otherwise time it with the
# shared qtime.py over TCP (the same client code the peers are timed with).
sq() {  # LABEL QUERY
    local label=$1 query=$2 code body
    code=$(curl -s -o "$D/probe.json" -w '%{http_code}' --unix-socket "$SOCK" -G 'http://localhost/query' \
        --data-urlencode db=bench --data-urlencode epoch=ns --data-urlencode "q=$query")
    local err
    err=$(python3 - "$D/probe.json" "$code" <<'PY'
import json, sys
body = open(sys.argv[1], 'rb').read(); code = sys.argv[2]
try:
    j = json.loads(body)
except Exception:
    print(f"HTTP {code}, not JSON: {body[:200]!r}"); sys.exit()
errs = [j["error"]] if isinstance(j, dict) and "error" in j else []
errs += [r["error"] for r in j.get("results", []) if "error" in r] if isinstance(j, dict) else []
if errs or code != "200":
    print(f"HTTP {code}: " + "; ".join(map(str, errs)))
PY
)
    if [ -n "$err" ]; then
        say "strata: query=$label not_supported error=$err"
        return
    fi
    python3 "$BENCH_DIR/qtime.py" strata "http://$TCP/query?db=bench&epoch=ns" "$query" "$label" | tee -a "$LOG"
}
sq single-groupby-1-1-1 "SELECT max(usage_user) FROM cpu WHERE hostname='host_1' AND time >= 1700000000s AND time < 1700003600s GROUP BY time(1m)"
sq double-groupby-5 "SELECT mean(usage_user),mean(usage_system),mean(usage_idle),mean(usage_nice),mean(usage_iowait) FROM cpu WHERE time >= 1700000000s AND time < 1700014400s GROUP BY time(1h),hostname"
sq count-all "SELECT count(usage_user) FROM cpu"
# sanity: the count strata answers (the file has points/10 lines, one usage_user each)
echo "strata: count-all answer: $(head -c 300 "$D/probe.json")"
sq lastpoint "SELECT last(usage_user) FROM cpu GROUP BY hostname"

# Graceful stop (drains memtables to SSTables), then on-disk size.
RSS=$(awk '/VmHWM/{print $2" "$3}' /proc/$SP/status 2>/dev/null)
echo "strata: peak_rss=$RSS"
T0=$(date +%s.%N)
kill -TERM $SP; wait $SP; RC=$?; SP=
T1=$(date +%s.%N)
echo "strata: sigterm_exit_code=$RC shutdown_seconds=$(python3 -c "print(f'{$T1-$T0:.2f}')")"
[ "$RC" = 0 ] || { echo "strata: daemon log tail:"; tail -20 "$D/strata.log"; }
grep -Ei 'error|panic|warn' "$D/strata.log" | head -5 | sed 's/^/strata: log: /'
echo "strata: data dir breakdown (du -sb):"; du -sb "$DATA"/* 2>/dev/null | sed "s|$DATA/|  |"
SB=$(du -sb "$DATA" | awk '{print $1}')
say "strata: bytes_on_disk=$SB bytes_per_point=$(python3 -c "print(f'{$SB/$POINTS:.2f}')")"

echo "load before peers: $(cut -d" " -f1-3 /proc/loadavg)"
# ---- peers ---------------------------------------------------------------------------------
bash "$BENCH_DIR/peers.sh" "$F" "$W" 2>&1 | tee -a "$LOG"

echo "load at end: $(cut -d" " -f1-3 /proc/loadavg)"
# ---- summary -------------------------------------------------------------------------------
python3 - "$LOG" <<'PY'
import re, sys
ing, q, bpp, nsup = {}, {}, {}, {}
vm_flushed = None
for l in open(sys.argv[1]):
    l = l.strip()
    if m := re.match(r"(\w+): lines=\d+ points=\d+ seconds=[\d.]+ points_per_s=(\d+)", l):
        ing[m[1]] = float(m[2])
    elif m := re.match(r"victoriametrics: points_per_s_until_flushed=(\d+)", l):
        vm_flushed = float(m[1])
    elif m := re.match(r"(\w+): query=(\S+) median_ms=([\d.]+)", l):
        q.setdefault(m[2], {})[m[1]] = float(m[3])
    elif m := re.match(r"strata: query=(\S+) not_supported error=(.*)", l):
        nsup[m[1]] = m[2]; q.setdefault(m[1], {})
    elif m := re.match(r"bytes_per_point influxdb=([\d.]+) victoriametrics=([\d.]+)", l):
        bpp["influxdb"], bpp["victoriametrics"] = float(m[1]), float(m[2])
    elif m := re.match(r"strata: bytes_on_disk=\d+ bytes_per_point=([\d.]+)", l):
        bpp["strata"] = float(m[1])

def f(v, unit=""): return "-" if v is None else f"{v:,.0f}{unit}" if v >= 100 else f"{v:.2f}{unit}"
def ratio(a, b, hi_good):
    if a is None or b is None or b == 0: return "-"
    r = a / b
    better = (r > 1) == hi_good
    return f"{r:.2f}x ({'strata better' if better else 'strata worse'})" if abs(r - 1) > 0.005 else "1.00x"

S, I, V = "strata", "influxdb", "victoriametrics"
print("\n==================== summary (ratio = strata / peer) ====================")
print(f"{'metric':<34}{'strata':>14}{'influxdb':>14}{'victoriam.':>14}   {'vs influxdb':<26}{'vs victoriametrics'}")
row = lambda name, s, i, v, hg: print(f"{name:<34}{f(s):>14}{f(i):>14}{f(v):>14}   {ratio(s, i, hg):<26}{ratio(s, v, hg)}")
row("ingest points/s (acked)", ing.get(S), ing.get(I), ing.get(V), True)
row("ingest points/s (until queryable)", ing.get(S), ing.get(I), vm_flushed, True)
row("bytes/point on disk", bpp.get(S), bpp.get(I), bpp.get(V), False)
for label, d in q.items():
    if label in nsup:
        print(f"{'query ' + label + ' median ms':<34}{'unsupported':>14}{f(d.get(I)):>14}{f(d.get(V)):>14}   not supported yet: {nsup[label][:80]}")
    else:
        row(f"query {label} median ms", d.get(S), d.get(I), d.get(V), False)
print("(strata: ack = WAL fsync + memtable apply, so acked == queryable; influxdb: acked == fsynced == queryable;\n"
      " victoriametrics acks before data is durable/queryable, the second ingest row includes its force_flush.)")
PY
