#!/bin/sh
# signal_rank.sh RANK SIGNAL COMMAND...: runs COMMAND; in the MPI process of
# rank RANK, sends itself SIGNAL (STOP: a stalled rank, KILL: a dead one)
# two seconds in, mid-training.
rank=$1 signal=$2
shift 2
if [ "$OMPI_COMM_WORLD_RANK" = "$rank" ]; then
  (sleep 2; kill -"$signal" $$) &
fi
exec "$@"
