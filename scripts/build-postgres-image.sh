#!/usr/bin/env bash
# Builds the PostgreSQL images the docker engine, the container pg tools and their tests use,
# without any container registry: debootstrap a minimal Debian suite from the machine's Debian
# mirror, import it as local/debian:<suite>, then build docker/postgres/ on top with the
# major's packages. One image per major, the same Dockerfile and entrypoint for all:
#
#   major  suite     image                  alias
#   15     bookworm  lms-backup/postgres:15 postgres:15
#   17     trixie    lms-backup/postgres:17 postgres:17
#   18     forky     lms-backup/postgres:18 postgres:18
#
# Each image holds the server and the major's pg_dump, pg_restore and psql. The alias
# postgres:<major> (the default image name) is tagged only when missing or built here, so
# nothing is pulled and a real official image is left alone.
#
# Usage: build-postgres-image.sh [MAJOR...]     (default: 15 17 18, or $LMS_PG_IMAGE_MAJORS)
#
# Idempotent: skips a major when its image carries the hash of docker/postgres/, the major and
# the base image (label lms-backup.image-hash); reuses local/debian:<suite> when present.
# Missing bases are debootstrapped in parallel, then the missing images are built in parallel.
#
# Environment:
#   LMS_DEBIAN_MIRROR    Debian mirror URL (default: the one in /etc/apt/sources.list*)
#   LMS_PG_IMAGE_MAJORS  the majors to build when none are given (default "15 17 18")
#   LMS_IMAGE_REBUILD=1  rebuild even when the hash matches, without Docker's layer cache (takes
#                        current packages); the bases are reused: remove local/debian:<suite> to
#                        debootstrap again
# Needs root, a running Docker engine (scripts/start-docker.sh) and debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."

context=docker/postgres
label=lms-backup.image-hash
cache_root=/var/cache/lms-backup/debootstrap
log_dir=/tmp/lms-postgres-image
mkdir -p "$log_dir"

say() { printf 'build-postgres-image: %s (%ss)\n' "$*" "$SECONDS" >&2; }
die() {
  printf 'build-postgres-image: ERROR: %s\n' "$*" >&2
  exit 1
}

suite_of() {
  case "$1" in
    15) echo bookworm ;;
    17) echo trixie ;;
    18) echo forky ;;
    *) die "no Debian suite known for PostgreSQL $1 (supported here: 15, 17, 18)" ;;
  esac
}

# shellcheck disable=SC2206 # a list of words
majors=(${@:-${LMS_PG_IMAGE_MAJORS:-15 17 18}})
for m in "${majors[@]}"; do suite_of "$m" >/dev/null; done

docker info >/dev/null 2>&1 || die "the Docker engine does not answer: run 'bash scripts/start-docker.sh' first"
# One build at a time; a second call waits, then finds the images up to date.
exec 9>/tmp/lms-build-postgres-image.lock
flock 9

image_label() { docker image inspect --format "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# The hash covers everything that goes into an image build: the build context, the major and
# the base.
image_hash() { # major suite
  {
    (cd "$context" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    echo "major $1 suite $2 base $(image_id "local/debian:$2")"
  } | sha256sum | cut -c1-16
}

# The alias postgres:<major> is ours to set only when it is missing or already ours: a real
# official image (e.g. pulled on a runner with a registry) is left alone.
tag_alias() { # major
  local image="lms-backup/postgres:$1" alias_image="postgres:$1" current
  current="$(image_id "$alias_image")"
  if [[ -z "$current" || -n "$(image_label "$alias_image")" ]]; then
    [[ "$current" == "$(image_id "$image")" ]] || docker tag "$image" "$alias_image"
  else
    say "leaving $alias_image alone: it exists and was not built here"
  fi
}

up_to_date() { # major
  local suite
  suite="$(suite_of "$1")"
  [[ "${LMS_IMAGE_REBUILD:-0}" != 1 && -n "$(image_id "local/debian:$suite")" &&
    "$(image_label "lms-backup/postgres:$1")" == "$(image_hash "$1" "$suite")" ]]
}

todo=()
for m in "${majors[@]}"; do
  if up_to_date "$m"; then
    tag_alias "$m"
    say "lms-backup/postgres:$m is up to date (hash $(image_hash "$m" "$(suite_of "$m")"))"
  else
    todo+=("$m")
  fi
done
((${#todo[@]})) || exit 0

# --- base images: debootstrap a minimal suite -----------------------------------------------------

# The first Debian mirror serving bookworm itself (not bookworm-security), from one-line
# sources.list files or deb822 .sources files; the same mirror serves the other suites.
find_mirror() {
  local f
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk '
      /^[[:space:]]*deb[[:space:]]/ {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) ~ /^(bookworm|trixie|forky|sid)$/) { print $i; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    awk '
      function flush() {
        if (types ~ /(^|[[:space:]])deb([[:space:]]|$)/ && enabled != "no" && (" " suites " ") ~ / (bookworm|trixie|forky|sid) /) {
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

debootstrap_base() { # suite mirror; runs in a subshell of its own
  local suite="$1" mirror="$2" log="$log_dir/debootstrap-$1.log" script=() include=()
  # debootstrap knows a suite by its script; a suite newer than the host's debootstrap
  # bootstraps like sid.
  [[ -e "/usr/share/debootstrap/scripts/$suite" ]] || script=(/usr/share/debootstrap/scripts/sid)
  [[ "$mirror" != https://* ]] || include=(--include=ca-certificates)
  # Global within this subshell: the EXIT trap runs after the function returned.
  rootfs="$(mktemp -d "/var/tmp/lms-debootstrap-$suite.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$cache_root/$suite"
  say "debootstrap --variant=minbase $suite from $mirror (log $log)"
  if ! debootstrap --variant=minbase "${include[@]}" --cache-dir="$cache_root/$suite" \
    "$suite" "$rootfs" "$mirror" "${script[@]}" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    [[ ! -f "$rootfs/debootstrap/debootstrap.log" ]] || tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    die "debootstrap of $suite failed (full log: $log)"
  fi
  # Leave no host traces and no stale package lists in the image.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/tmp/*
  # The rootfs's own mode becomes the image's "/": mktemp made it 0700, which storage drivers
  # that use the layer directory as the root (vfs) show to the container's unprivileged users.
  chmod 755 "$rootfs"
  say "docker import as local/debian:$suite"
  tar -C "$rootfs" --numeric-owner -c . |
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "local/debian:$suite" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
}

suites=()
for m in "${todo[@]}"; do
  s="$(suite_of "$m")"
  [[ -n "$(image_id "local/debian:$s")" || " ${suites[*]} " == *" $s "* ]] || suites+=("$s")
done
if ((${#suites[@]})); then
  [[ "$(id -u)" == 0 ]] || die "debootstrap needs root"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install -y debootstrap)"
  mirror="${LMS_DEBIAN_MIRROR:-$(find_mirror | head -n 1)}"
  if [[ -z "$mirror" ]]; then
    mirror=http://deb.debian.org/debian
    say "no Debian mirror found in /etc/apt/sources.list*: using $mirror"
  fi
  # Packages cached by an earlier version of this script (bookworm only, no per-suite directory).
  if [[ ! -d "$cache_root/bookworm" ]] && compgen -G "$cache_root/*.deb" >/dev/null; then
    mkdir -p "$cache_root/bookworm"
    mv "$cache_root"/*.deb "$cache_root/bookworm/"
  fi
  pids=()
  for s in "${suites[@]}"; do
    (debootstrap_base "$s" "$mirror") &
    pids+=($!)
  done
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  ((failed == 0)) || die "a debootstrap failed (above)"
fi

# --- the PostgreSQL images ------------------------------------------------------------------------

build_image() { # major; runs in a subshell of its own
  local major="$1" suite hash log="$log_dir/build-$1.log" image="lms-backup/postgres:$1" no_cache=()
  suite="$(suite_of "$major")"
  hash="$(image_hash "$major" "$suite")"
  [[ "${LMS_IMAGE_REBUILD:-0}" != 1 ]] || no_cache=(--no-cache)
  say "docker build $context as $image (FROM local/debian:$suite, log $log)"
  # The classic builder: no buildx plugin is needed. Host network: apt inside the build uses
  # the host's resolver and routes, as the host's own apt does.
  if ! DOCKER_BUILDKIT=0 docker build "${no_cache[@]}" --network host \
    --build-arg "SUITE=$suite" --build-arg "PG_MAJOR=$major" \
    --label "$label=$hash" -t "$image" "$context" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "docker build of $image failed (full log: $log)"
  fi
  tag_alias "$major"
  say "built $image ($(docker run --rm --network none --entrypoint pg_dump "$image" --version), hash $hash)"
}

pids=()
for m in "${todo[@]}"; do
  (build_image "$m") &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
# Dangling layers from earlier builds of these images are of no use.
docker image prune -f --filter "label=$label" >/dev/null 2>&1 || true
((failed == 0)) || die "an image build failed (above)"
