//===- FusedChainJit.cpp - fused elementwise chains to machine code -------===//

#include "compiler/lowering/FusedChainJit.h"

// First: the conversion headers below return passes without defining Pass.
#include "mlir/Pass/Pass.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

#include <chrono>
#include <mutex>

namespace accel::lowering {

using namespace mlir;
using rt::Kernel;

namespace {

/// Whether the generated code computes `step` exactly as the interpreter.
bool compilable(const rt::FusedStep &step) {
  if (step.round != rt::ElementType::F32)
    return false;
  switch (step.kernel) {
  case Kernel::Add:
  case Kernel::Sub:
  case Kernel::Mul:
  case Kernel::Div:
  case Kernel::Neg:
  case Kernel::Sqrt:
  case Kernel::Rsqrt:
  case Kernel::Relu:
  case Kernel::ReluGrad:
    return true;
  default:
    return false;
  }
}

/// Floats per vector: a whole register of the host's widest vector unit.
int64_t vectorWidth() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return 16;
  if (features.lookup("avx"))
    return 8;
  return 4;
}

/// The chain's values for the elements at `index` (a vector of them, or
/// one), from the operands `pointers` (or the broadcast scalars), stored to
/// the results' `outputs`.
void emitElements(OpBuilder &b, Location loc, const rt::FusedBody &body,
                  llvm::ArrayRef<bool> scalar, llvm::ArrayRef<Value> pointers,
                  llvm::ArrayRef<Value> scalars, llvm::ArrayRef<Value> outputs,
                  Value index, Type type) {
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  auto vector = dyn_cast<VectorType>(type);
  auto constant = [&](float v) -> Value {
    if (vector)
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(vector, b.getF32FloatAttr(v)));
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  };
  auto address = [&](Value base) {
    return LLVM::GEPOp::create(b, loc, ptr, b.getF32Type(), base, ValueRange{index});
  };
  llvm::SmallVector<Value> regs;
  for (size_t i = 0; i < scalar.size(); ++i) {
    if (scalar[i])
      regs.push_back(vector ? vector::BroadcastOp::create(b, loc, vector, scalars[i])
                                  .getResult()
                            : scalars[i]);
    else
      regs.push_back(LLVM::LoadOp::create(b, loc, type, address(pointers[i]),
                                          /*alignment=*/4));
  }
  Value zero = constant(0.0f), one = constant(1.0f);
  for (const rt::FusedStep &step : body.steps) {
    Value x = regs[step.lhs], y = step.rhs >= 0 ? regs[step.rhs] : Value();
    Value r;
    switch (step.kernel) {
    case Kernel::Add: r = arith::AddFOp::create(b, loc, x, y); break;
    case Kernel::Sub: r = arith::SubFOp::create(b, loc, x, y); break;
    case Kernel::Mul: r = arith::MulFOp::create(b, loc, x, y); break;
    case Kernel::Div: r = arith::DivFOp::create(b, loc, x, y); break;
    case Kernel::Neg: r = arith::NegFOp::create(b, loc, x); break;
    case Kernel::Sqrt: r = math::SqrtOp::create(b, loc, x); break;
    case Kernel::Rsqrt:
      r = arith::DivFOp::create(b, loc, one, math::SqrtOp::create(b, loc, x));
      break;
    case Kernel::Relu: {
      // x > 0 or NaN: x; otherwise +0 (cpu/ElementOps.h).
      Value keep = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UGT, x, zero);
      r = arith::SelectOp::create(b, loc, keep, x, zero);
      break;
    }
    case Kernel::ReluGrad: {
      // Gradient x, input y: +0 where y <= 0 (false for NaN), else x.
      Value drop = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, y, zero);
      r = arith::SelectOp::create(b, loc, drop, zero, x);
      break;
    }
    default:
      llvm_unreachable("compilable() admits only the steps above");
    }
    regs.push_back(r);
  }
  for (auto [r, reg] : llvm::enumerate(body.results))
    LLVM::StoreOp::create(b, loc, regs[reg], address(outputs[r]), /*alignment=*/4);
}

/// `void name(const float **inputs, float **outputs, i64 begin, i64 end)`:
/// whole vectors from `begin`, then the rest one element at a time.
void emitChain(OpBuilder &b, Location loc, llvm::StringRef name,
               const rt::FusedBody &body, llvm::ArrayRef<bool> scalar, int64_t width) {
  MLIRContext *ctx = b.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type i64 = b.getI64Type();
  auto func = func::FuncOp::create(b, loc, name,
                                   b.getFunctionType({ptr, ptr, i64, i64}, {}));
  Block *entry = func.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  Value inputs = entry->getArgument(0), outputs = entry->getArgument(1);
  Value begin = entry->getArgument(2), end = entry->getArgument(3);
  auto pointerAt = [&](Value array, int64_t i) -> Value {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, array,
                                     llvm::ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
    return LLVM::LoadOp::create(b, loc, ptr, slot, /*alignment=*/8);
  };
  llvm::SmallVector<Value> pointers, scalars, results;
  for (size_t i = 0; i < scalar.size(); ++i) {
    pointers.push_back(pointerAt(inputs, i));
    scalars.push_back(scalar[i] ? LLVM::LoadOp::create(b, loc, b.getF32Type(),
                                                        pointers.back(), 4)
                                      .getResult()
                                : Value());
  }
  for (size_t r = 0; r < body.results.size(); ++r)
    results.push_back(pointerAt(outputs, r));
  auto i64Constant = [&](int64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  };
  Value vw = i64Constant(width);
  Value whole = arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, end, begin), vw),
      vw);
  Value vectorEnd = arith::AddIOp::create(b, loc, begin, whole);
  auto loop = [&](Value from, Value to, Value stepSize, Type type) {
    scf::ForOp::create(b, loc, from, to, stepSize, ValueRange{},
                       [&](OpBuilder &nb, Location l, Value index, ValueRange) {
                         emitElements(nb, l, body, scalar, pointers, scalars, results,
                                      index, type);
                         scf::YieldOp::create(nb, l);
                       });
  };
  loop(begin, vectorEnd, vw, VectorType::get({width}, b.getF32Type()));
  loop(vectorEnd, end, i64Constant(1), b.getF32Type());
  func::ReturnOp::create(b, loc);
}

/// The machine code outlives the programs that point into it (one engine
/// per compiled program; a handful per process).
std::mutex enginesMutex;
std::vector<std::unique_ptr<ExecutionEngine>> &engines() {
  static auto *all = new std::vector<std::unique_ptr<ExecutionEngine>>();
  return *all;
}

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "compiling fused chains: " + message);
}

} // namespace

llvm::Expected<FusedChainStats> compileFusedChains(rt::Program &program) {
  auto start = std::chrono::steady_clock::now();
  FusedChainStats stats;
  // Which bodies to compile, with their operands' broadcasts (each fused
  // instruction has a body of its own).
  struct Candidate {
    size_t body;
    llvm::SmallVector<bool, 16> scalar;
  };
  std::vector<Candidate> candidates;
  for (const rt::Instruction &in : program.code) {
    if (in.kernel != Kernel::Fused || in.ints.empty() ||
        static_cast<size_t>(in.ints[0]) >= program.fusedBodies.size())
      continue;
    const rt::FusedBody &body = program.fusedBodies[in.ints[0]];
    bool eligible = !in.results.empty() &&
                    program.buffers[in.results[0]].numElements() >= kMinCompiledElements &&
                    llvm::all_of(body.steps, compilable);
    if (!eligible) {
      ++stats.interpreted;
      continue;
    }
    Candidate c{static_cast<size_t>(in.ints[0]), {}};
    for (int operand : in.operands)
      c.scalar.push_back(program.buffers[operand].numElements() == 1);
    candidates.push_back(std::move(c));
  }
  if (candidates.empty())
    return stats;

  static std::once_flag targetsInitialised;
  std::call_once(targetsInitialised, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  MLIRContext context(MLIRContext::Threading::DISABLED);
  context.loadDialect<arith::ArithDialect, cf::ControlFlowDialect, func::FuncDialect,
                      LLVM::LLVMDialect, math::MathDialect, scf::SCFDialect,
                      vector::VectorDialect>();
  registerBuiltinDialectTranslation(context);
  registerLLVMDialectTranslation(context);
  OpBuilder b(&context);
  Location loc = UnknownLoc::get(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  int64_t width = vectorWidth();
  for (const Candidate &c : candidates)
    emitChain(b, loc, "fused_chain_" + std::to_string(c.body),
              program.fusedBodies[c.body], c.scalar, width);

  PassManager pm(&context);
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (failed(pm.run(*module)))
    return error("lowering to the LLVM dialect failed");

  ExecutionEngineOptions options;
  auto optimize = makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0,
                                            /*targetMachine=*/nullptr);
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  options.enableGDBNotificationListener = false;
  options.enablePerfNotificationListener = false;
  llvm::Expected<std::unique_ptr<ExecutionEngine>> engine =
      ExecutionEngine::create(*module, options);
  if (!engine)
    return error(llvm::toString(engine.takeError()));
  (*engine)->initialize();
  for (const Candidate &c : candidates) {
    llvm::Expected<void *> address =
        (*engine)->lookup("fused_chain_" + std::to_string(c.body));
    if (!address)
      return error(llvm::toString(address.takeError()));
    program.fusedBodies[c.body].compiled =
        reinterpret_cast<rt::CompiledFusedChain>(*address);
    ++stats.compiled;
  }
  {
    std::lock_guard<std::mutex> lock(enginesMutex);
    engines().push_back(std::move(*engine));
  }
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

} // namespace accel::lowering
