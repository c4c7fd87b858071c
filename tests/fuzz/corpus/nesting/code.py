def forward(self, x: Tensor) -> Tensor:
    # ((((
    return torch.linear(x, self.weight, self.bias) if x.dim() < 3 else "(("
