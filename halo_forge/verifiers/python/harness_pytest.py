"""The harness's pytest mode: real pytest in the confined child, results from a plugin.

Outcomes never come from pytest's terminal output or exit status. A plugin reports each test
as a record on the trusted channel (see `harness` for the threat model), and a test
passes only when all of these hold:

- its function is the one the source defines: same name, same first line, same file (a test
  rebound to another function after its `def` fails, a deleted one is never collected);
- the plugin saw `pytest_runtest_call` return normally (the test body ran to its end);
- pytest's reports for setup, call and teardown all say passed (a skip or an xfail is not a pass).

The program runs during collection (it is the test module, or the module the test file
imports), so every loaded module (pytest and pluggy, and the standard library the tests call)
is snapshotted when the session starts and put back when collection ends: a patch of pytest's
machinery or of `math` made at import time is undone before any test runs.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
from _pytest.config import default_plugins

from halo_forge.verifiers.python.guards import EVERY_MODULE, ModuleState
from halo_forge.verifiers.python.protocol import (
    COUNT,
    FAILED,
    PASSED,
    PROGRAM_ERROR,
    SOLUTION_FILE,
    describe_exception,
)

INLINE_TEST_FILE = "test_solution.py"
#: Plugins that report, debug or profile; a verification needs none of them, and loading them
#: doubles the time of a session. The `tmp_path`, `monkeypatch` and `capsys` fixtures stay, and
#: so does `debugging`: pytest's support for `unittest.TestCase` tests reads its `usepdb` option.
_UNUSED_PLUGINS = (
    "cacheprovider",
    "doctest",
    "faulthandler",
    "junitxml",
    "logging",
    "pastebin",
    "setuponly",
    "setupplan",
    "stepwise",
    "threadexception",
    "unraisableexception",
    "warnings",
)
_PYTEST_ARGUMENTS = (
    "-q",
    *(argument for plugin in _UNUSED_PLUGINS for argument in ("-p", f"no:{plugin}")),
    "--noconftest",  # a conftest.py left by an earlier sample must not run
    "-o",
    "addopts=",
    "-o",
    "python_classes=Test*",
    "-o",
    "python_functions=test*",
)

Report = Callable[..., None]

# pytest imports its built-in plugins when a session starts; importing them here, in the
# warm server, spares every forked child that work.
for _plugin in default_plugins:
    importlib.import_module(f"_pytest.{_plugin}")


class RecordingPlugin:
    """Writes one record per declared test instance as pytest finishes it."""

    def __init__(self, declared: list[list[Any]], report: Report, test_file: str) -> None:
        self.index_of = {(entry[0], entry[1]): index for index, entry in enumerate(declared)}
        self.first_line = [entry[2] for entry in declared]
        self.report = report
        self.test_file = test_file
        self.machinery: ModuleState | None = None
        self.item_index: dict[str, int] = {}
        self.replaced: set[str] = set()
        self.completed: set[str] = set()
        self.failures: dict[str, str] = {}

    def pytest_sessionstart(self, session: Any) -> None:
        self.machinery = ModuleState(EVERY_MODULE)

    def pytest_collection_finish(self, session: Any) -> None:
        if self.machinery is not None:
            self.machinery.restore()
        counts = [0] * len(self.first_line)
        for item in session.items:
            cls = getattr(item, "cls", None)
            index = self.index_of.get((cls.__name__ if cls else None, item.originalname))
            if index is None:
                continue
            counts[index] += 1
            self.item_index[item.nodeid] = index
            if not self._is_declared(item, index):
                self.replaced.add(item.nodeid)
        for index, count in enumerate(counts):
            if count:
                self.report(COUNT, index, str(count))

    def _is_declared(self, item: Any, index: int) -> bool:
        code = getattr(getattr(item, "function", None), "__code__", None)
        return (
            code is not None
            and code.co_name == item.originalname
            and code.co_firstlineno == self.first_line[index]
            and os.path.basename(code.co_filename) == self.test_file
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: Any) -> Any:
        result = yield  # raises when the test body raised
        self.completed.add(item.nodeid)
        return result

    def pytest_runtest_logreport(self, report: Any) -> None:
        nodeid = report.nodeid
        if nodeid not in self.item_index:
            return
        if not report.passed and nodeid not in self.failures:
            self.failures[nodeid] = _failure_message(report)
        if report.when != "teardown":
            return
        index = self.item_index[nodeid]
        if nodeid in self.replaced:
            self.report(FAILED, index, "the test function was replaced after its definition")
        elif nodeid in self.failures:
            self.report(FAILED, index, self.failures[nodeid])
        elif nodeid not in self.completed:
            self.report(FAILED, index, "the test body did not run to its end")
        else:
            self.report(PASSED, index)


def _failure_message(report: Any) -> str:
    if report.skipped:
        return "xfail" if hasattr(report, "wasxfail") else "skipped"
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return f"{report.when}: {crash.message}"
    lines = str(report.longrepr).strip().splitlines()
    return f"{report.when}: {lines[-1] if lines else 'failed'}"


def run_pytest(request: dict[str, Any], report: Report) -> None:
    """Write the program (and the trusted test file) here and run pytest on the test file."""
    test_file = request.get("test_file_name") or INLINE_TEST_FILE
    if request.get("test_file_source") is None:
        files = {INLINE_TEST_FILE: request["code"]}
    else:
        files = {SOLUTION_FILE: request["code"], test_file: request["test_file_source"]}
    for name, source in files.items():
        with open(name, "w", encoding="utf-8") as handle:
            handle.write(source)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    sys.dont_write_bytecode = True
    plugin = RecordingPlugin(request["declared"], report, test_file)
    arguments = [*_PYTEST_ARGUMENTS, "--rootdir", os.getcwd(), "-c", os.devnull, test_file]
    try:
        pytest.main(arguments, plugins=[plugin])
    except BaseException as error:  # the session ended early; unreported tests count as failed
        report(PROGRAM_ERROR, 0, f"the pytest session ended early: {describe_exception(error)}")
