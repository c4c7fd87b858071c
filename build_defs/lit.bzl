"""lit tests (RUN/CHECK lines) under `bazel test`, one sh_test per file."""

def lit_tests(name, srcs, data = [], size = "small"):
    """Declares a test per .mlir or .test file and a test_suite over them.

    Args:
      name: name of the test_suite.
      srcs: .mlir files, each with RUN lines.
      data: extra files and tools the RUN lines use.
      size: the tests' Bazel size.
    """
    tests = []
    for src in srcs:
        test = src + ".test"
        native.sh_test(
            name = test,
            size = size,
            srcs = ["//tests/lit:lit_test.sh"],
            args = ["$(location %s)" % src],
            data = [
                src,
                "//tests/lit:lit.cfg.py",
                "//tools/accel-opt",
                "@llvm//:lit_tools",
            ] + data,
        )
        tests.append(test)
    native.test_suite(name = name, tests = tests)
