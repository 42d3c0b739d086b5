#!/usr/bin/env bash
# rootfs.sh BINARY DIR: lays out in DIR (emptied first) the whole file system of the spoofsense
# image, which the Dockerfile copies into `scratch`: the static binary, /etc/passwd and /etc/group
# naming the non-root user 65532, and under /licenses the licence texts of everything the binary
# holds (the models, the Go toolchain's standard library and every Go module it links).
set -euo pipefail
bin=${1:?usage: rootfs.sh BINARY DIR}
dir=${2:?usage: rootfs.sh BINARY DIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ -x "$bin" ] || { echo "rootfs.sh: $bin is not an executable: run make build first" >&2; exit 1; }
case "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" in
  177ELF) ;;
  *) echo "rootfs.sh: $bin is not a Linux ELF binary" >&2; exit 1 ;;
esac

rm -rf "$dir"
mkdir -p "$dir/etc" "$dir/licenses/models" "$dir/licenses/go"
install -m 0755 "$bin" "$dir/spoofsense"
install -m 0644 "$here/passwd" "$here/group" "$dir/etc/"
install -m 0644 "$repo"/models/licenses/* "$dir/licenses/models/"

# Go's own licence covers the runtime and standard library linked into every Go binary.
mkdir -p "$dir/licenses/go/go.dev"
install -m 0644 "$(go env GOROOT)/LICENSE" "$dir/licenses/go/go.dev/LICENSE"
# Every module the embedmodels build links, with the licence and notice files at its root.
n=0
while read -r path mdir; do
  [ -n "$mdir" ] || { echo "rootfs.sh: module $path is not in the module cache: run go mod download" >&2; exit 1; }
  found=0
  for f in "$mdir"/*; do
    case "$(basename "$f" | tr '[:lower:]' '[:upper:]')" in
      LICENSE*|LICENCE*|COPYING*|NOTICE*)
        mkdir -p "$dir/licenses/go/$path"
        cp -R "$f" "$dir/licenses/go/$path/" # freetype's is a folder of texts
        chmod -R u+w,a+rX "$dir/licenses/go/$path"
        found=1 ;;
    esac
  done
  [ "$found" = 1 ] || { echo "rootfs.sh: module $path has no LICENSE file at $mdir" >&2; exit 1; }
  n=$((n + 1))
done < <(cd "$repo" && go list -deps -tags embedmodels -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Dir}}{{end}}{{end}}' . | sort -u)
echo "rootfs.sh: $dir holds spoofsense, /etc/passwd and the licences of 3 models, Go and $n modules"
