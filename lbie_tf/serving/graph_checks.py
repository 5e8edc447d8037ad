"""Checks inside a TF graph that fail with a readable `InvalidArgumentError`, and that message read back as one
line for the command line.

    with tf.control_dependencies(in_order([(size > 0, "the request holds no images"), ...])):
        ...                                   # runs only when every check passed
    error_line(error)                         # "the request holds no images"
"""

from __future__ import annotations

import re

import tensorflow as tf


def in_order(checks: list) -> list:
    """`tf.debugging.Assert` ops for `(condition, message)` pairs, each run only after the previous one passed,
    so that the first failing check is the one reported.

    Args:
        checks: `(condition, message)` pairs: a scalar bool tensor and a string, a string tensor or a list of
            strings and tensors (the `data` of `tf.debugging.Assert`).

    Returns:
        `[last assert op]`, for `tf.control_dependencies`.
    """
    asserts = []
    for condition, message in checks:
        with tf.control_dependencies(asserts[-1:]):
            asserts.append(tf.debugging.Assert(condition, message if isinstance(message, list) else [message]))
    return asserts[-1:]


def error_line(error: tf.errors.OpError) -> str:
    """The message of a failed graph check or op, on one line without TF's decorations ("Graph execution
    error" and its traceback, `{{function_node ...}}`, `[[{{node ...}}]]`, `[Op:...]`, "assertion failed: [...]")."""
    text = error.message.split("\n\t [[", 1)[0]
    if text.startswith("Graph execution error:"):
        text = text.rsplit("\n\n", 1)[-1]
    eager = re.fullmatch(r"Expected .* to be true\. Summarized data: (.*)", text, flags=re.DOTALL)
    if eager:  # an Assert run eagerly: one line per data item, strings as b'...'
        text = " ".join(re.sub(r"^b(['\"])(.*)\1$", r"\2", item) for item in eager.group(1).split("\n"))
    text = " ".join(text.split())
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text)
    text = re.sub(r"\s*\[Op:\w+\]( name: \S*)?$", "", text)
    asserted = re.fullmatch(r"assertion failed: \[(.*)\]", text)
    if asserted:
        text = asserted.group(1).replace("] [", " ")
    return text or type(error).__name__
