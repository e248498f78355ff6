"""The progress display of training: a tqdm bar when tqdm is installed, plain lines otherwise.

One class for every loop that reports progress (the estimator's epochs, the
command line's iterations).  The caller says what a step is called and what
to show; the display picks the form::

    progress = Progress(total, enabled=verbose, desc="training", unit="it")
    for ...:
        progress.update(count, postfix={"cost": f"{cost:.6f}"},
                        line=lambda done, total: f"training: {done}/{total}, cost {cost:.6f}")
    progress.close()

tqdm is optional: without it (or when ``tqdm.auto`` cannot be imported) each
update writes its `line` instead.
"""

import sys

__all__ = ["Progress"]


class Progress:
    """A progress display over `total` steps: tqdm's bar, or one plain line per update.

    Parameters
    ----------
    total : int
        Number of steps (epochs, iterations) expected.  Nothing is shown when
        it is 0 or less.
    enabled : bool, default True
        False: every method does nothing (apart from counting).
    desc : str, default ""
        The bar's label.
    unit : str, default "it"
        The bar's name for one step.
    stream : file-like or None, default None
        Where the bar, the lines and the closing message go.  None: the bar on
        ``sys.stderr`` (tqdm's default), the plain lines and the closing
        message on ``sys.stdout`` as it is at the time of writing.
    rewrite : bool, default False
        Without tqdm, on a terminal (``stream.isatty()``): rewrite one line in
        place ("\\r") instead of writing a line per update, and end it with a
        newline on :meth:`close`.

    Attributes
    ----------
    done : int
        Steps counted so far.
    bar : tqdm instance or None
        The bar, when tqdm is in use.
    enabled : bool
        Whether anything is shown.
    """

    def __init__(self, total, *, enabled=True, desc="", unit="it", stream=None, rewrite=False):
        self.total, self.done = total, 0
        self.enabled = bool(enabled) and total > 0
        self.stream = stream
        self.rewrite = rewrite
        self.tty = stream is not None and hasattr(stream, "isatty") and stream.isatty()
        self.bar = None
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        kwargs = {} if stream is None else {"file": stream}
        self.bar = tqdm(total=total, desc=desc, unit=unit, leave=True, **kwargs)

    def _text_stream(self):
        return sys.stdout if self.stream is None else self.stream

    def update(self, count=1, *, postfix=None, line=None):
        """Count `count` more steps and show them.

        Parameters
        ----------
        count : int, default 1
            Steps completed since the last update.
        postfix : dict of str to str or None, default None
            Shown after the bar (tqdm's ``set_postfix``), e.g. ``{"loss": "0.125"}``.
        line : str, callable or None, default None
            The plain line shown without tqdm, or ``line(done, total)`` giving
            it (`done` counting this update).  None shows nothing without tqdm.

        Returns
        -------
        None
        """
        self.done += count
        if not self.enabled:
            return
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(count)
            return
        if line is None:
            return
        if callable(line):
            line = line(self.done, self.total)
        stream = self._text_stream()
        stream.write(("\r" + line) if (self.rewrite and self.tty) else (line + "\n"))
        stream.flush()

    def close(self, message=None):
        """End the display, then write `message` (if any) on a line of its own.

        Parameters
        ----------
        message : str or None, default None
            Written after the bar or the lines: on the bar's stream with tqdm,
            on the lines' stream otherwise.

        Returns
        -------
        None
        """
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        elif self.rewrite and self.tty:
            self._text_stream().write("\n")
            self._text_stream().flush()
        if message:
            if self.bar is not None:
                stream = sys.stderr if self.stream is None else self.stream
            else:
                stream = self._text_stream()
            stream.write(message + "\n")
            stream.flush()
