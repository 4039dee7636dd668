"""A verifier as a TRL reward function: `(prompts, completions, **columns) -> list[float]`.

    from trl import GRPOTrainer
    from halo_forge.verifiers import GCCVerifier
    from halo_forge.verifiers.integrations import VerifierReward

    reward = VerifierReward(GCCVerifier(run_after_compile=True))
    trainer = GRPOTrainer(model=..., reward_funcs=reward, train_dataset=dataset)

TRL calls a reward function with the batch's prompts and completions (strings, or message lists
for a conversational dataset) and every other dataset column as a keyword, one value per
completion. Those columns are the samples' verification context (`tests`, `expected_output`,
`stdin`, `test_cases`, `task_id`, ...), exactly the keyword arguments `Verifier.verify` reads;
a `verification_context` column holding a JSON object is merged in as well (halo-forge's own
GRPO trainer writes each prompt record's whole context there, so nested fields survive the
dataset's columnar storage unchanged). The batch goes through the verifier's pool and result
cache (`run_batch`), and the reward is the graduated one, never thresholded to 0/1: GRPO's
advantages are differences between the samples of one prompt, and "compiles but wrong" versus
"does not compile" is exactly the difference a weak model can climb.

A run must never hang on a verifier: the batch is verified on a background thread in chunks,
and samples whose chunk has not finished when `timeout` seconds are up score 0, with a warning
that says how many. When TRL passes `log_metric`, the pass rate, the compile rate (`compiled_of`,
the rule every halo-forge report uses) and the count of timed-out samples are logged beside
TRL's own reward mean and standard deviation, under `rewards/<name>/...`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from halo_forge.verifiers.base import Verifier
from halo_forge.verifiers.batch import run_batch
from halo_forge.verifiers.result import VerifyResult, compile_rate, compiled_of

logger = logging.getLogger(__name__)

#: Keywords TRL adds to every reward call that are not dataset columns.
TRL_KEYWORDS = frozenset(
    {"completion_ids", "trainer_state", "log_extra", "log_metric", "environments"}
)
#: A column holding a sample's whole verification context as a JSON object (or a dict).
CONTEXT_COLUMN = "verification_context"
#: Samples per chunk per verifier worker: small enough that a hung chunk loses little work,
#: large enough that the workers stay busy and identical samples are verified once. Chunks
#: run one after another, and the workers that finish a chunk first wait for the rest: a
#: GRPO step's batch (16 completions on 2 workers) is one chunk, not two.
CHUNK_PER_WORKER = 8
#: Seconds a batch may take before its unfinished samples score 0.
DEFAULT_TIMEOUT_SECONDS = 600.0


def completion_text(completion: str | Sequence[Mapping[str, Any]]) -> str:
    """The model's answer: a plain completion as is, a conversational one's message contents."""
    if isinstance(completion, str):
        return completion
    return "\n".join(str(message.get("content") or "") for message in completion)


def prompt_text(prompt: str | Sequence[Mapping[str, Any]]) -> str:
    """The prompt as a verifier reads it (HumanEval completes it): a conversation's last user turn."""
    if isinstance(prompt, str):
        return prompt
    user_turns = [message for message in prompt if message.get("role") == "user"]
    return str(user_turns[-1].get("content") or "") if user_turns else ""


def _present(value: Any) -> bool:
    return value not in (None, [], {}, "")


def _column_value(value: Any) -> Any:
    """A column's value as `verify` expects it.

    A dataset stores a dict column as one struct with every key any row used, so a row's own
    dict comes back with None for the keys it lacked (`files` of different prompts); those go.
    """
    if isinstance(value, Mapping):
        return {key: item for key, item in value.items() if item is not None}
    return value


class VerifierReward:
    """A TRL reward function backed by a halo-forge verifier (see the module docstring).

    `timeout` (seconds, None: wait as long as it takes) bounds one call. `context_columns`
    names the dataset columns that are verification context; None takes every column TRL
    passes except its own keywords. `name` is what TRL logs the reward as (`__name__`);
    the default is the verifier's registered name.
    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        context_columns: Sequence[str] | None = None,
        name: str | None = None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive seconds or None, got {timeout}")
        self.verifier = verifier
        self.timeout = timeout
        self.context_columns = None if context_columns is None else tuple(context_columns)
        self.__name__ = name or getattr(verifier, "verifier_name", type(verifier).__name__)

    def __call__(
        self,
        prompts: Sequence[str | Sequence[Mapping[str, Any]]],
        completions: Sequence[str | Sequence[Mapping[str, Any]]],
        **columns: Any,
    ) -> list[float]:
        """One graduated reward per completion, in order (0 for a sample that timed out)."""
        texts = [completion_text(completion) for completion in completions]
        contexts = self.contexts(prompts, columns, len(texts))
        results = self.verify(texts, contexts)
        log_metric = columns.get("log_metric")
        if callable(log_metric):
            self._log_metrics(log_metric, results)
        return [0.0 if result is None else result.reward for result in results]

    def contexts(
        self,
        prompts: Sequence[str | Sequence[Mapping[str, Any]]],
        columns: Mapping[str, Any],
        count: int,
    ) -> list[dict[str, Any]]:
        """Each sample's `verify` keywords: its prompt, its context columns, its JSON context."""
        names = [
            name
            for name in (self.context_columns or columns)
            if name not in TRL_KEYWORDS and name in columns
        ]
        for name in names:
            if len(columns[name]) != count:
                raise ValueError(
                    f"column {name!r} has {len(columns[name])} values for {count} completions; "
                    "pass one value per completion (TRL repeats each prompt's columns)"
                )
        contexts = []
        for index in range(count):
            context: dict[str, Any] = {"prompt": prompt_text(prompts[index])}
            for name in names:
                value = _column_value(columns[name][index])
                if name == CONTEXT_COLUMN:
                    context |= json.loads(value) if isinstance(value, str) else dict(value or {})
                elif _present(value):
                    context[name] = value
            contexts.append(context)
        return contexts

    def verify(self, texts: list[str], contexts: list[dict[str, Any]]) -> list[VerifyResult | None]:
        """Results in input order; None for a sample not verified within the timeout.

        Chunks run one after another on a daemon thread, each through `run_batch` (pool,
        deduplication, cache); a verifier that cannot run at all (`VerifierError`) is raised here.
        """
        results: list[VerifyResult | None] = [None] * len(texts)
        failure: list[BaseException] = []
        stop = threading.Event()
        chunk = max(1, self.verifier.max_workers * CHUNK_PER_WORKER)

        def work() -> None:
            try:
                for start in range(0, len(texts), chunk):
                    if stop.is_set():
                        return
                    scored = run_batch(
                        self.verifier,
                        texts[start : start + chunk],
                        contexts=contexts[start : start + chunk],
                        show_progress=False,
                    )
                    results[start : start + len(scored)] = scored
            except BaseException as error:  # handed to the caller's thread below
                failure.append(error)

        worker = threading.Thread(target=work, name=f"{self.__name__}-reward", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            stop.set()  # the chunk in flight finishes (and is cached); no other one starts
            unfinished = sum(result is None for result in results)
            logger.warning(
                "reward %s: %d of %d samples were not verified within %g s and score 0; raise "
                "the timeout (grpo.reward_timeout) or check the verifier (a hung build host?)",
                self.__name__,
                unfinished,
                len(texts),
                self.timeout,
            )
        elif failure:
            raise failure[0]
        return results

    def _log_metrics(
        self, log_metric: Callable[[str, float], None], results: list[VerifyResult | None]
    ) -> None:
        """Pass rate, compile rate and timed-out count of the batch, as TRL scalar metrics."""
        finished = [result for result in results if result is not None]
        prefix = f"rewards/{self.__name__}"
        log_metric(f"{prefix}/pass_rate", sum(r.success for r in finished) / max(len(results), 1))
        rate = compile_rate(compiled_of(result) for result in finished)
        if rate is not None:
            log_metric(f"{prefix}/compile_rate", rate)
        log_metric(f"{prefix}/timed_out", float(len(results) - len(finished)))
