"""How the console entry points turn a user's mistake into one `error: ...` line and exit status 2."""

from __future__ import annotations

import sys


def run_app(main) -> None:
    """Run an absl `main(argv)` with presets resolved (`flags.expand_flagfiles`) and one-line errors: an
    `LbieError` prints `error: <message>` (config fields named by their flags) on stderr and exits with status
    2, without a traceback."""
    from absl import app

    from lbie_tf.cli.flags import expand_flagfiles, to_flag_names
    from lbie_tf.errors import LbieError

    try:
        app.run(main, argv=[sys.argv[0], *expand_flagfiles(sys.argv[1:])])
    except LbieError as error:
        print(f"error: {to_flag_names(str(error))}", file=sys.stderr)
        sys.exit(2)


def exit_status(body, argv: list[str]) -> int:
    """Run `body(argv)` for an entry point that parses its own flags; returns the exit status: 0, or 2 after
    one `error: <first line of the message>` on stderr for an `LbieError` or a flag error."""
    from absl import flags

    from lbie_tf.cli.flags import to_flag_names
    from lbie_tf.errors import LbieError

    try:
        body(argv)
    except (LbieError, flags.Error) as error:
        print(f"error: {to_flag_names((str(error).splitlines() or [type(error).__name__])[0])}", file=sys.stderr)
        return 2
    return 0
