#!/bin/sh
# signal_rank.sh RANK SIGNAL COMMAND...: runs COMMAND; in the MPI process of
# rank RANK, sends itself SIGNAL (STOP: a stalled rank, KILL: a dead one)
# two seconds in, mid-training; with SIGNAL_AFTER=PATH set, half a second
# after PATH appears instead (a loaded machine may take longer to start).
rank=$1 signal=$2
shift 2
if [ "$OMPI_COMM_WORLD_RANK" = "$rank" ]; then
  if [ -n "$SIGNAL_AFTER" ]; then
    (while [ ! -e "$SIGNAL_AFTER" ]; do sleep 0.1; done; sleep 0.5
     kill -"$signal" $$) &
  else
    (sleep 2; kill -"$signal" $$) &
  fi
fi
exec "$@"
