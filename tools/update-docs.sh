#!/usr/bin/env bash
# Regenerates the checked-in reference docs: docs/dialect.md (AccelOps.td)
# and docs/passes.md (Passes.td) from the ODS definitions, and
# docs/precision-policy.md from compiler/precision/AutocastPolicy.def, and
# the op table of docs/import.md from accel-import --list-ops.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //dialects/accel:accel_dialect_doc //compiler/transforms:passes_doc \
  //docs:precision_policy_doc //docs:import_ops_doc
bin=$(bazel info bazel-bin 2>/dev/null)
install -m 644 "$bin/dialects/accel/AccelDialect.md" docs/dialect.md
install -m 644 "$bin/compiler/transforms/AccelPasses.md" docs/passes.md
install -m 644 "$bin/docs/precision-policy.generated.md" docs/precision-policy.md
# The table replaces the lines between import.md's markers.
awk -v table="$bin/docs/import-ops.generated.md" '
  /^<!-- END accel-import --list-ops -->$/ { skip = 0 }
  !skip { print }
  /^<!-- BEGIN accel-import --list-ops -->$/ {
    while ((getline line < table) > 0) print line
    skip = 1
  }' docs/import.md > docs/import.md.new
mv docs/import.md.new docs/import.md
echo "updated docs/dialect.md, docs/passes.md, docs/precision-policy.md and docs/import.md's op table"
