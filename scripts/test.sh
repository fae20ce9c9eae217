#!/usr/bin/env bash
# The test command (README.md): installs what the tests need on a fresh machine, then runs
# every test of the workspace. tests/influx_cli.rs drives the real `influx` CLI,
# tests/influxdb_differential.rs a real InfluxDB 1.x server (`influxd`) and
# tests/prometheus_remote_write.rs a real Prometheus; they fail (never skip) when their program
# is missing, so they are installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v influx >/dev/null 2>&1 || need_apt+=(influxdb-client)
[ -x /usr/bin/influxd ] || need_apt+=(influxdb)
[ -x /usr/bin/prometheus ] || need_apt+=(prometheus)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${need_apt[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

cargo test --workspace
