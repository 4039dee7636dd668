"""Verification throughput of the Rust, Go and C# verifiers (and C), beside a naive baseline.

Samples per language: `--programs` small correct programs (each different, so none is
deduplicated) and as many broken ones (a syntax error, an undefined name, a type error in
turn), so both verdicts occur. Measured in the same run, each the median of `--repeats` runs,
with `--workers` threads:

- naive baseline: one compiler process per sample in a fresh temporary directory, no sandbox,
  no cache: `rustc prog.rs -o prog`, `go build -o prog main.go` (Go's default build cache
  of the user, as a plain script would have it), `mcs prog.cs`, `gcc -O2 prog.c -o prog`
  (the build the C verifier's link check makes);
- the verifier, cold: an empty cache directory (no results; for Go, an empty GOCACHE);
- the verifier, warm: the same samples again, served from the result cache it filled;
- the verifier, rebuilt: the same samples with the result cache off but the toolchain's own
  caches warm (for Go: the shared GOCACHE the cold pass filled).

The verifiers check compile-only (`run_after_compile=false`; Rust with `--emit=metadata`, Go
with `go vet`; `go-novet` is Go without it). "Compiles" verdicts must equal the baseline's (the compiler's exit status) on
every sample, else the script exits 1.

    .venv/bin/python benchmarks/verify_languages.py --workers 2 --repeats 3
    .venv/bin/python benchmarks/verify_languages.py --languages go --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from verify_throughput import Verdict, compile_mismatches

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Language:
    """How to make samples of a language, verify them, and check them the naive way."""

    verifier: dict  # verifier config
    source_name: str
    naive_command: list[str]  # run in the sample's temporary directory
    program: Callable[[int], str]  # a correct program, different for each number
    broken: tuple[Callable[[str], str], ...]  # ways to break a program


def go_program(k: int) -> str:
    return (
        'package main\n\nimport "fmt"\n\nfunc main() {\n\ttotal := 0\n'
        f"\tfor i := 0; i < {k + 10}; i++ {{\n\t\ttotal += i\n\t}}\n"
        "\tfmt.Println(total)\n}\n"
    )


GO_NAIVE = ["go", "build", "-o", "prog", "main.go"]
GO_BROKEN = (
    lambda code: code.replace("fmt.Println(total)", "fmt.Println(total"),
    lambda code: code.replace("fmt.Println(total)", "fmt.Println(count)"),
    lambda code: code.replace("total := 0", 'total := ""'),
)


LANGUAGES = {
    "rust": Language(
        verifier={"type": "rust"},
        source_name="prog.rs",
        naive_command=["rustc", "prog.rs", "-o", "prog"],
        program=lambda k: (
            f"fn main() {{\n    let v: Vec<i64> = (0..{k + 10}).collect();\n"
            f'    println!("{{}}", v.iter().sum::<i64>());\n}}\n'
        ),
        broken=(
            lambda code: code.replace(".collect();", ".collect()"),
            lambda code: code.replace("v.iter()", "w.iter()"),
            lambda code: code.replace("Vec<i64> =", "String ="),
        ),
    ),
    "go": Language(
        verifier={"type": "go"},
        source_name="main.go",
        naive_command=GO_NAIVE,
        program=go_program,
        broken=GO_BROKEN,
    ),
    "go-novet": Language(
        verifier={"type": "go", "vet": False},
        source_name="main.go",
        naive_command=GO_NAIVE,
        program=go_program,
        broken=GO_BROKEN,
    ),
    "csharp": Language(
        verifier={"type": "csharp"},
        source_name="prog.cs",
        naive_command=["mcs", "prog.cs"],
        program=lambda k: (
            "using System;\n\nclass Program {\n    static void Main() {\n        long total = 0;\n"
            f"        for (int i = 0; i < {k + 10}; i++) total += i;\n"
            "        Console.WriteLine(total);\n    }\n}\n"
        ),
        broken=(
            lambda code: code.replace("Console.WriteLine(total);", "Console.WriteLine(total)"),
            lambda code: code.replace("Console.WriteLine(total)", "Console.WriteLine(count)"),
            lambda code: code.replace("long total = 0;", 'long total = "";'),
        ),
    ),
    "c": Language(
        verifier={"type": "gcc", "language": "c"},
        source_name="prog.c",
        naive_command=["gcc", "-O2", "prog.c", "-o", "prog"],
        program=lambda k: (
            "#include <stdio.h>\n\nint main(void) {\n    long total = 0;\n"
            f"    for (int i = 0; i < {k + 10}; i++) total += i;\n"
            '    printf("%ld\\n", total);\n    return 0;\n}\n'
        ),
        broken=(
            lambda code: code.replace("return 0;", "return 0"),
            lambda code: code.replace('printf("%ld\\n", total)', 'printf("%ld\\n", count)'),
            lambda code: code.replace("long total = 0;", "struct { int x; } total = 0;"),
        ),
    ),
}


def make_samples(language: Language, programs: int) -> list[str]:
    good = [language.program(k) for k in range(programs)]
    bad = [language.broken[k % len(language.broken)](code) for k, code in enumerate(good)]
    return good + bad


def naive_check(language: Language, code: str) -> Verdict:
    """One compiler process in a fresh temporary directory: compiles iff it exits 0."""
    with tempfile.TemporaryDirectory(prefix="naive-verify-") as directory:
        (Path(directory) / language.source_name).write_text(code)
        completed = subprocess.run(
            language.naive_command, cwd=directory, capture_output=True, timeout=600, check=False
        )
        return Verdict(compiles=completed.returncode == 0)


def naive_pass(language: Language, samples: list[str], workers: int) -> tuple[float, list[Verdict]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as executor:
        verdicts = list(executor.map(lambda code: naive_check(language, code), samples))
    return time.perf_counter() - started, verdicts


def verifier_passes(
    language: Language, samples: list[str], workers: int
) -> tuple[list[float], list[Verdict]]:
    """Seconds of the cold, warm and rebuilt passes on a fresh cache directory; cold verdicts."""
    from halo_forge.verifiers.registry import build_verifier_from_config

    with tempfile.TemporaryDirectory(prefix="verify-cache-") as cache_dir:
        os.environ["HALO_FORGE_CACHE_DIR"] = cache_dir
        seconds = []
        passes = []
        for use_cache in (True, True, False):
            config = {**language.verifier, "max_workers": workers, "use_cache": use_cache}
            with build_verifier_from_config(config) as verifier:
                started = time.perf_counter()
                passes.append(verifier.verify_batch(samples))
                seconds.append(time.perf_counter() - started)
    cold, warm, _ = passes
    if not all(result.metadata.get("cached") for result in warm):
        raise SystemExit("warm pass was not served from the cache")
    return seconds, [Verdict(compiles=result.success) for result in cold]


def benchmark_language(name: str, programs: int, workers: int, repeats: int) -> dict:
    language = LANGUAGES[name]
    samples = make_samples(language, programs)
    naive_seconds: list[float] = []
    passes: list[list[float]] = []
    mismatches: set[int] = set()
    compiling = 0
    for repeat in range(repeats):
        seconds, reference = naive_pass(language, samples, workers)
        naive_seconds.append(seconds)
        verifier_seconds, verdicts = verifier_passes(language, samples, workers)
        passes.append(verifier_seconds)
        mismatches |= set(compile_mismatches(reference, verdicts))
        compiling = sum(verdict.compiles for verdict in reference)
        print(
            f"[{name}] repeat {repeat + 1}/{repeats}: naive {seconds:.2f} s, cold "
            f"{verifier_seconds[0]:.2f} s, warm {verifier_seconds[1]:.3f} s, "
            f"rebuilt {verifier_seconds[2]:.2f} s",
            file=sys.stderr,
        )
    count = len(samples)
    naive = statistics.median(naive_seconds)
    cold, warm, rebuilt = (statistics.median(column) for column in zip(*passes, strict=True))
    return {
        "language": name,
        "samples": count,
        "compiling_samples": compiling,
        "naive_samples_per_s": count / naive,
        "cold_samples_per_s": count / cold,
        "warm_samples_per_s": count / warm,
        "rebuilt_samples_per_s": count / rebuilt,
        "cold_speedup": naive / cold,
        "warm_speedup": naive / warm,
        "rebuilt_speedup": naive / rebuilt,
        "naive_seconds": naive_seconds,
        "verifier_seconds": passes,
        "verdict_mismatches": sorted(mismatches),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--languages", default="rust,go,go-novet,csharp,c")
    parser.add_argument("--programs", type=int, default=8, help="correct programs per language")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="also write the numbers as JSON")
    args = parser.parse_args()

    rows = [
        benchmark_language(name, args.programs, args.workers, args.repeats)
        for name in args.languages.split(",")
    ]
    print(f"{args.workers} workers, {os.cpu_count()} CPUs, median of {args.repeats} run(s)\n")
    print(
        "| language | samples (compile) | naive samples/s | cold samples/s | warm samples/s "
        "| rebuilt samples/s | cold vs naive | warm vs naive | verdicts agree |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        agree = row["samples"] - len(row["verdict_mismatches"])
        print(
            f"| {row['language']} | {row['samples']} ({row['compiling_samples']}) "
            f"| {row['naive_samples_per_s']:.2f} | {row['cold_samples_per_s']:.2f} "
            f"| {row['warm_samples_per_s']:.0f} | {row['rebuilt_samples_per_s']:.2f} "
            f"| {row['cold_speedup']:.2f}x | {row['warm_speedup']:.0f}x "
            f"| {agree}/{row['samples']} |"
        )
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if any(row["verdict_mismatches"] for row in rows) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
