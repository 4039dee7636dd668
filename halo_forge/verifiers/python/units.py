"""Split trusted test sources into the units that are counted, on the trusted side.

The harness reports one result per unit, and the verifier computes the pass fraction against
the count made here from source text, never against what the process under test reports. So
a program that stops the harness early, or deletes a test, lowers its own score.

- `assert_steps`: HumanEval's `check(candidate)` and MBPP's `test_solution()` or `test_list`
  become one step per statement, each assert (or loop of asserts) a test of its own, so
  partial credit is real; the other statements (imports, helper values) are setup steps.
- `declared_unittest_tests` / `declared_pytest_tests`: the test methods and functions that a
  source defines, with the line their code object starts on, so the harness can check that
  the function it runs is the one written in the source and not a replacement.

Parsing is not executing: everything here reads the source with `ast` and runs nothing.
"""

from __future__ import annotations

import ast
import copy
import functools
from dataclasses import dataclass

from halo_forge.verifiers.python.guards import EQUAL_HELPER, NOT_EQUAL_HELPER


@dataclass(frozen=True)
class TestStep:
    """One statement the harness executes after the program; `is_test` steps are counted."""

    source: str
    is_test: bool
    label: str


@dataclass(frozen=True)
class DeclaredTest:
    """A test function or method as written in a source file.

    `first_line` is where its code object starts (the first decorator, else the `def`), which
    the harness compares with the function it is about to run. `instances` is how many cases
    a literal `pytest.mark.parametrize` list makes (1 when not known from the source).
    """

    class_name: str | None
    name: str
    first_line: int
    instances: int = 1


_LABEL_LENGTH = 120
_BLOCK_STATEMENTS = (ast.For, ast.While, ast.If, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)


def _label(statement: ast.stmt) -> str:
    text = ast.unparse(statement).splitlines()[0]
    return text if len(text) <= _LABEL_LENGTH else text[: _LABEL_LENGTH - 3] + "..."


def _contains_assert(statement: ast.stmt) -> bool:
    return any(isinstance(node, ast.Assert) for node in ast.walk(statement))


def _is_test_statement(statement: ast.stmt) -> bool:
    """An assert, or a block (a loop over cases, a `with`) whose body asserts."""
    if isinstance(statement, ast.Assert):
        return True
    return isinstance(statement, _BLOCK_STATEMENTS) and _contains_assert(statement)


def _runs_at_module_level(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the body can run statement by statement outside the function (no return/yield)."""
    if isinstance(function, ast.AsyncFunctionDef):
        return False
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(node, ast.Return | ast.Yield | ast.YieldFrom | ast.Nonlocal | ast.Await):
            return False
        pending.extend(ast.iter_child_nodes(node))
    return True


class _VerifiedComparisons(ast.NodeTransformer):
    """`a == b` / `a != b` inside an assert become the harness's checked comparisons."""

    def visit_Assert(self, node: ast.Assert) -> ast.Assert:
        node.test = _ComparisonCalls().visit(node.test)
        return node


class _ComparisonCalls(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
            return node
        helper = EQUAL_HELPER if isinstance(node.ops[0], ast.Eq) else NOT_EQUAL_HELPER
        call = ast.Call(ast.Name(helper, ast.Load()), [node.left, node.comparators[0]], [])
        return ast.copy_location(call, node)


def _step(statement: ast.stmt, is_test: bool) -> TestStep:
    """A step whose source checks comparisons (see `guards.verified_equal`)."""
    label = _label(statement)
    checked = _VerifiedComparisons().visit(copy.deepcopy(statement))
    return TestStep(
        source=ast.unparse(ast.fix_missing_locations(checked)), is_test=is_test, label=label
    )


def parse_test_source(source: str, what: str = "test source") -> ast.Module:
    """`source` parsed; a SyntaxError names `what`, the line and the message."""
    try:
        return ast.parse(source)
    except SyntaxError as error:
        raise SyntaxError(f"{what} does not parse: line {error.lineno}: {error.msg}") from None


@functools.lru_cache(maxsize=4096)
def assert_steps(
    test_source: str, check_function: str | None = None, setup_code: str = ""
) -> tuple[tuple[TestStep, ...], str | None]:
    """The steps of a check, and the name of its parameter (HumanEval's `candidate`) if any.

    With `check_function`, its body is split and the rest of the module is setup; without,
    the module's top-level asserts are the tests. A check whose body cannot run outside the
    function (it returns or yields) stays one test: calling it. Cached: RAFT verifies the
    same task's tests for every sample of its prompt.
    """
    steps = [_step(statement, False) for statement in parse_test_source(setup_code).body]
    module = parse_test_source(test_source)
    checks = [
        node
        for node in module.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == check_function
    ]
    if check_function is None or not checks:
        steps += [_step(node, _is_test_statement(node)) for node in module.body]
        return tuple(steps), None
    check = checks[-1]
    steps += [_step(node, False) for node in module.body if node is not check]
    parameters = check.args.posonlyargs + check.args.args
    parameter = parameters[0].arg if len(parameters) == 1 else None
    body_steps = [_step(node, _is_test_statement(node)) for node in check.body]
    if _runs_at_module_level(check) and any(step.is_test for step in body_steps):
        return tuple(steps + body_steps), parameter
    call = f"{check_function}({parameter})" if parameter else f"{check_function}()"
    steps += [_step(check, False), TestStep(source=call, is_test=True, label=call)]
    return tuple(steps), parameter


def _first_line(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return min([function.lineno] + [decorator.lineno for decorator in function.decorator_list])


def _base_names(node: ast.ClassDef) -> list[str]:
    names = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


def _methods(node: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        item.name: item
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def declared_unittest_tests(source: str) -> list[DeclaredTest]:
    """`test*` methods of the module's `unittest.TestCase` subclasses, inherited ones included.

    A class counts when a base is named `TestCase` (or `IsolatedAsyncioTestCase`) or is a test
    class of the same module; a method inherited from such a class runs once per subclass, as
    unittest's loader does.
    """
    module = parse_test_source(source)
    classes: dict[str, ast.ClassDef] = {}
    for node in module.body:
        if isinstance(node, ast.ClassDef) and any(
            base in ("TestCase", "IsolatedAsyncioTestCase") or base in classes
            for base in _base_names(node)
        ):
            classes[node.name] = node
    declared: list[DeclaredTest] = []
    for name, node in classes.items():
        inherited: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        lineage = [node]
        while lineage:
            current = lineage.pop(0)
            for method_name, method in _methods(current).items():
                inherited.setdefault(method_name, method)
            lineage += [classes[base] for base in _base_names(current) if base in classes]
        declared += [
            DeclaredTest(class_name=name, name=method_name, first_line=_first_line(method))
            for method_name, method in inherited.items()
            if method_name.startswith("test")
        ]
    return declared


def _parametrized_instances(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Cases of literal `@pytest.mark.parametrize(names, [...])` decorators (1 when unknown)."""
    instances = 1
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "parametrize"
            and len(decorator.args) >= 2
            and isinstance(decorator.args[1], ast.List | ast.Tuple)
        ):
            instances *= max(1, len(decorator.args[1].elts))
    return instances


def declared_pytest_tests(source: str) -> list[DeclaredTest]:
    """Test functions pytest collects by default: `test*` functions, `Test*` classes' methods,
    and the `test*` methods of `unittest.TestCase` classes whatever their name."""
    unittest_tests = declared_unittest_tests(source)
    unittest_classes = {test.class_name for test in unittest_tests}
    declared: list[DeclaredTest] = []
    for node in parse_test_source(source).body:
        if isinstance(node, ast.ClassDef) and node.name in unittest_classes:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            declared.append(
                DeclaredTest(None, node.name, _first_line(node), _parametrized_instances(node))
            )
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = _methods(node)
            if "__init__" in methods:
                continue  # pytest does not collect classes with a constructor
            declared += [
                DeclaredTest(node.name, name, _first_line(method), _parametrized_instances(method))
                for name, method in methods.items()
                if name.startswith("test")
            ]
    return declared + unittest_tests
