//===- AccelOps.h - accel dialect ops ---------------------------*- C++ -*-===//

#ifndef ACCEL_DIALECTS_ACCEL_ACCELOPS_H
#define ACCEL_DIALECTS_ACCEL_ACCELOPS_H

#include "dialects/accel/AccelDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/accel/AccelOps.h.inc"

#endif // ACCEL_DIALECTS_ACCEL_ACCELOPS_H
