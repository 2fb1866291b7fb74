// The translation unit the shared <torch/torch.h> precompiled header is built with
// (cmake/torch_pch.cmake).
