"""The one exception type the pipeline raises for bad input, so scripts can report it plainly."""


class InputError(ValueError):
    """Bad input: a corrupt file, a checksum mismatch, wrong shapes, an unreachable URL, a bad setting.

    The message names the file (or setting) and the problem; entry scripts print it without a traceback.
    """


class DiskFullError(OSError):
    """A write failed because its disk (or the user's quota on it) is full; the message names the folder.

    Not a bug and not bad input, but the user's to fix all the same: entry scripts print it without a traceback.
    """
