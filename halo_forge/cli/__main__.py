"""`python -m halo_forge.cli ...`: the CLI as a module, the form launchers start.

torchrun --nproc_per_node 2 -m halo_forge.cli sft train --config sft.yaml
accelerate launch --config_file configs/accelerate/ddp.yaml -m halo_forge.cli raft train ...
"""

from halo_forge.cli.main import main

if __name__ == "__main__":
    main()
