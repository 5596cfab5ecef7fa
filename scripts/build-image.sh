#!/usr/bin/env bash
# Assembles the ipinsights OCI image without a container daemon, from a binary already built
# on this (Debian 12) machine: the same image the Dockerfile builds, for machines where no
# daemon runs and no base image can be pulled (CI, air-gapped build hosts).
#
#   bash scripts/build-image.sh [--binary build/release/ipinsights] [--layout build/image/oci]
#                               [--tag latest] [--archive FILE.tar]
#
# The result is an OCI image layout (DIR:TAG) with one layer holding only:
#   /usr/local/bin/ipinsights                 the binary (debug symbols stripped)
#   every shared library it loads (ldd), the dynamic loader included, at its Debian path,
#   with Debian 12's merged-/usr links (/lib -> usr/lib, /lib64 -> usr/lib64, ...)
#   /etc/ssl/certs/ca-certificates.crt        CA certificates (S3 over HTTPS)
#   /etc/passwd, /etc/group, /etc/nsswitch.conf, /etc/hosts
#   /tmp (1777), /opt/ml/... (1777: SageMaker's layout, writable by any uid), /work (1777)
# and the image config: ENTRYPOINT ["/usr/local/bin/ipinsights"], CMD ["--help"],
# EXPOSE 8080/tcp, WORKDIR /work, PATH. So `docker run IMAGE train`, `docker run IMAGE serve`
# (SageMaker's entry points) and `docker run IMAGE prepare ...` all run the binary.
#
# Use it: `skopeo copy oci:build/image/oci:latest docker://ACCOUNT.dkr.ecr.REGION.amazonaws.com/ipinsights:TAG`
# (or `podman load`/`docker load` of --archive's oci-archive). umoci (Debian package) does the
# layout work; as non-root it runs with --rootless.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=build/release/ipinsights
layout=build/image/oci
tag=latest
archive=""
while (($#)); do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --layout) layout=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --archive) archive=$2; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v umoci >/dev/null || { echo "build-image: umoci is missing (apt-get install umoci)" >&2; exit 1; }
[ -x "$binary" ] || { echo "build-image: $binary is not an executable (build it first)" >&2; exit 1; }
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca_bundle" ] || { echo "build-image: $ca_bundle is missing (apt-get install ca-certificates)" >&2; exit 1; }

rootless=()
[ "$(id -u)" -eq 0 ] || rootless=(--rootless)

work=$(mktemp -d)
cleanup() { chmod -R u+rwX "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

rm -rf "$layout"
mkdir -p "$(dirname "$layout")"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack "${rootless[@]}" --image "$layout:$tag" "$work/bundle"
rootfs=$work/bundle/rootfs

# Debian 12 is merged-/usr: /lib, /lib64, /bin, /sbin are links into /usr. Keep them, so the
# loader's and libraries' paths (as ldd prints them) resolve inside the image as on the host.
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$rootfs/$d"; fi
done

# The binary and exactly the shared objects it loads. Each goes to the real directory of the
# path ldd printed (so /lib64/ld-linux-x86-64.so.2 lands in usr/lib64 behind the /lib64 link)
# under the name the loader looks for, with the content of the file the link points at.
install -d -m 0755 "$rootfs/usr/local/bin"
install -m 0755 "$binary" "$rootfs/usr/local/bin/ipinsights"
if command -v strip >/dev/null; then strip --strip-debug "$rootfs/usr/local/bin/ipinsights"; fi
ldd_out=$(ldd "$binary")
if grep -q "not found" <<<"$ldd_out"; then
  echo "build-image: $binary has unresolved libraries:" >&2
  grep "not found" <<<"$ldd_out" >&2
  exit 1
fi
libs=$(grep -o '/[^ ]*' <<<"$ldd_out" | sort -u)
for lib in $libs; do
  dir=$(realpath "$(dirname "$lib")")
  install -d -m 0755 "$rootfs$dir"
  cp -L --preserve=mode "$lib" "$rootfs$dir/$(basename "$lib")"
done

# CA certificates where Debian's libcurl and OpenSSL look for them.
install -d -m 0755 "$rootfs/etc/ssl/certs" "$rootfs/usr/lib/ssl"
install -m 0644 "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
ln -s /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$rootfs/usr/lib/ssl/certs"

# Users (root, and ipinsights 1000 for `--user 1000`), name lookup, writable folders.
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
ipinsights:x:1000:1000:ipinsights:/work:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
ipinsights:x:1000:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
chmod 0644 "$rootfs"/etc/{passwd,group,nsswitch.conf,hosts}
install -d -m 0700 "$rootfs/root"
install -d -m 1777 "$rootfs/tmp" "$rootfs/work"
install -d -m 1777 "$rootfs/opt/ml" "$rootfs/opt/ml/input" "$rootfs/opt/ml/input/config" \
  "$rootfs/opt/ml/input/data" "$rootfs/opt/ml/model" "$rootfs/opt/ml/output"

umoci repack --image "$layout:$tag" "$work/bundle"
umoci config --image "$layout:$tag" \
  --config.entrypoint /usr/local/bin/ipinsights \
  --config.cmd --help \
  --config.workingdir /work \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.exposedports 8080/tcp \
  --config.label org.opencontainers.image.title=ipinsights \
  --config.label org.opencontainers.image.description="IP Insights: train, serve and run the daily loop (SageMaker BYOC train/serve)" \
  --architecture "$(dpkg --print-architecture)" --os linux \
  --history.created_by "scripts/build-image.sh"
umoci gc --layout "$layout"

if [ -n "$archive" ]; then
  # An oci-archive is the layout as a tar: `skopeo copy oci-archive:FILE docker://...`,
  # `podman load -i FILE`.
  mkdir -p "$(dirname "$archive")"
  tar -C "$layout" -cf "$archive" .
fi
echo "build-image: $layout:$tag ($(du -sh "$layout" | cut -f1))" >&2
