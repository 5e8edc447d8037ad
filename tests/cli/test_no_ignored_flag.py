"""No flag of a training entry point is accepted and silently ignored: for each run (segmentation on CoSaL and
ReferIt, colorization on CoSaL and Flowers) and each flag the entry point defines, a valid value other than the
preset's either (a) changes the config records the run is built from (`run_configs()`), or (b) is refused by
`run_configs()` or by building the task with one `ConfigError` line naming the flag, or (c) is one of
`OUTPUT_FLAGS`, which say where the run writes or what runs it, and are checked to reach the code that uses them.

(a) is checked on the records: a field the task reads only under other settings is the task's to refuse (as
`tasks.colorization.check_training_config` refuses segmentation fields). In-process, no training."""

import dataclasses

import pytest
from absl import flags

import train_colorization
import train_segmentation
from lbie_tf.cli import flags as lbie_flags
from lbie_tf.configs import (
    ColorizerConfig,
    CosalConfig,
    DiscriminatorConfig,
    FlowersConfig,
    GanConfig,
    ReferitConfig,
    SegmenterConfig,
    TrainingConfig,
)
from lbie_tf.data import cosal_vocabulary
from lbie_tf.errors import ConfigError
from lbie_tf.tasks.colorization import ColorizationTask
from lbie_tf.tasks.cosal_segmentation import CLASS_NAMES
from lbie_tf.tasks.referit_segmentation import ReferitSegmentationTask
from lbie_tf.tasks.segmentation import SegmentationTask

FLAGS = flags.FLAGS


def _segmentation_task(configs):
    return SegmentationTask(configs["model"], configs["training"], CLASS_NAMES, cosal_vocabulary.RGB_PALETTE)


def _referit_task(configs):
    return ReferitSegmentationTask(configs["model"], configs["training"], configs["data"].vgg_weights)


def _colorization_task(configs):
    return ColorizationTask(configs["generator"], configs["discriminator"], configs["gan"], configs["training"])


# (entry point, preset flags of a valid run, the task the run builds)
RUNS = {
    "segmentation-cosal": (train_segmentation, ["--flagfile=configs/cosal_paper_t4.cfg"], _segmentation_task),
    "segmentation-referit": (train_segmentation, ["--flagfile=configs/referit_paper.cfg", "--data_dir=/data"],
                             _referit_task),
    "colorization-cosal": (train_colorization, ["--flagfile=configs/cosal_colorization.cfg"], _colorization_task),
    "colorization-flowers": (train_colorization, ["--flagfile=configs/flowers_paper.cfg",
                                                  "--flowers_data_dir=/data"], _colorization_task),
}

# Flags that say where a run writes or what runs it, not what it computes (checked to be read below).
OUTPUT_FLAGS = {
    "model_dir": "the folder of the checkpoints, logs and results",
    "devices": "the devices that run the steps (lbie_tf.training.strategy checks them against --strategy)",
    "figure": "where the CoSaL segmentation figure is written after training",
}

# A valid other value where "bool flipped, int + 1, float halved (0 → 0.5)" is not one.
OTHER_VALUES = {
    "dataset": None,  # see _other_value
    "image_size": lambda value: value * 2,  # a multiple of the encoder's stride
    "vgg_blocks": lambda value: value - 1,
    "num_direct": lambda value: value - 1,
    "generator_use_text": lambda value: [f"--{'no' if value else ''}generator_use_text",
                                         f"--discriminator_text={'none' if value else 'shared'}"],  # the baseline
    "attention": lambda value: [f"--{'no' if value else ''}attention", "--steps=1"],  # the T=1 baseline
    "flowers_resize_size": lambda value: 2 * FLAGS.flowers_image_size,
    "cosal_curriculum": "2:10",
    "cosal_num_direct_mixture": "4,8",
    "output_projection_init": {"glorot": "identity", "identity": "glorot"},
    "termination_kernel_init": {"glorot": "zeros", "zeros": "glorot"},
    "profile_steps": "1,2",
    "devices": "/cpu:0",
    "image_encoder": lambda value: (["--image_encoder=cosal_released"] if value == "cosal_paper" else
                                    ["--image_encoder=cosal_paper", "--image_size=48"]),
    "text_encoder": {"sentences": "words", "words": "sentences"},
    "attention_score": {"bilinear": "additive"},
    "reset_gate_on": {"state": "text"},
    "gate_source": {"state": "decoder"},
    "final_step": {"force": "drop"},
    "inference_stop": {"first_gate": "most_likely"},
    "decoder": {"paper": "released"},
    "batch_norm_inference": {"moving": "batch"},
    "termination_training": {"gumbel": "marginal"},
    "jit_compile": {"auto": "off"},
    "learning_rate_schedule": {"constant": "cosine"},
    "strategy": {"auto": "default"},
    "generator_attention_score": {"bilinear": "additive"},
    "generator_initializer": {"released": "he", "he": "released"},
    "generator_batch_norm_inference": {"moving": "batch"},
    "discriminator_text": {"shared": "own", "own": "shared"},
    "pixel_loss": {"l1": "l2", "l2": "l1"},
    "gan_generator_loss": {"non_saturating": "minimax", "minimax": "non_saturating"},
    "flowers_split_scheme": {"class_disjoint": "official"},
    "flowers_captions": {"all": "one_per_epoch", "one_per_epoch": "all"},
    "flowers_tokenizer": {"words": "released", "released": "words"},
    "eval_split": {"test": "trainval"},
}
OTHER_TASK_DATASET = {train_segmentation: "flowers", train_colorization: "referit"}
CONFIG_CLASSES = (CosalConfig, ReferitConfig, SegmenterConfig, TrainingConfig, ColorizerConfig, DiscriminatorConfig,
                  GanConfig, FlowersConfig)


def _other_value(entry_point, name: str) -> list[str]:
    """Command-line arguments that set flag `name` to a valid value other than its current one."""
    value, other = FLAGS[name].value, OTHER_VALUES.get(name)
    if name == "dataset":
        return [f"--dataset={OTHER_TASK_DATASET[entry_point]}"]
    if callable(other):
        other = other(value)
    elif isinstance(other, dict):
        other = other[value]
    elif other is None:
        if isinstance(value, bool):
            return [f"--{'no' if value else ''}{name}"]
        if isinstance(value, int):
            other = value + 1
        elif isinstance(value, float):
            other = value / 2 if value else 0.5
        else:  # a path or a name
            other = f"{value or ''}/elsewhere"
    return other if isinstance(other, list) else [f"--{name}={other}"]


def _owner(name: str):
    """The config class whose field the flag `name` sets, or None."""
    return next((cls for cls in CONFIG_CLASSES if name in lbie_flags.config_flag_names(cls)), None)


def _parse(entry_point, args: list[str]) -> None:
    FLAGS.unparse_flags()
    FLAGS([entry_point.__name__, *lbie_flags.expand_flagfiles(args)])


def _build(entry_point, build_task) -> dict:
    configs = entry_point.run_configs()
    try:
        build_task(configs)
    except ConfigError as error:
        raise ConfigError(lbie_flags.to_flag_names(str(error))) from None
    return configs


@pytest.fixture(autouse=True)
def _unparsed_flags():
    yield
    FLAGS.unparse_flags()


@pytest.mark.parametrize("run", sorted(RUNS))
def test_every_flag_changes_the_run_or_is_refused(run):
    entry_point, preset, build_task = RUNS[run]
    _parse(entry_point, preset)
    preset_configs = _build(entry_point, build_task)
    outcomes = {"changed": [], "refused": [], "output": []}
    for name in entry_point.FLAG_NAMES:
        _parse(entry_point, preset)
        args = _other_value(entry_point, name)
        _parse(entry_point, [*preset, *args])
        owner = _owner(name)
        if owner is not None and owner in {type(config) for config in preset_configs.values()}:
            lbie_flags.config_from_flags(owner)  # the value is valid for its own record
        try:
            configs = _build(entry_point, build_task)
        except ConfigError as error:
            message = str(error)
            assert "\n" not in message and f"--{name}" in message, (args, message)
            outcomes["refused"].append(name)
            continue
        if name in OUTPUT_FLAGS:
            outcomes["output"].append(name)
            continue
        assert configs != preset_configs, f"{args} is accepted and changes nothing in {run}"
        outcomes["changed"].append(name)
    assert outcomes["changed"] and outcomes["refused"], outcomes  # the test saw both kinds


@pytest.mark.parametrize("run, refused", [
    ("segmentation-cosal", ["--shuffle_seed=3", "--eval_split=trainval"]),
    ("segmentation-referit", ["--num_direct=3", "--figure=f.png", "--eval_every=10", "--curve_eval_size=5"]),
    ("colorization-cosal", ["--flowers_max_words=3", "--word_vectors=v.txt", "--eval_every=10", "--gate_warmup_steps=5",
                            "--jit_compile=off", "--figure=f.png", "--weight_decay=0.1"]),
    ("colorization-flowers", ["--data_seed=2", "--cosal_test_size=10", "--curve_eval_size=5"]),
])
def test_flags_of_another_task_or_data_set_are_refused_in_one_line(run, refused):
    entry_point, preset, build_task = RUNS[run]
    for arg in refused:
        _parse(entry_point, [*preset, arg])
        with pytest.raises(ConfigError, match=rf"^[^\n]*{arg.split('=')[0]}\b[^\n]*$"):
            _build(entry_point, build_task)


class _FakeTrainer:
    """What `main` needs of a `Trainer`, without training."""

    def __init__(self):
        self.task = self
        self.model = self.generator = self.discriminator = self

    def summary(self, **kwargs):
        pass

    def run(self):
        return None


def test_output_flags_reach_the_code_that_uses_them(monkeypatch, tmp_path):
    from lbie_tf.tasks import cosal_colorization, cosal_segmentation
    from lbie_tf.training import strategy

    calls = {}
    fake_strategy = type("FakeStrategy", (), {"num_replicas_in_sync": 1})()
    monkeypatch.setattr(strategy, "start_training",
                        lambda training, devices: calls.setdefault("devices", devices) and fake_strategy)

    def make_trainer(*args, **kwargs):
        calls["model_dir"] = args[-2]
        return _FakeTrainer()

    monkeypatch.setattr(cosal_segmentation, "make_trainer", make_trainer)
    monkeypatch.setattr(cosal_segmentation, "write_figure", lambda task, data, path: calls.setdefault("figure", path))
    _parse(train_segmentation, ["--flagfile=configs/cosal_paper_t4.cfg", f"--model_dir={tmp_path}",
                                "--devices=/cpu:0", f"--figure={tmp_path / 'f.png'}"])
    train_segmentation.main([])
    assert calls == {"model_dir": str(tmp_path), "devices": ["/cpu:0"], "figure": str(tmp_path / "f.png")}

    calls.clear()
    monkeypatch.setattr(cosal_colorization, "make_trainer", make_trainer)
    _parse(train_colorization, ["--flagfile=configs/cosal_colorization.cfg", f"--model_dir={tmp_path / 'c'}",
                                "--devices=/cpu:1"])
    train_colorization.main([])
    assert calls == {"model_dir": str(tmp_path / "c"), "devices": ["/cpu:1"]}
    assert set(OUTPUT_FLAGS) <= set(train_segmentation.FLAG_NAMES) & set(train_colorization.FLAG_NAMES)


def test_the_preset_runs_resolve_to_different_records():
    resolved = {}
    for run, (entry_point, preset, build_task) in RUNS.items():
        _parse(entry_point, preset)
        resolved[run] = {name: dataclasses.asdict(config) if dataclasses.is_dataclass(config) else config
                         for name, config in _build(entry_point, build_task).items()}
    assert resolved["segmentation-cosal"]["data"]["num_direct"] == 4
    assert resolved["segmentation-referit"]["data"]["data_dir"] == "/data"
    assert resolved["colorization-flowers"]["word_vectors"] is None
