#!/usr/bin/env bash
# Usage: check_generated_docs.sh CHECKED_IN GENERATED [CHECKED_IN GENERATED...]
# Fails, with the difference, when a checked-in doc differs from the one
# generated from its source (mlir-tblgen from the .td files, the autocast
# table, accel-import --list-ops).
set -u
status=0
while [ $# -ge 2 ]; do
  if ! diff -u "$1" "$2"; then
    echo "error: $1 is out of date with its source (ODS, AutocastPolicy.def or accel-import's op table); run tools/update-docs.sh" >&2
    status=1
  fi
  shift 2
done
exit $status
