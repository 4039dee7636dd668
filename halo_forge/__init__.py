"""halo-forge: train code-generating language models with verifiable rewards (RLVR).

A compiler or a test suite decides whether generated code is right; that deterministic
signal drives reward-ranked fine-tuning (RAFT). See README.md and docs/ for the pipeline
`Data -> SFT -> RAFT -> Benchmark`.
"""

__version__ = "0.1.0"
