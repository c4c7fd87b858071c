#!/usr/bin/env bash
# Regenerates the checked-in reference docs: docs/dialect.md (AccelOps.td)
# and docs/passes.md (Passes.td) from the ODS definitions, and
# docs/precision-policy.md from compiler/precision/AutocastPolicy.def.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //dialects/accel:accel_dialect_doc //compiler/transforms:passes_doc \
  //docs:precision_policy_doc
bin=$(bazel info bazel-bin 2>/dev/null)
install -m 644 "$bin/dialects/accel/AccelDialect.md" docs/dialect.md
install -m 644 "$bin/compiler/transforms/AccelPasses.md" docs/passes.md
install -m 644 "$bin/docs/precision-policy.generated.md" docs/precision-policy.md
echo "updated docs/dialect.md, docs/passes.md and docs/precision-policy.md"
