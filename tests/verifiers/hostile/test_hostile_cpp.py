"""Hostile C and C++ programs against the GCC verifier, under its default settings.

Each case is a program that tries to read what it must not (secrets in the home, the project's
task files, the caller's directory), to be paid without solving the task (printing an answer
it read, rewriting the task file, exit and signal tricks, leaving files for the next sample),
or to fill the disk. Every one must fail, leak nothing into its result, and leave the verifier
working: the honest program beside them must still pass. Real gcc/g++, real sandbox.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from verifiers.hostile.planted import Secrets, reads_of

from halo_forge.verifiers import GCCVerifier
from halo_forge.verifiers.result import RewardLevel, VerifyResult

LANGUAGES = ["c", "c++"]
SUM_INPUT = "2 3\n"
SUM_OUTPUT = "5\n"
HONEST = {
    "c": '#include <stdio.h>\nint main(void) { int a, b; scanf("%d %d", &a, &b);'
    ' printf("%d\\n", a + b); return 0; }\n',
    "c++": "#include <iostream>\nint main() { int a, b; std::cin >> a >> b;"
    " std::cout << a + b << '\\n'; }\n",
}


@pytest.fixture(scope="module")
def gcc() -> Iterator[GCCVerifier]:
    with GCCVerifier(use_cache=False) as verifier:
        yield verifier


def fenced(language: str, source: str) -> str:
    """A model answer: the program in a code block tagged with its language."""
    return f"```{'cpp' if language == 'c++' else 'c'}\n{source}```\n"


def literal(text: str) -> str:
    """A C string literal holding `text` (ASCII)."""
    return json.dumps(text)


def assert_honest_still_passes(gcc: GCCVerifier, language: str) -> None:
    result = gcc.verify(fenced(language, HONEST[language]), stdin=SUM_INPUT, expected_output="5")
    assert result.success and result.reward == 1.0, result


def assert_failed(result: VerifyResult) -> None:
    assert result.success is False and result.reward < 1.0, result


# ---------------------------------------------------------------------- reading the host


def printer(language: str, paths: list[str]) -> str:
    """A program that prints every file of `paths` it can open."""
    names = ", ".join(literal(path) for path in paths)
    if language == "c":
        return (
            "#include <stdio.h>\n"
            f"static const char *paths[] = {{{names}}};\n"
            "int main(void) { char line[512];\n"
            "  for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {\n"
            '    FILE *file = fopen(paths[i], "r"); if (!file) continue;\n'
            "    while (fgets(line, sizeof line, file)) fputs(line, stdout);\n"
            "    fclose(file); }\n"
            "  return 0; }\n"
        )
    return (
        "#include <fstream>\n#include <iostream>\n"
        "int main() {\n"
        f"  for (const char *path : {{{names}}}) {{\n"
        "    std::ifstream in(path); if (in) std::cout << in.rdbuf(); }\n"
        "}\n"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_cannot_print_a_secret_of_the_host(
    gcc: GCCVerifier, secrets: Secrets, language: str
) -> None:
    paths = [read for path in secrets.paths for read in reads_of(path)]
    # What it printed would show in the result ("got ..."), where the check looks for it.
    result = gcc.verify(fenced(language, printer(language, paths)), expected_output="nothing")
    assert_failed(result)
    assert result.reward == RewardLevel.WRONG_OUTPUT  # it ran, and read nothing
    secrets.assert_not_in(result)
    assert_honest_still_passes(gcc, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiler_cannot_include_a_secret_of_the_host(
    gcc: GCCVerifier, secrets: Secrets, language: str
) -> None:
    for path in secrets.paths:
        for read in reads_of(path):
            result = gcc.verify(
                fenced(language, f'#include "{read}"\nint main() {{ return 0; }}\n')
            )
            assert result.stage == "compile" and result.compiled is False, result
            assert "No such file or directory" in (result.error or ""), result
            secrets.assert_not_in(result)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_assembler_cannot_embed_a_secret_of_the_host(
    gcc: GCCVerifier, secrets: Secrets, language: str
) -> None:
    linkage = 'extern "C" ' if language == "c++" else ""
    for path in secrets.paths:
        embed = (
            "#include <stdio.h>\n"
            '__asm__(".section .rodata\\n.globl leaked\\nleaked:\\n'
            f'.incbin \\"{path}\\"\\n.byte 0\\n.text\\n");\n'
            f"{linkage}const char leaked[];\n"
            "int main(void) { fputs(leaked, stdout); return 0; }\n"
        )
        result = gcc.verify(fenced(language, embed), expected_output="nothing")
        assert_failed(result)
        assert result.compiled is False, result
        secrets.assert_not_in(result)


@pytest.mark.parametrize("language", LANGUAGES)
def test_expose_paths_shows_a_named_file_and_nothing_else(secrets: Secrets, language: str) -> None:
    # The control of the tests above: the same reads do pay once a path is exposed.
    exposed, hidden = secrets.paths[2], secrets.paths[0]
    with GCCVerifier(use_cache=False, expose_paths=[exposed.parent]) as verifier:
        program = printer(language, [str(exposed)])
        assert verifier.verify(fenced(language, program), expected_output=secrets.text).success
        included = verifier.verify(fenced(language, f'#include "{exposed}"\nint main() {{}}\n'))
        assert secrets.text in (included.error or "")  # the compiler read it
        program = printer(language, [str(hidden)])
        assert_failed(verifier.verify(fenced(language, program), expected_output=secrets.text))


# ---------------------------------------------------------------------- faking a pass


def rewriter(language: str, path: Path) -> str:
    """A program that overwrites the task file with its own expectation, then prints it."""
    if language == "c":
        return (
            "#include <stdio.h>\n"
            "int main(void) {\n"
            f'  FILE *file = fopen({literal(str(path))}, "w");\n'
            '  if (file) { fputs("4\\n", file); fclose(file); }\n'
            '  puts("4"); return 0; }\n'
        )
    return (
        "#include <fstream>\n#include <iostream>\n"
        f'int main() {{ std::ofstream({literal(str(path))}) << "4\\n"; std::cout << "4\\n"; }}\n'
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_cannot_rewrite_the_task_file(
    gcc: GCCVerifier, secrets: Secrets, language: str
) -> None:
    task_file = secrets.paths[2]
    result = gcc.verify(
        fenced(language, rewriter(language, task_file)), stdin=SUM_INPUT, expected_output=SUM_OUTPUT
    )
    assert_failed(result)
    assert task_file.read_text() == secrets.text + "\n"


#: Wrong programs for "print the sum" that try to look like a pass: (C body, C++ body). Each
#: runs inside `int main(void) { ... }` after the includes of TRICK_INCLUDES.
TRICKS = {
    "exit 0 without an answer": "_exit(0);",
    "answer, then abort": 'printf("5\\n"); fflush(stdout); abort();',
    "kill the verifier": "kill(getppid(), SIGKILL); kill(1, SIGKILL); kill(-1, SIGKILL);",
    "stop itself": "raise(SIGSTOP);",
    "answer from a child after exiting": (
        'if (fork() == 0) { setsid(); sleep(1); printf("5\\n"); return 0; } return 0;'
    ),
    "fork bomb": "for (;;) fork();",
    "hang": "for (;;) pause();",
}
TRICK_INCLUDES = (
    "#include <signal.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n"
)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("trick", TRICKS.values(), ids=TRICKS.keys())
def test_exit_and_signal_tricks_are_not_paid(gcc: GCCVerifier, language: str, trick: str) -> None:
    source = f"{TRICK_INCLUDES}int main(void) {{ {trick} }}\n"
    result = gcc.verify(fenced(language, source), stdin=SUM_INPUT, expected_output=SUM_OUTPUT)
    assert_failed(result)
    assert result.compiled is True and result.stage == "run", result
    assert_honest_still_passes(gcc, language)  # the verifier, and its sandbox, still work


#: A run server's answer to a run that printed "5": the reply a program would forge.
FORGED_REPLY = (
    '{"status": 0, "timed_out": false, "output_truncated": false, "wall_time_s": 0.001, '
    '"stdout_bytes": 2, "stderr_bytes": 0}\n5\n'
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_cannot_answer_for_the_process_that_runs_it(
    gcc: GCCVerifier, language: str
) -> None:
    """Programs run beside a warm server of the same user: writing a forged reply into any
    descriptor of any process that it can open under /proc or take with `pidfd_getfd` must
    not pay."""
    source = (
        "#include <fcntl.h>\n#include <stdio.h>\n#include <string.h>\n#include <unistd.h>\n"
        "#include <sys/ptrace.h>\n#include <sys/socket.h>\n#include <sys/syscall.h>\n"
        f"static const char *reply = {literal(FORGED_REPLY)};\n"
        "static void forge(int out) {\n"
        "  if (out >= 0) { write(out, reply, strlen(reply)); close(out); } }\n"
        "int main(void) { char path[64];\n"
        "  ptrace(PTRACE_ATTACH, getppid(), 0, 0);\n"
        "  for (int pid = 1; pid < 64; pid++) {\n"
        "    int process = syscall(SYS_pidfd_open, pid, 0);\n"
        "    for (int fd = 0; fd < 16; fd++) {\n"
        '      snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);\n'
        "      forge(open(path, O_WRONLY | O_NONBLOCK));\n"
        "      if (process >= 0) forge(syscall(SYS_pidfd_getfd, process, fd, 0)); } }\n"
        "  return 1; }\n"
    )
    result = gcc.verify(fenced(language, source), stdin=SUM_INPUT, expected_output=SUM_OUTPUT)
    assert_failed(result)
    assert result.reward == RewardLevel.RUNTIME_FAILURE, result  # its own exit status 1
    assert_honest_still_passes(gcc, language)


#: Where a program might leave an answer for the next sample ($HOME added at run time).
LEFT_ANSWERS = ["/tmp/answer", "answer", "/dev/shm/answer", "/var/tmp/answer", "/run/answer"]


def leaver() -> str:
    """A program (C and C++ alike) that leaves the answer wherever it can write."""
    places = ", ".join(literal(place) for place in LEFT_ANSWERS)
    return (
        "#include <stdio.h>\n#include <stdlib.h>\n"
        "static void leave(const char *path) {\n"
        '  FILE *file = fopen(path, "w"); if (file) { fputs("5\\n", file); fclose(file); } }\n'
        "int main(void) { char home[512];\n"
        f"  const char *places[] = {{{places}}};\n"
        "  for (unsigned i = 0; i < sizeof places / sizeof *places; i++) leave(places[i]);\n"
        '  snprintf(home, sizeof home, "%s/answer", getenv("HOME")); leave(home);\n'
        "  return 0; }\n"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_files_left_by_one_sample_are_gone_for_the_next(gcc: GCCVerifier, language: str) -> None:
    left = gcc.verify(fenced(language, leaver()), stdin=SUM_INPUT)
    assert left.compiled and left.stage == "run", left
    finder = printer(language, [*LEFT_ANSWERS, "../answer"])
    result = gcc.verify(fenced(language, finder), stdin=SUM_INPUT, expected_output=SUM_OUTPUT)
    assert_failed(result)
    assert result.reward == RewardLevel.WRONG_OUTPUT, result  # it found nothing to print


# ---------------------------------------------------------------------- filling the disk

#: Programs that write until they cannot, then print the right answer and exit 0.
FILLERS = {
    "many files in its directory": "file%d",
    "many files in /tmp": "/tmp/file%d",
    "many files in /dev/shm": "/dev/shm/file%d",
}


def filler(pattern: str) -> str:
    """A program (C and C++ alike) that writes 1 MiB files named by `pattern` until it cannot,
    then prints the answer."""
    return (
        "#include <signal.h>\n#include <stdio.h>\n#include <string.h>\n"
        "static char block[1 << 20];\n"
        "int main(void) { signal(SIGXFSZ, SIG_IGN); memset(block, 'x', sizeof block);\n"
        "  for (int i = 0; i < 100000; i++) { char name[64];"
        f" snprintf(name, sizeof name, {literal(pattern)}, i);\n"
        '    FILE *file = fopen(name, "w"); if (!file) break;\n'
        "    size_t written = fwrite(block, 1, sizeof block, file);\n"
        "    if (fclose(file) != 0 || written < sizeof block) break; }\n"
        '  printf("5\\n"); return 0; }\n'
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("pattern", FILLERS.values(), ids=FILLERS.keys())
def test_a_program_that_fills_its_scratch_is_a_runtime_failure(
    gcc: GCCVerifier, language: str, pattern: str
) -> None:
    result = gcc.verify(
        fenced(language, filler(pattern)), stdin=SUM_INPUT, expected_output=SUM_OUTPUT
    )
    assert_failed(result)
    assert result.reward == RewardLevel.RUNTIME_FAILURE, result
    assert "disk limit of 256 MiB reached" in (result.error or ""), result
    assert_honest_still_passes(gcc, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_one_huge_file_stops_at_the_file_size_limit(gcc: GCCVerifier, language: str) -> None:
    huge = (
        "#include <stdio.h>\n#include <string.h>\nstatic char block[1 << 20];\n"
        'int main(void) { memset(block, \'x\', sizeof block); FILE *file = fopen("huge", "w");\n'
        "  for (int i = 0; i < 4096; i++) fwrite(block, 1, sizeof block, file);\n"
        '  printf("5\\n"); return 0; }\n'
    )
    result = gcc.verify(fenced(language, huge), stdin=SUM_INPUT, expected_output=SUM_OUTPUT)
    assert_failed(result)
    assert result.reward == RewardLevel.RUNTIME_FAILURE, result
    assert f"killed by signal {int(signal.SIGXFSZ)}" in (result.error or ""), result
