"""User-facing errors: each one's `str()` is one line saying what is wrong and what to do about it.

Entry points catch `LbieError`, print that line and exit with status 2, without a traceback. Anything else
that escapes is a bug and keeps its traceback.
"""


class LbieError(Exception):
    """Base of the errors a user can fix (a flag, a file, a directory); the message is one line."""


class ConfigError(LbieError, ValueError):
    """A flag or configuration value is invalid or inconsistent with another one, or with the machine."""


class DataError(LbieError, ValueError):
    """Input data is missing, malformed or inconsistent (files, vocabulary, dataset splits)."""


class IncompatibleCheckpointError(LbieError):
    """A model directory holds a checkpoint of a different model than the one being built."""


class NonFiniteLossError(LbieError):
    """Training produced a NaN or infinite loss."""


class DamagedCheckpointError(LbieError):
    """A model directory's checkpoint material (a checkpoint, its state file, `model_config.json`) is damaged or
    incomplete, so the run cannot resume from it."""


class ModelDirError(LbieError, OSError):
    """A model directory cannot be written: full disk, read-only file system or no permission."""


class RunLockedError(LbieError):
    """Another training run is using the model directory."""
