#!/usr/bin/env bash
# Regenerates the checked-in reference docs from the ODS definitions:
# docs/dialect.md (AccelOps.td) and docs/passes.md (Passes.td).
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //dialects/accel:accel_dialect_doc //compiler/transforms:passes_doc
bin=$(bazel info bazel-bin 2>/dev/null)
install -m 644 "$bin/dialects/accel/AccelDialect.md" docs/dialect.md
install -m 644 "$bin/compiler/transforms/AccelPasses.md" docs/passes.md
echo "updated docs/dialect.md and docs/passes.md"
