#!/usr/bin/env bash
# Makes sure a Docker engine answers. Idempotent: does nothing when `docker info` already works.
# Otherwise starts dockerd in the background (as root, after `apt-get install docker.io`) with
# overlay2 when the kernel can mount it here, else vfs, and waits until it answers.
#
# Environment:
#   LMS_DOCKER_STORAGE_DRIVER  force a storage driver (overlay2, vfs, ...); default: probe
#   LMS_DOCKER_LOG             dockerd's log file (default /var/log/lms-dockerd.log)
#   LMS_DOCKER_TIMEOUT         seconds to wait for the engine (default 60)
set -euo pipefail

log_file="${LMS_DOCKER_LOG:-/var/log/lms-dockerd.log}"
timeout="${LMS_DOCKER_TIMEOUT:-60}"
data_root=/var/lib/docker

say() { printf 'start-docker: %s\n' "$*" >&2; }
die() {
  say "ERROR: $*"
  if [[ -f "$log_file" ]]; then
    say "last lines of $log_file:"
    tail -n 25 "$log_file" >&2 || true
  fi
  exit 1
}

engine_answers() { docker info >/dev/null 2>&1; }

command -v docker >/dev/null 2>&1 || die "no docker CLI on PATH (apt-get install -y docker.io)"

if engine_answers; then
  say "docker engine already answers ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}' 2>/dev/null))"
  exit 0
fi

if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != unix:///var/run/docker.sock ]]; then
  die "DOCKER_HOST=${DOCKER_HOST} does not answer; this script only starts a local dockerd (unset DOCKER_HOST)"
fi
[[ "$(id -u)" == 0 ]] || die "dockerd is not running and starting it needs root (run: sudo bash $0)"
dockerd_bin="$(command -v dockerd || true)"
[[ -n "$dockerd_bin" ]] || dockerd_bin=/usr/sbin/dockerd
[[ -x "$dockerd_bin" ]] || die "dockerd not found (apt-get install -y docker.io)"

mkdir -p "$(dirname "$log_file")" "$data_root"
# One starter at a time: a second concurrent call waits for the first instead of racing it.
exec 9>/run/lms-start-docker.lock
flock -w "$timeout" 9 || die "another start-docker.sh holds /run/lms-start-docker.lock"

if engine_answers; then
  say "docker engine answers (started by a concurrent call)"
  exit 0
fi

# Can this kernel mount overlayfs on the filesystem under /var/lib/docker? (Not when that is
# itself overlayfs without support for it, e.g. nested in some containers.) Measure, don't guess.
probe_overlay() {
  local d
  d="$(mktemp -d "$data_root/.overlay-probe.XXXXXX")" || return 1
  mkdir -p "$d/lower" "$d/upper" "$d/work" "$d/merged"
  echo probe >"$d/lower/file"
  local ok=1
  if mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/merged" 2>/dev/null; then
    if echo changed >"$d/merged/file" 2>/dev/null && [[ "$(cat "$d/lower/file")" == probe ]]; then ok=0; fi
    umount "$d/merged" 2>/dev/null || true
  fi
  rm -rf "$d"
  return "$ok"
}

driver="${LMS_DOCKER_STORAGE_DRIVER:-}"
if [[ -z "$driver" ]]; then
  if probe_overlay; then
    driver=overlay2
  else
    driver=vfs
    say "overlayfs cannot be mounted under $data_root here: using the vfs storage driver (slower, more disk)"
  fi
fi

# A live dockerd (not a zombie left by a killed one) may just be slow to answer.
live_dockerd() { ps -eo stat=,comm= | awk '$2 == "dockerd" && $1 !~ /^Z/ { found = 1 } END { exit !found }'; }

if live_dockerd; then
  say "a dockerd process exists but does not answer yet: waiting for it"
else
  # A killed daemon leaves its pid file; if that pid now belongs to another process, dockerd
  # would refuse to start ("pid file found, ensure docker is not running").
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    [[ -f "$pidfile" ]] && rm -f "$pidfile"
  done
  say "starting $dockerd_bin (storage driver $driver, log $log_file)"
  # setsid + nohup: the daemon outlives this script and its process group; no fd stays tied to
  # the caller's pipes, so a CI step that pipes our output does not wait for dockerd.
  printf '\n==== %s starting dockerd --storage-driver=%s\n' "$(date -Is)" "$driver" >>"$log_file"
  setsid nohup "$dockerd_bin" --storage-driver="$driver" --data-root="$data_root" \
    </dev/null >>"$log_file" 2>&1 &
  dockerd_pid=$!
fi

start=$SECONDS
until engine_answers; do
  if [[ -n "${dockerd_pid:-}" ]] && ! kill -0 "$dockerd_pid" 2>/dev/null; then
    die "dockerd exited while starting"
  fi
  ((SECONDS - start < timeout)) || die "docker engine did not answer within ${timeout}s"
  sleep 0.5
done
say "docker engine answers after $((SECONDS - start))s ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}'))"
