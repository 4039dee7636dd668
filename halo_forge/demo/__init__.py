"""`halo-forge demo`: the whole pipeline on the embedded tiny model, on a laptop CPU, no downloads."""

from halo_forge.demo.pipeline import DemoRun, run_demo
from halo_forge.demo.settings import DemoSettings, load_preset

__all__ = ["DemoRun", "DemoSettings", "load_preset", "run_demo"]
