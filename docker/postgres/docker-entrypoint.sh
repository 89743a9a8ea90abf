#!/usr/bin/env bash
# Entrypoint for the registry-free PostgreSQL image. Honours the official image's variables:
#   POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE)  superuser password; required unless
#                                                  POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER (default postgres)               superuser name
#   POSTGRES_DB (default $POSTGRES_USER)           database created besides `postgres`
#   POSTGRES_INITDB_ARGS                           extra initdb arguments
#   POSTGRES_HOST_AUTH_METHOD (default scram-sha-256) for TCP connections from anywhere
# and runs *.sql / *.sh from /docker-entrypoint-initdb.d on first start.
#
# The line "database system is ready to accept connections" reaches the container log once,
# from the real server, after it listens on TCP: the setup server (only when a database or an
# init script needs one) listens on no TCP port and logs to a file.
set -Eeuo pipefail

say() { printf 'entrypoint: %s\n' "$*" >&2; }

if [[ "${1:0:1}" == '-' ]]; then
  set -- postgres "$@"
fi

if [[ "$1" != postgres ]]; then
  exec "$@"
fi

# As root: own the directories, then re-run this script as the postgres OS user (exec, so
# postgres ends up as PID 1 and receives docker's stop signal).
if [[ "$(id -u)" == 0 ]]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
  POSTGRES_PASSWORD="$(<"$POSTGRES_PASSWORD_FILE")"
fi
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  if [[ -z "${POSTGRES_PASSWORD:-}" && "$auth" != trust ]]; then
    say 'POSTGRES_PASSWORD is not set: set it, or POSTGRES_HOST_AUTH_METHOD=trust (not recommended)'
    exit 1
  fi
  pwfile_args=()
  if [[ -n "${POSTGRES_PASSWORD:-}" ]]; then
    pwfile="$(umask 077 && mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    pwfile_args=(--pwfile="$pwfile")
  fi
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb --username="$POSTGRES_USER" "${pwfile_args[@]}" --auth-local=trust --auth-host=trust \
    ${POSTGRES_INITDB_ARGS:-} >/tmp/initdb.log 2>&1 || {
    cat /tmp/initdb.log >&2
    exit 1
  }
  [[ -z "${pwfile:-}" ]] || rm -f "$pwfile"
  {
    echo
    echo "listen_addresses = '*'"
  } >>"$PGDATA/postgresql.conf"
  {
    echo
    echo "host all all all $auth"
  } >>"$PGDATA/pg_hba.conf"

  shopt -s nullglob
  init_files=(/docker-entrypoint-initdb.d/*)
  if [[ "$POSTGRES_DB" != postgres || ${#init_files[@]} -gt 0 ]]; then
    # A setup server on a private socket only, logging to a file: clients cannot see it, and its
    # "ready to accept connections" does not reach the container log.
    setup_socket="$(mktemp -d)"
    pg_ctl -D "$PGDATA" -w -t 60 -l /tmp/setup-server.log \
      -o "-c listen_addresses='' -c unix_socket_directories=$setup_socket" start >/dev/null || {
      cat /tmp/setup-server.log >&2
      exit 1
    }
    psql_cmd=(psql -X -q -v ON_ERROR_STOP=1 -h "$setup_socket" -U "$POSTGRES_USER" --no-password)
    if [[ "$POSTGRES_DB" != postgres ]]; then
      printf 'CREATE DATABASE :"db";\n' | "${psql_cmd[@]}" -d postgres -v db="$POSTGRES_DB"
    fi
    for f in "${init_files[@]}"; do
      case "$f" in
        *.sql) say "running $f"; "${psql_cmd[@]}" -d "$POSTGRES_DB" -f "$f" ;;
        *.sh) say "running $f"; PGHOST="$setup_socket" PGUSER="$POSTGRES_USER" PGDATABASE="$POSTGRES_DB" bash "$f" ;;
        *) say "ignoring $f" ;;
      esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    rm -rf "$setup_socket"
  fi
  say "initialised $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
fi

unset POSTGRES_PASSWORD
exec "$@"
