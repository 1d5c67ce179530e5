#!/usr/bin/env bash
# Everything `npm test` needs on this machine, installed once and cached (npm's `pretest` runs this after the build;
# .ci/run adds nothing to it):
#   - `kube-mesos control-plane install`: etcd + kube-apiserver + kube-controller-manager + kube-scheduler + the kubelet
#     (one Kubernetes build from Debian's source package), containerd, runc, CNI plugins, docker-registry, skopeo and
#     the offline node images in a local registry storage;
#   - Debian packages for the rest of the suite: ZooKeeper (zk:// master detection), Chromium (the dashboard's
#     Playwright test), Go + sprig (the Helm chart render tool), mesos-go's .proto files (the proto cross-check),
#     kubectl when none is on PATH;
#   - the chart render tool (tools/helm-render), built into the cache.
# When nothing is missing this takes about a second and needs no root; otherwise it must run as root (apt-get).
# Progress goes to stderr. KUBE_MESOS_CACHE moves the cache (default ~/.cache/kube-mesos).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s%N)
say() { echo "test prerequisites: $*" >&2; }

if [ ! -f dist/cli/main.js ]; then
  say "dist/ is missing: run npm run build first"
  exit 1
fi
node dist/cli/main.js control-plane install --brief

want=(zookeeper chromium golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev golang-gopkg-yaml.v2-dev golang-github-mesos-mesos-go-dev)
# Debian's kubectl (1.20, the control plane's version) unless one is installed already (any version ≥ 1.19 works).
command -v kubectl >/dev/null || want+=(kubernetes-client)
declare -A ok=()
while read -r pkg status; do
  if [ "$status" = "install ok installed" ]; then ok[${pkg%%:*}]=1; fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null || true)
missing=()
for p in "${want[@]}"; do [ -n "${ok[$p]:-}" ] || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    say "error: need root to apt-get install ${missing[*]}"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { say "apt-get update"; apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
fi

tools/helm-render/build.sh >/dev/null
ms=$((($(date +%s%N) - started) / 1000000))
say "ready ($((ms / 1000)).$((ms % 1000 / 100)) s)"
