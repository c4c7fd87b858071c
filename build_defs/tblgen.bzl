"""Runs mlir-tblgen (from Debian's mlir-22-tools) as genrules."""

_TBLGEN = "@llvm//:bin/mlir-tblgen"

def gentbl(name, td_file, td_srcs, outs):
    """Generates files from one .td file.

    Args:
      name: name of the filegroup holding every generated file.
      td_file: the .td file passed to mlir-tblgen.
      td_srcs: .td files it includes from this project.
      outs: list of (flags, output file) pairs; one mlir-tblgen run each.
    """
    generated = []
    for i, (flags, out) in enumerate(outs):
        rule = "%s_%d" % (name, i)
        native.genrule(
            name = rule,
            srcs = [td_file] + td_srcs + ["@llvm//:mlir_td_files"],
            outs = [out],
            tools = [_TBLGEN],
            cmd = ("$(location %s) %s -I external/llvm/include -I . " +
                   "$(location %s) -o $@") % (_TBLGEN, flags, td_file),
        )
        generated.append(out)
    native.filegroup(name = name, srcs = generated)
