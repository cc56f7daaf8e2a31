#!/usr/bin/env bash
# Writes a container image as a docker-archive tarball (what `ctr images import` and the
# agent's air-gap folder accept) from a root filesystem folder, without any daemon.
#
#   build-image.sh OUT.tar REF ROOTFS ENTRYPOINT-JSON [CMD-JSON]
#   e.g. build-image.sh pause.tar kite.local/pause:1 rootfs '["/pause"]'
#
# The layer is reproducible (sorted, zero mtimes, root-owned), so the image id only changes
# when the files do.
set -euo pipefail
out=$1 ref=$2 rootfs=$3 entrypoint=$4 cmd=${5:-null}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$work/layer.tar" .
layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/$layer_sha"
mv "$work/layer.tar" "$work/$layer_sha/layer.tar"

cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
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
