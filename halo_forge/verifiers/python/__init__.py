"""The Python test verifiers (`verifiers`: MBPP, HumanEval, pytest, unittest, plain programs).

Programs run in children forked from warm servers in the sandbox (`runner`, `fork_server`),
under a trusted harness (`harness`, `harness_pytest`, `guards`) that reports each test on an
authenticated channel (`protocol`); `units` counts the tests from their source and `scoring`
turns the reports into a result. `benchmark_tasks` reads HumanEval and MBPP task files.
"""
