"""Rust, Go and C#: each builds a project in the sandbox with its own toolchain, on the shared
machinery of `base` (build, classify the first error, run test cases or unit tests)."""
