#!/usr/bin/env bash
# Builds the PostgreSQL 15 image the docker engine and its tests use, without any container
# registry: debootstrap a minimal Debian bookworm from the machine's Debian mirror, import it
# as local/debian:bookworm, then build docker/postgres/ on top. Tags lms-backup/postgres:15 and
# postgres:15 (so the default image name resolves locally and nothing is pulled).
#
# Idempotent: skips everything when lms-backup/postgres:15 carries the hash of docker/postgres/
# and of the base image (label lms-backup.image-hash); reuses local/debian:bookworm when present.
#
# Environment:
#   LMS_DEBIAN_MIRROR   Debian mirror URL (default: the one in /etc/apt/sources.list*)
#   LMS_IMAGE_REBUILD=1 rebuild even when the hash matches, without Docker's layer cache (takes
#                       current packages); the base image is reused: remove local/debian:bookworm
#                       to debootstrap again
# Needs root, a running Docker engine (scripts/start-docker.sh) and debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

base_image=local/debian:bookworm
image=lms-backup/postgres:15
alias_image=postgres:15
context=docker/postgres
label=lms-backup.image-hash
cache_dir=/var/cache/lms-backup/debootstrap

say() { printf 'build-postgres-image: %s (%ss)\n' "$*" "$SECONDS" >&2; }
die() {
  printf 'build-postgres-image: ERROR: %s\n' "$*" >&2
  exit 1
}

docker info >/dev/null 2>&1 || die "the Docker engine does not answer: run 'bash scripts/start-docker.sh' first"
# One build at a time; a second call waits, then finds the image up to date.
exec 9>/tmp/lms-build-postgres-image.lock
flock 9

image_label() { docker image inspect --format "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# The hash covers everything that goes into the image build: the build context and the base.
image_hash() {
  {
    (cd "$context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    echo "base $(image_id "$base_image")"
  } | sha256sum | cut -c1-16
}

# The alias postgres:15 is ours to set only when it is missing or already ours: a real
# official postgres:15 (e.g. pulled on a runner with a registry) is left alone.
tag_alias() {
  local current
  current="$(image_id "$alias_image")"
  if [[ -z "$current" || -n "$(image_label "$alias_image")" ]]; then
    [[ "$current" == "$(image_id "$image")" ]] || docker tag "$image" "$alias_image"
  else
    say "leaving $alias_image alone: it exists and was not built here"
  fi
}

hash="$(image_hash)"
if [[ "${LMS_IMAGE_REBUILD:-0}" != 1 && -n "$(image_id "$base_image")" && "$(image_label "$image")" == "$hash" ]]; then
  tag_alias
  say "$image is up to date (hash $hash)"
  exit 0
fi

# --- base image: debootstrap a minimal bookworm -------------------------------------------------

# The first Debian mirror serving the suite bookworm itself (not bookworm-security), from
# one-line sources.list files or deb822 .sources files.
find_mirror() {
  local f
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk '
      /^[[:space:]]*deb[[:space:]]/ {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == "bookworm") { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    awk '
      function flush() {
        if (types ~ /(^|[[:space:]])deb([[:space:]]|$)/ && enabled != "no" && (" " suites " ") ~ / bookworm /) {
          split(uris, u, /[[:space:]]+/); print u[1]; found = 1; exit
        }
        types = ""; uris = ""; suites = ""; enabled = ""
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:" { sub(/^[^:]*:[[:space:]]*/, ""); types = $0 }
      tolower($1) == "uris:" { sub(/^[^:]*:[[:space:]]*/, ""); uris = $0 }
      tolower($1) == "suites:" { sub(/^[^:]*:[[:space:]]*/, ""); suites = $0 }
      tolower($1) == "enabled:" { sub(/^[^:]*:[[:space:]]*/, ""); enabled = tolower($0) }
      END { if (!found) flush() }' "$f"
  done
}

if [[ -z "$(image_id "$base_image")" ]]; then
  [[ "$(id -u)" == 0 ]] || die "debootstrap needs root"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install -y debootstrap)"
  mirror="${LMS_DEBIAN_MIRROR:-$(find_mirror | head -n 1)}"
  if [[ -z "$mirror" ]]; then
    mirror=http://deb.debian.org/debian
    say "no bookworm mirror found in /etc/apt/sources.list*: using $mirror"
  fi
  include=()
  [[ "$mirror" != https://* ]] || include=(--include=ca-certificates)
  rootfs="$(mktemp -d /var/tmp/lms-debootstrap.XXXXXX)"
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$cache_dir"
  say "debootstrap --variant=minbase bookworm from $mirror"
  if ! debootstrap --variant=minbase "${include[@]}" --cache-dir="$cache_dir" bookworm "$rootfs" "$mirror" \
    >/tmp/lms-debootstrap.log 2>&1; then
    tail -n 30 /tmp/lms-debootstrap.log >&2
    [[ ! -f "$rootfs/debootstrap/debootstrap.log" ]] || tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (full log: /tmp/lms-debootstrap.log)"
  fi
  # Leave no host traces and no stale package lists in the image.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/tmp/*
  # The rootfs's own mode becomes the image's "/": mktemp made it 0700, which storage drivers
  # that use the layer directory as the root (vfs) show to the container's unprivileged users.
  chmod 755 "$rootfs"
  say "docker import as $base_image"
  tar -C "$rootfs" --numeric-owner -c . |
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$base_image" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
else
  say "reusing $base_image"
fi

# --- the PostgreSQL image -----------------------------------------------------------------------

hash="$(image_hash)"

say "docker build $context as $image"
# The classic builder: no buildx plugin is needed. Host network: apt inside the build uses
# the host's resolver and routes, as the host's own apt does.
no_cache=()
[[ "${LMS_IMAGE_REBUILD:-0}" != 1 ]] || no_cache=(--no-cache)
if ! DOCKER_BUILDKIT=0 docker build "${no_cache[@]}" --network host --label "$label=$hash" -t "$image" "$context" \
  >/tmp/lms-postgres-image-build.log 2>&1; then
  tail -n 40 /tmp/lms-postgres-image-build.log >&2
  die "docker build failed (full log: /tmp/lms-postgres-image-build.log)"
fi
tag_alias
# Dangling layers from earlier builds of this image are of no use.
docker image prune -f --filter "label=$label" >/dev/null 2>&1 || true
say "built $image ($(docker run --rm --network none --entrypoint postgres "$image" --version), hash $hash)"
