# bench/pg_phase.sh: the "pg" phase of scripts/bench, sourced by it (not run on its own).
#
# A second postamt whose store is PostgreSQL (store.backend = postgresql, docs/cluster.md), on
# a PostgreSQL server started for the run by scripts/pg-fixture with fsync on (as durable as
# the SQLite side and the peers; synchronous_commit at its default, on), with the same users,
# configuration lines and port-25 checks as the SQLite postamt. Its SMTP loops and IMAP loop
# are measured over postamt's and PostgreSQL's processes together (the postmaster and every
# backend it forks), as the peers' are over Dovecot's and Postfix's.
#   pg_setup       starts both (sets PG_PID, PGA_PID and PGA_* ports); a failure says n/a
#   pg_run RUN     the SMTP loops and the IMAP loop of one run -> postamt-pg*-RUN.json
# Uses scripts/bench's SCRATCH, BIN, LG, PY, ROOT, PA_EXTRA_CONF, ALL_USERS, PASSWORD, record,
# wait_port, say, ph, na.

PG_PID="" PGA_PID="" PG_REASON=""
pga() { "${LG[@]}" "$@" --pid "$PGA_PID" --pid "$PG_PID"; }

pg_setup() {
  local dir=$SCRATCH/pg uri off
  if ! uri=$(POSTAMT_PG_DURABLE=1 "$ROOT/scripts/pg-fixture" start "$dir" 2>"$SCRATCH/log/pg-fixture.log"); then
    PG_REASON="PostgreSQL did not start: $(tail -1 "$SCRATCH/log/pg-fixture.log")"
    return 0
  fi
  PG_PID=$(head -1 "$dir/data/postmaster.pid")
  record postgresql "$PG_PID"
  off=$("${LG[@]}" freeport --bases $PA_BASES --start $((PEER_OFF + 1000)) | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["offset"])')
  PGA_SMTP=$((off + 25)) PGA_POP3=$((off + 110)) PGA_IMAP=$((off + 143))
  local d=$SCRATCH/postamt-pg
  if ! "$BIN" -d "$d" init --store "$uri" --port-offset "$off" --bind 127.0.0.1 --hostname localhost \
      >"$SCRATCH/log/postamt-pg-init.log" 2>&1; then
    PG_REASON="init --store failed: $(tail -1 "$SCRATCH/log/postamt-pg-init.log")"
    return 0
  fi
  echo "$PA_EXTRA_CONF" >>"$d/postamt.conf"
  for u in ${ALL_USERS//,/ }; do
    echo "$PASSWORD" | "$BIN" -d "$d" user add "$u" >/dev/null 2>>"$SCRATCH/log/postamt-pg-init.log"
  done
  "$BIN" -d "$d" serve >"$SCRATCH/log/postamt-pg.out" 2>"$SCRATCH/log/postamt-pg.log" &
  PGA_PID=$!
  record postamt-pg $PGA_PID
  wait_port $PGA_SMTP
  wait_port $PGA_IMAP
  say "postamt on PostgreSQL: port offset $off, pid $PGA_PID, PostgreSQL pid $PG_PID ($uri)"
}

pg_run() { # run number
  local run=$1
  if [ -z "$PGA_PID" ]; then
    na postamt-pgsmtp "$run" "${PG_REASON:-not set up}"
    na postamt-pgimap "$run" "${PG_REASON:-not set up}"
    return 0
  fi
  local err=$SCRATCH/log/postamt-pg-purge.err
  if ! pga purge --port $PGA_IMAP --count-proto imap --users "$LOAD_USERS" >/dev/null 2>"$err"; then
    PG_REASON="the mailboxes could not be emptied over IMAP: $(grep -v '^ ' "$err" | tail -1)"
    say "postamt on PostgreSQL: n/a ($PG_REASON)"
    PGA_PID=""
    pg_run "$run"
    return 0
  fi
  say "run $run/$RUNS, postamt on PostgreSQL: SMTP pipelined ($N x $S B over $C connections)"
  ph postamt-pgsmtp-$run pga smtp --port $PGA_SMTP --pop3-port $PGA_POP3 --imap-port $PGA_IMAP --count-proto imap \
    --rcpts "$LOAD_USERS" -n "$N" -s "$S" -c "$C" --wait-delivery "${SIGN[@]}"
  say "run $run/$RUNS, postamt on PostgreSQL: SMTP one message per connection ($N1 x $S B, $C connections)"
  q pga purge --port $PGA_IMAP --count-proto imap --users "$LOAD_USERS"
  ph postamt-pgsmtp1-$run pga smtp --port $PGA_SMTP --pop3-port $PGA_POP3 --imap-port $PGA_IMAP --count-proto imap \
    --rcpts "$LOAD_USERS" -n "$N1" -s "$S" -c "$C" --per-conn 1 --wait-delivery "${SIGN[@]}"
  say "run $run/$RUNS, postamt on PostgreSQL: IMAP loop ($C clients, ${T}s)"
  ph postamt-pgimap-$run pga imap --port $PGA_IMAP --users "$LOAD_USERS" -c "$C" -t "$T" --search-max "$N1"
}
