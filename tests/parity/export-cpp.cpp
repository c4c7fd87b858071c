//===- export-cpp.cpp - a TorchScript module saved from LibTorch C++ ------===//
//
//   export-cpp OUT.pt
//
// Builds a small module with the LibTorch C++ API (parameters registered in
// C++, forward defined in TorchScript) and saves it, so tests can import a
// model that never went through Python.
//
//===----------------------------------------------------------------------===//

#include <torch/script.h>

#include <iostream>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: export-cpp OUT.pt\n";
    return 2;
  }
  torch::manual_seed(0);
  torch::jit::Module fc("Dense");
  fc.register_parameter("weight", torch::randn({16, 8}) * 0.3, false);
  fc.register_parameter("bias", torch::zeros({16}), false);
  fc.define(R"(
    def forward(self, x):
        return torch.relu(torch.matmul(x, self.weight.t()) + self.bias)
  )");
  torch::jit::Module model("Regressor");
  model.register_module("fc", fc);
  model.register_parameter("out", torch::randn({1, 16}) * 0.3, false);
  model.define(R"(
    def forward(self, x, y):
        pred = torch.matmul(self.fc.forward(x), self.out.t())
        return torch.mean((pred - y) * (pred - y))
  )");
  model.save(argv[1]);
  return 0;
}
