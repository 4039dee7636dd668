"""`halo-forge demo`: the whole pipeline on the embedded tiny model, on a laptop CPU, no downloads."""

from halo_forge.demo.pipeline import DemoOutcome, DemoRun, run_demo
from halo_forge.demo.settings import FULL, QUICK, DemoSettings, preset

__all__ = ["FULL", "QUICK", "DemoOutcome", "DemoRun", "DemoSettings", "preset", "run_demo"]
