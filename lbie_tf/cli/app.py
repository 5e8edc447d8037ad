"""How the console entry points show their help and turn a user's mistake into one `error: ...` line and exit
status 2.

- `--help` (also `-h`, `-?`, `--helpshort`) prints the entry point's docstring and its own flags (those it
  defines or declares with `lbie_tf.cli.flags.declare_key_flags`, not absl's or TensorFlow Datasets'
  internals) and exits with status 0; `--helpfull` lists every flag of the process, also with status 0.
- A flag error (an unknown flag — with absl's "Did you mean" suggestion —, a value that does not parse or is
  out of range, a missing required flag) and any `LbieError` print one line `error: <message>` on stderr and
  exit with status 2, without a traceback. Library messages that name config fields name their flags instead.
"""

from __future__ import annotations

import sys

HELP_FLAGS = ("--help", "-help", "-h", "-?", "--helpshort", "-helpshort")
FULL_HELP_FLAGS = ("--helpfull", "-helpfull")


def run_app(main) -> None:
    """Run an absl `main(argv)` with presets resolved (`flags.expand_flagfiles`), help and one-line errors as
    the module docstring says; exits with status 2 after an error."""
    from absl import app, flags

    from lbie_tf.cli.flags import expand_flagfiles
    from lbie_tf.errors import LbieError

    try:
        argv = [sys.argv[0], *expand_flagfiles(sys.argv[1:])]
        if _print_help(main, flags.FLAGS, argv):
            sys.exit(0)
        app.run(main, argv=argv, flags_parser=_parse_flags)
    except LbieError as error:
        _print_error(error)
        sys.exit(2)


def exit_status(body, argv: list[str], flag_values) -> int:
    """Run `body(argv)` for an entry point that parses its own `flag_values` (not absl's global `FLAGS`), with
    help as the module docstring says; returns the exit status: 0, or 2 after one `error: <first line of the
    message>` on stderr for an `LbieError` or a flag error."""
    from absl import flags

    from lbie_tf.errors import LbieError

    if _print_help(body, flag_values, argv):
        return 0
    try:
        body(argv)
    except (LbieError, flags.Error) as error:
        _print_error(error)
        return 2
    return 0


def help_text(module, flag_values) -> str:
    """An entry point's help: its module docstring, then the flags it defines or adopts in `flag_values`."""
    return f"{(module.__doc__ or '').strip()}\n\nflags:\n{flag_values.module_help(module)}"


def _print_help(main, flag_values, argv: list[str]) -> bool:
    """Print the help `argv` asks for (see the module docstring) of the entry point that defines `main`;
    returns whether it asked for help."""
    if not any(arg in HELP_FLAGS + FULL_HELP_FLAGS for arg in argv[1:]):
        return False
    if any(arg in FULL_HELP_FLAGS for arg in argv[1:]):
        print(flag_values.get_help())
    else:
        print(help_text(sys.modules[main.__module__], flag_values) + "\n\nAll flags of the process: --helpfull")
    return True


def _parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing (for `app.run`), with a flag error as one line and exit status 2."""
    from absl import flags

    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        _print_error(error)
        sys.exit(2)


def error_line(error: Exception) -> str:
    """The one line a user sees for an error: its message's first line, config field names as flag names."""
    from lbie_tf.cli.flags import to_flag_names

    return to_flag_names((str(error).splitlines() or [type(error).__name__])[0])


def _print_error(error: Exception) -> None:
    print(f"error: {error_line(error)}", file=sys.stderr)
