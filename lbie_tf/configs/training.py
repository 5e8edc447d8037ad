"""`TrainingConfig`: how a model is trained and evaluated (shared by every task)."""

from __future__ import annotations

import dataclasses
from typing import Any

from lbie_tf.configs import choices
from lbie_tf.configs.validation import check_choice, check_minimum, check_not_negative, check_unchanged
from lbie_tf.errors import ConfigError


def parse_profile_steps(items) -> tuple[int, ...]:
    """`["20", "25"]` (the flag `--profile_steps=20,25`) → `(20, 25)`; anything else is a one-line ConfigError."""
    if not items:
        return ()
    if len(items) != 2 or not all(str(item).strip().isdigit() for item in items):
        raise ConfigError(f"TrainingConfig.profile_steps is two step numbers A,B, got {','.join(map(str, items))!r}")
    return tuple(int(item) for item in items)


def format_profile_steps(steps) -> list[str]:
    """`(20, 25)` → `["20", "25"]`, the inverse of `parse_profile_steps`."""
    return [str(step) for step in steps]


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How a model is trained and evaluated (shared by every task).

    Attributes:
        termination_training: "gumbel" (paper: Gumbel-softmax over the stop step, annealed temperature),
            "marginal" (released code: exact log-sum-exp over the stop step), "reinforce" (the paper's
            rejected score-function baseline).
        gumbel_temperature_initial / gumbel_temperature_min / gumbel_temperature_decay: the fixed annealing
            schedule λ(step) = max(min, initial · exp(−decay · step)).
        gumbel_hard: straight-through one-hot samples in the forward pass.
        foreground_weight: cross-entropy weight of non-background pixels (paper 1, released code 10).
        stop_prior_weight: weight of `losses.stop_prior_kl`, the KL of each region's stop-step distribution to
            the uniform one, added to the loss (ours; 0 = off, as in the paper and the released code).
        gate_warmup_steps: the first this many optimizer steps train with the termination gates frozen (their
            variables get zero gradients, so Adam leaves them exactly as initialised) and the loss is the mean
            over steps t of CE_t, each step's output decoded alone (`losses.segmentation.step_cross_entropies`),
            so every step learns to segment before the gates choose between them (ours; the paper does not
            say how its gates start; 0 = off, as in the paper presets).
        learning_rate: Adam's learning rate (released code: 1e-3); with the cosine schedule, its initial value.
        adam_beta_1: Adam's β1, the decay of its running mean of gradients (released code: 0.5).
        learning_rate_schedule: "constant" or "cosine" (decays from `learning_rate` to 0 at `train_steps`).
        weight_decay: L2 regularisation λ: the loss gains λ/2 · Σ‖W‖² over every kernel and embedding
            (paper §4.2, ReferIt: "L2-normalization is applied to the parameters"; the value is not given;
            Hu et al. use 5e-4). 0 = none (CoSaL).
        mixed_precision: compute in float16 with float32 variables and dynamic loss scaling (GPUs).
        batch_size: global batch size, split over replicas.
        train_steps: optimizer steps in total (resumed runs continue up to it).
        checkpoint_every: steps between checkpoints (one is also written at the end and on a stop signal).
        summary_every: steps between TensorBoard scalar summaries (loss, metrics, learning rate, images/s).
        image_summary_every: steps between TensorBoard image summaries of the preview examples (and their
            captions).
        eval_every: steps between learning-curve points (0: none): every `eval_every` steps the model is
            evaluated on the first `curve_eval_size` test images and a row (step, images seen, training
            seconds, metrics) is appended to `curve.jsonl` in the model directory.
        curve_eval_size: test images per learning-curve point.
        train_seconds: wall-clock training budget in seconds, summed over resumed runs (0: no limit).
            Training stops after the first step that reaches it, checkpoints and evaluates. Evaluation time
            is not counted.
        seed: seeds model initialisation and the Gumbel / REINFORCE noise.
        jit_compile: "auto" (XLA on one device, off under MirroredStrategy), "on", "off".
        strategy: "auto" (several machines when `TF_CONFIG` names more than one worker, else every local GPU),
            "default", "one_device", "mirrored" (this machine's GPUs or `--devices`), "multi_worker"
            (`MultiWorkerMirroredStrategy` over the cluster that `TF_CONFIG` names).
        cluster_timeout: seconds a multi-worker task waits for the others to join (and for each collective
            operation) before it stops with an error.
        deterministic: `tf.config.experimental.enable_op_determinism()`: the same seed gives bit-identical
            weights on GPUs too (slower); CPU runs are deterministic without it.
        profile_steps: "A,B" writes a TensorBoard profiler trace of steps A..B (inclusive) into
            `model_dir/train/`; empty = none.
        fallback: when the newest checkpoint of `model_dir` is damaged, resume from the newest good one (with a
            one-line message); False = stop with the error instead.
    """

    termination_training: str = "gumbel"
    gumbel_temperature_initial: float = 1.0
    gumbel_temperature_min: float = 0.5
    gumbel_temperature_decay: float = 3e-4
    gumbel_hard: bool = False
    foreground_weight: float = 1.0
    stop_prior_weight: float = 0.0
    gate_warmup_steps: int = 0
    learning_rate: float = 1e-3
    adam_beta_1: float = 0.9
    learning_rate_schedule: str = "constant"
    weight_decay: float = 0.0
    mixed_precision: bool = False
    batch_size: int = 64
    train_steps: int = 2000
    checkpoint_every: int = 500
    summary_every: int = 50
    image_summary_every: int = 500
    eval_every: int = 0
    curve_eval_size: int = 2000
    train_seconds: float = 0.0
    seed: int = 0
    jit_compile: str = "auto"
    strategy: str = "auto"
    cluster_timeout: float = 300.0
    deterministic: bool = False
    profile_steps: tuple[int, ...] = dataclasses.field(
        default=(), metadata={"parse": parse_profile_steps, "format": format_profile_steps})
    fallback: bool = True

    def __post_init__(self):
        for name, allowed in (("termination_training", choices.TERMINATION_TRAINING),
                              ("jit_compile", choices.JIT_COMPILE),
                              ("learning_rate_schedule", choices.LEARNING_RATE_SCHEDULES),
                              ("strategy", choices.STRATEGIES)):
            check_choice(self, name, allowed)
        check_minimum(self, ("batch_size", "train_steps", "checkpoint_every", "summary_every", "image_summary_every",
                             "curve_eval_size"))
        check_not_negative(self, ("eval_every", "train_seconds", "stop_prior_weight", "weight_decay",
                                  "gate_warmup_steps"))
        if not self.cluster_timeout > 0:
            raise ConfigError(f"TrainingConfig.cluster_timeout must be positive, got {self.cluster_timeout}")
        if self.profile_steps and not (len(self.profile_steps) == 2
                                       and 1 <= self.profile_steps[0] <= self.profile_steps[1]):
            raise ConfigError(f"TrainingConfig.profile_steps needs 1 <= A <= B, got {list(self.profile_steps)}")
        if not self.learning_rate > 0:
            raise ConfigError(f"TrainingConfig.learning_rate must be positive, got {self.learning_rate}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


LEARNING_CURVE_FIELDS = ("eval_every", "curve_eval_size")


def check_no_learning_curve(training: TrainingConfig) -> None:
    """Refuse the learning-curve settings in a run that writes no learning curve (only CoSaL segmentation runs
    write one), with one line naming them."""
    check_unchanged(training, LEARNING_CURVE_FIELDS, "(the learning curve) is written by CoSaL segmentation runs "
                                                     "only: leave it at its default")
