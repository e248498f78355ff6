"""Files written whole or not at all, and outputs that must not be inputs.

Every file the package writes (models, predictions, pictures, reports) goes
through :func:`atomic_write`: the data go to a temporary file in the target's
folder, which replaces the target (:func:`os.replace`) only once it is
complete.  A failed write (an exception, a full disk) leaves the old file as it
was and no temporary file behind.
"""

import contextlib
import os
import tempfile

__all__ = ["atomic_write", "refuse_overwriting", "same_file"]


def _default_mode():
    """0o666 without the process's umask, read without changing it (os.umask would, for a moment)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


@contextlib.contextmanager
def atomic_write(path, mode="wb", **open_args):
    """Open a temporary file next to `path` for writing; on success it replaces `path`.

    Parameters
    ----------
    path : str or path-like
        The target.  A symbolic link is followed: the file it points to is replaced.
    mode : {"wb", "w"}
        Binary or text.
    **open_args
        Passed to :func:`os.fdopen` (encoding, newline).

    Yields
    ------
    file object
        The temporary file.  When the ``with`` block raises, it is removed and
        `path` is left untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    target = os.path.realpath(os.fspath(path))
    if os.path.isdir(target):
        raise IsADirectoryError(21, "Is a directory", os.fspath(path))
    if os.path.exists(target) and not os.path.isfile(target):
        raise ValueError(f"cannot write {os.fspath(path)}: not a regular file (a device, a pipe or a socket)")
    folder, name = os.path.split(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        try:
            existing = os.stat(target).st_mode & 0o7777
        except OSError:
            existing = _default_mode()
        os.chmod(tmp, existing)
        with os.fdopen(fd, mode, **open_args) as f:
            fd = -1
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def same_file(a, b):
    """Whether paths `a` and `b` name one file (through ./, symbolic links or hard links)."""
    a, b = os.fspath(a), os.fspath(b)
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they lead
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting(output, inputs, what="output"):
    """ValueError when `output` is the same file as one of `inputs` (checked before anything is read).

    Parameters
    ----------
    output : str or path-like
    inputs : iterable of (str, path-like)
        (role, path) pairs, such as ("data", "train.csv").
    what : str
        How the output is named in the message (such as "--out").
    """
    for role, path in inputs:
        if path is not None and same_file(output, path):
            raise ValueError(
                f"{what} {os.fspath(output)} is the {role} file {os.fspath(path)}: refusing to overwrite it"
            )
