#!/usr/bin/env bash
# Regenerates the checked-in reference docs: docs/dialect.md (AccelOps.td)
# and docs/passes.md (Passes.td) from the ODS definitions, and
# docs/precision-policy.md from compiler/precision/AutocastPolicy.def, the
# op table of docs/import.md from accel-import --list-ops, and the driver
# tables of docs/devices.md from accel-run --list-drivers.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //dialects/accel:accel_dialect_doc //compiler/transforms:passes_doc \
  //docs:precision_policy_doc //docs:import_ops_doc //docs:drivers_doc
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
awk -v table="$bin/docs/drivers.generated.md" '
  /^<!-- END accel-run --list-drivers -->$/ { skip = 0 }
  !skip { print }
  /^<!-- BEGIN accel-run --list-drivers -->$/ {
    while ((getline line < table) > 0) print line
    skip = 1
  }' docs/devices.md > docs/devices.md.new
mv docs/devices.md.new docs/devices.md
echo "updated docs/dialect.md, docs/passes.md, docs/precision-policy.md, docs/import.md's op table and docs/devices.md's driver tables"
