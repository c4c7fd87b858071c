//===- AccelDialect.h - accel dialect ---------------------------*- C++ -*-===//
//
// The accel dialect, its enums and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECTS_ACCEL_ACCELDIALECT_H
#define ACCEL_DIALECTS_ACCEL_ACCELDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/accel/AccelOpsDialect.h.inc"
#include "dialects/accel/AccelOpsEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/accel/AccelOpsAttrDefs.h.inc"

#endif // ACCEL_DIALECTS_ACCEL_ACCELDIALECT_H
