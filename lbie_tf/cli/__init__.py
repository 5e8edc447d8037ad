"""Console entry points: lbie-edit, lbie-export, lbie-summary, lbie-evaluate-referit, lbie-prepare-referit,
build_flowers; and the two ways they turn a user's mistake into one `error: ...` line and exit status 2."""

from __future__ import annotations

import sys


def run_app(main) -> None:
    """Run an absl `main(argv)` with one-line errors: an `LbieError` prints `error: <message>` on stderr and
    exits with status 2, without a traceback."""
    from absl import app

    from lbie_tf.errors import LbieError

    try:
        app.run(main)
    except LbieError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def exit_status(body, argv: list[str]) -> int:
    """Run `body(argv)` for an entry point that parses its own flags; returns the exit status: 0, or 2 after
    one `error: <first line of the message>` on stderr for an `LbieError` or a flag error."""
    from absl import flags

    from lbie_tf.errors import LbieError

    try:
        body(argv)
    except (LbieError, flags.Error) as error:
        print(f"error: {(str(error).splitlines() or [type(error).__name__])[0]}", file=sys.stderr)
        return 2
    return 0
