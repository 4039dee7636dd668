#!/usr/bin/env bash
# Time Transformers vs vLLM generation, and one RAFT cycle on each, on one CUDA or ROCm GPU with
# a small hub model; the results come out as a section for benchmarks/RESULTS.md.
#
#   bash benchmarks/gpu_check.sh [MODEL] | tee gpu_check.md
#
# Needs: an environment with halo-forge and a vLLM build for the GPU (docs/training/generation.md,
# "Running vLLM on CUDA and ROCm"), gcc, and the model on the hub or in its cache. Both scripts
# it runs are tested on the CPU with the embedded tiny model.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-Qwen/Qwen2.5-Coder-0.5B-Instruct}"
PYTHON="${PYTHON:-python}"

"$PYTHON" -c 'import torch, vllm, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA/ROCm GPU visible to torch")'
GPU="$("$PYTHON" -c 'import torch; print(torch.cuda.get_device_name(0))')"
VERSIONS="$("$PYTHON" -c 'import torch, vllm, transformers; print(f"torch {torch.__version__}, vllm {vllm.__version__}, transformers {transformers.__version__}")')"

echo "## GPU check: Transformers vs vLLM on ${MODEL}"
echo
echo "- Machine: ${GPU}; $(nproc) CPU cores; ${VERSIONS}"
echo "- Date: $(date -u +%Y-%m-%d)"
echo "- Command: \`bash benchmarks/gpu_check.sh ${MODEL}\`"
echo
echo '```'
"$PYTHON" benchmarks/generation.py --model "$MODEL" --device cuda --vllm --skip-sft \
    --prompts 64 --samples 8 --max-new-tokens 256 --batch-size 64 --repeats 3
"$PYTHON" benchmarks/raft_cycle.py --model "$MODEL" --prompts 32 --samples 8 \
    --max-new-tokens 256 --batch-size 32 --gpu-memory-utilization 0.5 --repeats 3
echo '```'
