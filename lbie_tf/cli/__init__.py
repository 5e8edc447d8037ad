"""Console entry points: lbie-edit, lbie-export, lbie-summary, lbie-evaluate-referit, lbie-prepare-referit."""

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
