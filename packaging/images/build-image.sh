#!/usr/bin/env bash
# Writes a container image as a docker-archive tarball (what `ctr images import` and the
# agent's air-gap folder accept) from a root filesystem folder, without any daemon.
#
#   build-image.sh OUT.tar REF ROOTFS ENTRYPOINT-JSON [CMD-JSON]
#   e.g. build-image.sh pause.tar kite.local/pause:1 rootfs '["/pause"]'
#
# The layer is reproducible (sorted, zero mtimes, root-owned), so the image id only changes
# when the files do. The image's architecture is the build machine's (the programs in the
# rootfs are built or copied from it); KITE_IMAGE_ARCH overrides it.
set -euo pipefail
if [[ $# -lt 4 ]]; then
  echo "usage: $0 OUT.tar REF ROOTFS ENTRYPOINT-JSON [CMD-JSON]" >&2
  exit 2
fi
out=$1 ref=$2 rootfs=$3 entrypoint=$4 cmd=${5:-null}

# The OCI / Go names of the architecture; ctr imports only images of its own platform.
arch=${KITE_IMAGE_ARCH:-}
if [[ -z "$arch" ]]; then
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    armv7l | armv6l) arch=arm ;;
    riscv64) arch=riscv64 ;;
    ppc64le) arch=ppc64le ;;
    s390x) arch=s390x ;;
    *) echo "$0: unknown machine $(uname -m); set KITE_IMAGE_ARCH" >&2; exit 1 ;;
  esac
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$work/layer.tar" .
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$layer_sha"
mv "$work/layer.tar" "$work/$layer_sha/layer.tar"

cat > "$work/config.json" <<JSON
{"architecture":"$arch","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Entrypoint":$entrypoint,"Cmd":$cmd,"WorkingDir":"/",
           "Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
 "rootfs":{"type":"layers","diff_ids":["sha256:$layer_sha"]}}
JSON
config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$config_sha.json"

cat > "$work/manifest.json" <<JSON
[{"Config":"$config_sha.json","RepoTags":["$ref"],"Layers":["$layer_sha/layer.tar"]}]
JSON

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" \
  -cf "$out.tmp" manifest.json "$config_sha.json" "$layer_sha"
mv "$out.tmp" "$out"
