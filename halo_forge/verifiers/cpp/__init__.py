"""C and C++: GCC, Clang and MinGW verifiers (`compile`), their toolsets (`toolsets`), options
(`options`) and shared precompiled headers (`pch`)."""
