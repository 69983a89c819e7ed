"""How every ``python -m semisup.…`` command reports a user error: one line, exit status 2.

Each CLI module builds its parser with :class:`ArgumentParser` and ends with
``cli.run(main, "python -m semisup.<name>")``; ``main(argv)`` itself stays an ordinary
function that raises, so notebooks and tests see the exception.

Conventions
-----------
- A *user error* is what a ``ValueError`` or an ``OSError`` (missing file, not a folder,
  permission denied …) says: a bad flag value, a bad dataset spec, a missing path, a wrong
  layout, a refused run folder, a weights file that is not tensors only. It is printed as
  ``prog: error: <message on one line>`` on stderr and the process exits with status 2.
- A flag argparse rejects (unknown, missing, not an int …) is reported the same way by
  :class:`ArgumentParser`, with a pointer to ``--help`` instead of argparse's usage block.
- Anything else (``TypeError``, ``KeyError``, ``RuntimeError`` …) is a programming error
  and keeps its traceback.
- ``SEMISUP_DEBUG=1`` in the environment shows the traceback of user errors too.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

__all__ = ["USER_ERRORS", "ArgumentParser", "run"]

#: Exceptions that describe bad input rather than a bug.
USER_ERRORS = (ValueError, OSError)


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, reporting a rejected flag in one line and exit status 2."""

    def error(self, message: str):
        """Print ``prog: error: message (see prog --help)`` on stderr and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def run(main: Callable[[list[str] | None], object], prog: str) -> None:
    """Run a CLI's ``main(None)`` and exit: status 0, or 2 with one error line on a user error.

    Parameters
    ----------
    main : callable
        The module's entry point; it parses ``sys.argv`` when given ``None``.
    prog : str
        The command as the user typed it (``"python -m semisup.train"``), as in argparse's
        ``prog``, so the line reads like argparse's own errors.
    """
    try:
        status = main(None)
    except USER_ERRORS as error:
        if os.environ.get("SEMISUP_DEBUG", "") not in ("", "0"):
            raise
        message = " ".join(str(error).split()) or type(error).__name__  # one line, whatever the message
        print(f"{prog}: error: {message}", file=sys.stderr)
        sys.exit(2)
    sys.exit(status if isinstance(status, int) else 0)
