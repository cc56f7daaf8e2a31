#!/usr/bin/env bash
# Fills a root filesystem folder for the kite.local/busybox test image from a static busybox:
# /bin/busybox, one relative symlink per applet in /bin (and at the applet's usual place,
# e.g. /usr/bin/env, /usr/sbin/httpd, when that differs), /etc/passwd and /etc/group with
# root and nobody, /tmp (mode 1777), and /var/www/index.html so that
# `httpd -f -p 80 -h /var/www` serves a page.
#
#   busybox-rootfs.sh ROOTFS [BUSYBOX]      (BUSYBOX defaults to /bin/busybox)
#
# ROOTFS is emptied first. The busybox must be statically linked: the image has no libc.
set -euo pipefail
rootfs=${1:?usage: $0 ROOTFS [BUSYBOX]}
busybox=${2:-/bin/busybox}

if [[ ! -x "$busybox" ]]; then
  echo "$0: $busybox not found (install busybox-static)" >&2
  exit 1
fi
# A dynamically linked busybox would fail only when a container starts; refuse it here.
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter'; then
  echo "$0: $busybox is dynamically linked; the image needs busybox-static" >&2
  exit 1
fi

rm -rf "$rootfs"
mkdir -p "$rootfs"/{bin,etc,root,tmp,usr/bin,usr/sbin,sbin,var/www}
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
chmod 0755 "$rootfs/bin/busybox"

for applet in $("$busybox" --list); do
  [[ "$applet" == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"
done
# The usual places too, for scripts that name them (#!/usr/bin/env, /sbin/ip, ...).
for path in $("$busybox" --list-full); do
  dir=$(dirname "$path")
  [[ "$dir" == bin || "$dir" == . ]] && continue
  mkdir -p "$rootfs/$dir"
  up=$(echo "$dir" | sed -e 's|[^/][^/]*|..|g')
  ln -sf "$up/bin/busybox" "$rootfs/$path"
done

cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo "kite busybox" > "$rootfs/var/www/index.html"
