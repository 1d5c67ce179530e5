#!/usr/bin/env bash
# Builds tools/helm-render (the `helm template` stand-in the chart tests use) into the kube-mesos cache and prints the
# binary's path. Offline: Go in GOPATH mode against Debian's packaged sources in /usr/share/gocode, no module downloads.
# Rebuilds only when the sources change. Usage: tools/helm-render/build.sh  →  ~/.cache/kube-mesos/helm-render/helm-render-<hash>
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)"
cache="${KUBE_MESOS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-mesos}/helm-render"
gocode=/usr/share/gocode/src
packages=(golang-go golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev golang-gopkg-yaml.v2-dev golang-github-xeipuuv-gojsonschema-dev)

# test files run in parallel and may all ask for the tool at once: one builds (or installs), the others wait
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if ! command -v go >/dev/null || [ ! -d "$gocode/github.com/Masterminds/sprig" ] || [ ! -d "$gocode/github.com/ghodss/yaml" ] \
  || [ ! -d "$gocode/gopkg.in/yaml.v2" ] || [ ! -d "$gocode/github.com/xeipuuv/gojsonschema" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "helm-render: installing ${packages[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >&2 \
      || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >&2; }
  else
    echo "helm-render: needs Go and Debian's Go sources: apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi

stamp="$( (cat "$src"/*.go; go version) | sha256sum | cut -c1-16)"
# one binary per source version: worktrees with different sources share the cache without overwriting each other's
bin="$cache/helm-render-$stamp"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
tmp="$(mktemp "$cache/helm-render.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
(cd "$src" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$cache/go-build" GOFLAGS= go build -o "$tmp" .)
mv -f "$tmp" "$bin"
echo "$bin"
