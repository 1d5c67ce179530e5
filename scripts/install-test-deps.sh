#!/usr/bin/env bash
# Debian packages the test suite needs beyond the control plane (which `kube-mesos control-plane install` provides):
# ZooKeeper (zk:// master detection contract tests), Chromium (the dashboard's Playwright test), Go + sprig (the
# Helm chart render tool), mesos-go's .proto files (test/contract/proto-crosscheck.test.ts, which fails without them).
# Idempotent: installs only what is missing. Needs root when something is missing.
set -euo pipefail
want=(zookeeper chromium golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev golang-gopkg-yaml.v2-dev golang-github-mesos-mesos-go-dev)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing test dependencies: ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "error: need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
