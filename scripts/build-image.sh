#!/bin/bash
# scripts/build-image.sh - build the pycage sandbox image offline.
#
# Usage: scripts/build-image.sh RUNNER_BIN [IMAGE]
#   RUNNER_BIN  pycage-runner built on this Debian 12 host (runner/runner.c)
#   IMAGE       tag to build, default pycage-sandbox:latest
#
# Owns: the base image pycage-base:bookworm (debootstrapped when missing) and
# IMAGE.  Never pulls from a registry: only Debian's mirror is reachable here.
# Idempotent: IMAGE carries the label org.pycage.source-hash, the sha256 of
# everything that goes into it, and is rebuilt only when that changes.
# Runs as root without a terminal (CI has no stdin).  Always calls
# /usr/bin/docker, Debian's 20.10 client: a newer client on PATH wants buildx.
set -euo pipefail

readonly DOCKER=/usr/bin/docker
readonly BASE_IMAGE=pycage-base:bookworm
readonly DEBIAN_SUITE=bookworm
readonly DEBIAN_MIRROR=http://deb.debian.org/debian
readonly BASE_PACKAGES=python3-minimal,libpython3.11,python3-numpy,python3-pandas,python3-openpyxl,python3-sympy
readonly HASH_LABEL=org.pycage.source-hash
# The build args of the offline path; part of the hash, so changing them rebuilds.
readonly BUILD_ARGS=(--build-arg "BASE=$BASE_IMAGE" --build-arg PACKAGES=debian --build-arg RUNNER=prebuilt)

say() { printf 'build-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	die "usage: $0 RUNNER_BIN [IMAGE]"
fi
runner_bin=$1
image=${2:-pycage-sandbox:latest}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dockerfile=$repo_root/docker/Dockerfile
# The runner's sources (runner.c, audit.c and their headers): the image
# carries them, and the Dockerfile's source path compiles them.
runner_sources=$(cd "$repo_root" && ls runner/*.c runner/*.h)

if ! [ -f "$runner_bin" ] || ! [ -x "$runner_bin" ]; then
	die "$runner_bin is not an executable file"
fi
[ -f "$dockerfile" ] || die "$dockerfile is missing"
[ -f "$repo_root/runner/runner.c" ] || die "$repo_root/runner/runner.c is missing"
[ -x "$DOCKER" ] || die "$DOCKER is missing (apt-get install docker.io)"
"$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
	die "cannot reach dockerd through $DOCKER (is dockerd running?)"

# Two builds at once (parallel CI jobs) would debootstrap twice and race on
# the tag.
lock_file=${TMPDIR:-/tmp}/pycage-build-image.lock
exec 9>"$lock_file"
flock 9 || die "cannot lock $lock_file"

# Temp dirs are removed on every exit.  debootstrap mounts proc and sys
# inside the rootfs and leaves them mounted when it fails: unmount first,
# and never let rm cross into another file system.
rootfs=""
context=""
cleanup() {
	if [ -n "$rootfs" ] && [ -d "$rootfs" ]; then
		awk -v root="$rootfs/" 'index($2, root) == 1 { print $2 }' /proc/mounts |
			sort -r | while read -r mount_point; do
				umount -l "$mount_point" || say "warning: cannot unmount $mount_point"
			done
		rm -rf --one-file-system "$rootfs"
	fi
	if [ -n "$context" ]; then
		rm -rf "$context"
	fi
}
trap cleanup EXIT

build_base() {
	[ "$(id -u)" -eq 0 ] || die "$BASE_IMAGE is missing and building it needs root (debootstrap)"
	if ! command -v debootstrap >/dev/null 2>&1; then
		say "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get update </dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap </dev/null
	fi
	# ~600 MB: under /var/tmp, since /tmp may be a small tmpfs.
	rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/pycage-rootfs.XXXXXX")
	say "debootstrap $DEBIAN_SUITE into $rootfs (about a minute)"
	debootstrap --variant=minbase --include="$BASE_PACKAGES" \
		"$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" </dev/null
	say "importing $rootfs as $BASE_IMAGE"
	tar -C "$rootfs" -c . | "$DOCKER" import - "$BASE_IMAGE" >/dev/null
	cleanup
	rootfs=""
}

if ! "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
	build_base
else
	say "base image $BASE_IMAGE present"
fi
base_id=$("$DOCKER" image inspect --format '{{.Id}}' "$BASE_IMAGE")

source_hash=$(
	{
		sha256sum <"$dockerfile"
		(cd "$repo_root" && sha256sum $runner_sources)
		sha256sum <"$runner_bin"
		printf '%s\n' "$base_id" "${BUILD_ARGS[*]}"
	} | sha256sum | cut -d' ' -f1
)

current_hash=$("$DOCKER" image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" \
	"$image" 2>/dev/null || true)
if [ "$current_hash" = "$source_hash" ]; then
	say "image up to date: $image ($HASH_LABEL=$source_hash)"
	exit 0
fi
old_image_id=$("$DOCKER" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)

# A context of the Dockerfile, the runner's sources and its binary: the repository may hold build trees and secrets
# that have no business in the daemon.
context=$(mktemp -d "${TMPDIR:-/tmp}/pycage-context.XXXXXX")
mkdir "$context/runner"
cp "$dockerfile" "$context/Dockerfile"
(cd "$repo_root" && cp $runner_sources "$context/runner/")
cp "$runner_bin" "$context/runner/pycage-runner"

say "building $image ($HASH_LABEL=$source_hash)"
DOCKER_BUILDKIT=0 "$DOCKER" build --force-rm \
	--label "$HASH_LABEL=$source_hash" \
	"${BUILD_ARGS[@]}" \
	-t "$image" "$context" </dev/null

# The previous build of IMAGE is now untagged; drop it unless a container
# still uses it.
new_image_id=$("$DOCKER" image inspect --format '{{.Id}}' "$image")
if [ -n "$old_image_id" ] && [ "$old_image_id" != "$new_image_id" ]; then
	"$DOCKER" image rm "$old_image_id" >/dev/null 2>&1 ||
		say "note: previous image $old_image_id kept (still in use or tagged)"
fi
say "built $image"
