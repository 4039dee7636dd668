"""Typed errors. Each carries the fix in its message, so a user reads one line and knows what to do."""


class HaloForgeError(Exception):
    """Base of every error halo-forge raises on purpose (the CLI prints these without a traceback)."""


class ConfigError(HaloForgeError):
    """A configuration file or option is invalid: names the key path, the bad value and what is allowed."""


class DataError(HaloForgeError):
    """A data file is malformed: names the file, the line and the field."""


class VerifierError(HaloForgeError):
    """A verifier cannot run (missing toolchain, bad option): names the package or option to fix."""


class ModelError(HaloForgeError):
    """A model or tokenizer cannot be loaded or used as asked."""


#: Exit status of a command stopped with Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT_CODE = 130
