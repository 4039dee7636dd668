"""`halo-forge model ...`: turn a trained adapter into a model that other tools load."""

from __future__ import annotations

from pathlib import Path

import typer

from halo_forge import ui

app = typer.Typer(
    help="Export trained models: merge a LoRA adapter into its base.", no_args_is_help=True
)


@app.command("merge")
def merge(
    model: str = typer.Argument(
        ...,
        help=(
            "Adapter directory (e.g. models/sft/final_model); its base is the one its "
            "adapter_config.json names. A full model directory or id is saved as it is."
        ),
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Directory of the merged model."),
    force: bool = typer.Option(
        False, "--force", help="Replace an --output directory that already holds files."
    ),
    device: str | None = typer.Option(
        None, "--device", help="Where to merge: auto (default), cpu, cuda or mps."
    ),
    dtype: str | None = typer.Option(
        None,
        "--dtype",
        help="Weights as saved: auto (bf16 on a capable GPU, else float32), float32, bfloat16, "
        "float16.",
    ),
) -> None:
    """Fold a LoRA adapter into its base weights and save one standalone model.

    The output holds safetensors weights, config.json, the tokenizer files and the chat
    template: plain `transformers.AutoModelForCausalLM.from_pretrained(DIR)`, vLLM
    (`vllm serve DIR`) and other Hugging Face tools load it without halo-forge or peft, and
    without the per-request LoRA overhead.
    """
    from halo_forge.models.lora import merge_adapter  # torch loads only when a command runs

    merged = merge_adapter(model, output, force=force, device=device, dtype=dtype)
    ui.echo(f"merged model: {merged}")
