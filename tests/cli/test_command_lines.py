"""Every entry point as a user runs it: `--help` exits 0 and lists its own flags, each with a real help string;
an unknown flag (absl's "Did you mean" kept) or a value that does not parse is one `error:` line and exit 2."""

import os
import re
import subprocess
import sys

import pytest

import train_colorization
import train_segmentation
from lbie_tf.cli import build_flowers, cosal_example, edit, prepare_referit, summary
from lbie_tf.cli.app import run_app
from tests.entry_points import ROOT


def _console_scripts() -> dict[str, list[str]]:
    """`{name: command}` of every console script in setup.py, each run the way its installed wrapper runs it
    (the wrappers in the virtual environment would run another checkout)."""
    with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as f:
        entries = re.findall(r'"([\w-]+)=([\w.]+):(\w+)"', f.read())
    return {name: [sys.executable, "-c", f"import sys; from {module} import {function}; sys.exit({function}())"]
            for name, module, function in entries}


COMMANDS = {**_console_scripts(),
            "python -m lbie_tf.cli.build_flowers": [sys.executable, "-m", "lbie_tf.cli.build_flowers"],
            "python -m lbie_tf.cli.cosal_example": [sys.executable, "-m", "lbie_tf.cli.cosal_example"],
            "python -m lbie_tf.pretrained": [sys.executable, "-m", "lbie_tf.pretrained"],
            "python train_segmentation.py": [sys.executable, "train_segmentation.py"],
            "python train_colorization.py": [sys.executable, "train_colorization.py"]}

# Flags each command's --help must list (a sample of its own; every listed flag's help is checked).
OWN_FLAGS = {
    "lbie-train-segmentation": ["steps", "num_direct", "data_dir", "learning_rate", "model_dir", "dataset"],
    "lbie-train-colorization": ["generator_filters", "flowers_data_dir", "num_direct", "word_vectors", "dataset"],
    "lbie-edit": ["text_file", "saved_model", "explain", "pretrained"],
    "lbie-demo": ["model_dir", "saved_model", "colorizer_dir", "port"],
    "lbie-export": ["export_dir", "model_dir", "version"],
    "lbie-summary": ["steps", "image_encoder"],
    "lbie-evaluate-referit": ["model_dir", "eval_split", "data_dir"],
    "lbie-prepare-referit": ["manual_dir", "data_dir"],
    "python -m lbie_tf.cli.build_flowers": ["manual_dir", "data_dir", "split_schemes"],
    "python -m lbie_tf.cli.cosal_example": ["out_dir", "index", "num_direct", "data_seed"],
    "python -m lbie_tf.pretrained": ["model_dir", "name", "command"],
    "python train_segmentation.py": ["steps", "cosal_curriculum", "eval_split"],
    "python train_colorization.py": ["discriminator_text", "flowers_tokenizer", "gan_weight"],
}
ABSL_AND_TFDS_FLAGS = ("flagfile", "verbosity", "logtostderr", "only_check_args", "pdb", "tfds_")  # prefixes
FLAG_LINE = re.compile(r"^  --(?:\[no\])?(\w+):(.*)$")
CONFIG_GROUP = re.compile(r"^[A-Z][\w-]*(?: [A-Za-z][\w-]*)*: ")  # "Training: ", "CoSaL data: ", ...


def listed_flags(help_output: str) -> dict[str, str]:
    """`{flag: help}` of the flags an absl help lists (continuation lines joined, the default dropped)."""
    listed, current = {}, None
    for line in help_output.splitlines():
        match = FLAG_LINE.match(line)
        if match:
            current = match.group(1)
            listed[current] = match.group(2).strip()
        elif current and line.startswith("    ") and not line.strip().startswith("("):
            listed[current] += " " + line.strip()
        else:
            current = None
    return listed


def test_commands_cover_every_console_script():
    assert {"lbie-train-segmentation", "lbie-edit", "lbie-export", "lbie-prepare-referit"} <= set(COMMANDS)
    assert set(COMMANDS) == set(OWN_FLAGS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_lists_the_commands_own_flags_with_real_help(name):
    result = subprocess.run([*COMMANDS[name], "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[0].strip()  # the entry point's docstring first
    listed = listed_flags(result.stdout)
    assert set(OWN_FLAGS[name]) <= set(listed), sorted(listed)
    assert result.stdout.count("\n  --") == len(listed)  # every listed flag was read
    assert not [flag for flag in listed if flag.startswith(ABSL_AND_TFDS_FLAGS)]
    for flag, help_string in listed.items():
        text = CONFIG_GROUP.sub("", help_string)
        assert len(text.split()) >= 3 and text.strip(".") != flag, f"--{flag}: {help_string!r}"


# In-process runs of the entry points the test process can import together (lbie-export, lbie-evaluate-referit
# and lbie_tf.pretrained define --model_dir themselves, as the training scripts do: they run in a subprocess).
def _run_app_entry(module_main):
    def run(argv):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "argv", argv)
            with pytest.raises(SystemExit) as exit_info:
                module_main()
        return exit_info.value.code

    return run


IN_PROCESS = {
    "train_segmentation": (_run_app_entry(train_segmentation.run), "--batch_sise=3", "batch_size",
                           "--batch_size=abc"),
    "train_colorization": (_run_app_entry(train_colorization.run), "--generator_filter=3", "generator_filters",
                           "--batch_size=abc"),
    "summary": (_run_app_entry(summary.main), "--stesp=2", "steps", "--steps=two"),
    "prepare_referit": (_run_app_entry(prepare_referit.main), "--manual_dri=x", "manual_dir",
                        "--eval_batch_size=abc"),
    "cosal_example": (_run_app_entry(lambda: run_app(cosal_example.main)), "--out_dri=x", "out_dir",
                      "--index=-1"),
    "edit": (edit.main, "--text_fle=x", "text_file", "--explain=maybe"),
    "build_flowers": (build_flowers.main, "--manual_dri=x", "manual_dir", "--split_schemes"),
}


@pytest.mark.parametrize("name", sorted(IN_PROCESS))
def test_flag_mistakes_are_one_line_with_status_2(name, capsys):
    from absl import flags

    run, misspelt, suggestion, bad_value = IN_PROCESS[name]
    try:
        for arg, message in ((misspelt, f"Did you mean: {suggestion}"), (bad_value, "flag --"),
                             ("--nonexistent_flag", "Unknown command line flag 'nonexistent_flag'")):
            assert run([name, arg]) == 2, arg
            error = capsys.readouterr().err
            assert error.count("\n") == 1 and error.startswith("error: ") and message in error, error
    finally:
        flags.FLAGS.unparse_flags()


@pytest.mark.parametrize("name, misspelt, suggestion", [
    ("lbie-export", "--export_dri=x", "export_dir"),
    ("lbie-evaluate-referit", "--eval_splti=test", "eval_split"),
    ("python -m lbie_tf.pretrained", "--nmae=x", "name"),
])
def test_flag_mistakes_of_the_other_commands(name, misspelt, suggestion):
    result = subprocess.run([*COMMANDS[name], misspelt], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert f"Did you mean: {suggestion}" in result.stderr
