"""A plain TRL `GRPOTrainer` whose reward is a halo-forge verifier (gcc compiles and runs).

    python docs/examples/trl_grpo_reward.py [OUTPUT_DIR]

Nothing here is halo-forge's trainer: the model, the dataset and the training loop are TRL's
and Transformers'. halo-forge supplies one thing, the reward function: `VerifierReward` turns
the verifier into `(prompts, completions, **columns) -> list[float]`, reads each sample's
expected output from the dataset's `expected_output` column, verifies the batch in parallel
through the verifier's sandbox and cache, and logs the pass and compile rate beside TRL's
reward mean. The model is halo-forge's embedded `builtin:tiny-coder`, a two-million-parameter
Qwen2 that plain Transformers loads, so the script runs two steps on a CPU in seconds; put any
Hugging Face model id in its place on a GPU.
"""

from __future__ import annotations

import sys
import tempfile

from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from halo_forge.models.tiny import ensure_tiny_model
from halo_forge.verifiers import GCCVerifier
from halo_forge.verifiers.integrations import VerifierReward


def main(output_dir: str) -> None:
    model_dir = str(ensure_tiny_model())  # built once, then cached
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    # Conversational prompts; every column but `prompt` reaches the reward as a keyword.
    dataset = Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": f"Write a C program that prints {n}."}],
                "expected_output": f"{n}\n",
            }
            for n in (7, 42, 99, 1000)
        ]
    )
    verifier = GCCVerifier(language="c", run_after_compile=True)
    reward = VerifierReward(verifier, timeout=120)  # a hung batch scores 0, never hangs the run
    arguments = GRPOConfig(
        output_dir=output_dir,
        num_generations=4,
        per_device_train_batch_size=4,
        max_completion_length=32,
        max_steps=2,
        logging_steps=1,
        report_to=[],
        use_cpu=True,
        bf16=False,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=reward,
        args=arguments,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()
    verifier.cleanup()
    for entry in trainer.state.log_history:
        if "reward" in entry:
            print(
                f"step {entry['step']}: reward {entry['reward']:.3f}, "
                f"pass rate {entry['rewards/gcc/pass_rate']:.0%}"
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="trl-grpo-"))
