"""What every verifier that builds a program shares, whatever its language.

`options` (the options of building and running), `toolchain` (finding a compiler and its
version), `diagnostics` (a failed build's first error -> a reward tier), `results` (one result
shape per build outcome) and `testcases` (running the built program against a sample's cases).
"""
