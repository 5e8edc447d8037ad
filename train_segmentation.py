r"""Train and evaluate a language-based segmentation model on CoSaL or ReferIt.

    python train_segmentation.py --flagfile=configs/cosal_paper_t4.cfg --model_dir=runs/cosal_t4
    python train_segmentation.py --flagfile=configs/referit_paper.cfg --data_dir=~/tensorflow_datasets \
        --model_dir=runs/referit_paper [--manual_dir=<text_objseg>/exp-referit] [--vgg_weights=vgg16_notop.h5]

Flags: `--helpfull`. `--dataset` (set by every preset) picks the data. A run in an existing `--model_dir`
resumes from its latest checkpoint. At the end the model is evaluated on the held-out test data and
`eval_results.json` is written beside the checkpoints (for ReferIt also `referit_table3.md`).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from lbie_tf.cli import flags as lbie_flags  # noqa: E402
from lbie_tf.cli.app import run_app  # noqa: E402
from lbie_tf.configs import CosalConfig, ReferitConfig, choices  # noqa: E402
from lbie_tf.errors import ConfigError, LbieError  # noqa: E402
from lbie_tf.training.preemption import exit_when_stopped  # noqa: E402

FLAG_NAMES = (*lbie_flags.define_cosal_flags(), *lbie_flags.define_referit_flags(),
              *lbie_flags.define_segmenter_flags(), *lbie_flags.define_training_flags(),
              *lbie_flags.define_dataset_flag())
lbie_flags.declare_key_flags(__name__, FLAG_NAMES)  # `--help` lists them as this script's own flags
FLAGS = flags.FLAGS


def cosal_config_from_flags() -> CosalConfig:
    """CoSaL at the model's `--image_size`."""
    return lbie_flags.cosal_config_from_flags(FLAGS.image_size)


def run_configs() -> dict:
    """The config records the run of `--dataset` is built from (`model`, `training`, `data`); a one-line
    `ConfigError` for a flag that run would ignore (the other data set's, `--figure` on ReferIt)."""
    if FLAGS.dataset not in choices.SEGMENTATION_DATASETS:
        raise ConfigError(f"--dataset={FLAGS.dataset} is a colorization data set: use train_colorization.py")
    configs = {"model": lbie_flags.segmenter_config_from_flags(), "training": lbie_flags.training_config_from_flags()}
    if FLAGS.dataset == "cosal":
        lbie_flags.refuse_changed_flags(ReferitConfig, "--dataset=cosal")
        configs["data"] = cosal_config_from_flags()
        return configs
    lbie_flags.refuse_changed_flags(CosalConfig, "--dataset=referit")
    if FLAGS.figure:
        raise ConfigError("--figure is available for CoSaL runs only")
    configs["data"] = lbie_flags.referit_config_from_flags()
    return configs


def main(argv) -> None:
    del argv
    if not FLAGS.model_dir:
        raise LbieError("--model_dir is required: the directory for checkpoints, logs and results")
    configs = run_configs()  # every flag checked before TensorFlow starts
    from lbie_tf.training.strategy import start_training

    strategy = start_training(configs["training"], FLAGS.devices)
    print(f"strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s); "
          f"model_dir: {FLAGS.model_dir}")
    if FLAGS.dataset == "referit":
        run_referit(configs, strategy)
        return
    from lbie_tf.tasks.cosal_segmentation import make_trainer, write_figure

    trainer = make_trainer(configs["model"], configs["training"], configs["data"], FLAGS.model_dir, strategy)
    trainer.task.model.summary(expand_nested=True)
    report = trainer.run()
    if report is not None:
        print(f"test mean IoU {report['mean_iou']:.4f} over {report['num_images']} images; "
              f"per class: " + ", ".join(f"{k} {v:.3f}" for k, v in report["per_class_iou"].items()
                                        if v is not None))
        print(f"evaluation written to {os.path.join(FLAGS.model_dir, 'eval_results.json')}")
    if FLAGS.figure:
        print(f"figure written to {write_figure(trainer.task, configs['data'], FLAGS.figure)}")


def run_referit(configs: dict, strategy) -> None:
    from lbie_tf.tasks import referit_segmentation

    trainer = referit_segmentation.make_trainer(configs["model"], configs["training"], configs["data"],
                                                FLAGS.model_dir, strategy)
    trainer.task.model.summary(expand_nested=True)
    report = trainer.run()
    if report is not None:
        from lbie_tf.evaluation.referit_evaluation import write_table

        print(write_table(report, FLAGS.model_dir))
        print(f"evaluation written to {os.path.join(FLAGS.model_dir, 'eval_results.json')}")


def run() -> None:
    """Console-script entry point: one-line errors (exit status 2) for anything the user can fix."""
    run_app(exit_when_stopped(main))


if __name__ == "__main__":
    run()
