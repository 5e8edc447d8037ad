r"""Train and evaluate a language-based colorization GAN on Oxford-102 Flowers or CoSaL.

    python train_colorization.py --flagfile=configs/flowers_paper.cfg --flowers_data_dir=~/tensorflow_datasets \
        --model_dir=runs/flowers_paper
    python train_colorization.py --flagfile=configs/cosal_colorization.cfg --model_dir=runs/cosal_colorization

Flags: `--helpfull`. A run in an existing `--model_dir` resumes from its latest checkpoint; at the end the
generator is evaluated on the test split and `eval_results.json` is written beside the checkpoints.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from lbie_tf.cli import flags as lbie_flags  # noqa: E402
from lbie_tf.cli.app import run_app  # noqa: E402
from lbie_tf.configs import CosalConfig, FlowersConfig, choices  # noqa: E402
from lbie_tf.errors import ConfigError, LbieError  # noqa: E402
from lbie_tf.training.preemption import exit_when_stopped  # noqa: E402

FLAG_NAMES = (*lbie_flags.define_cosal_flags(), *lbie_flags.define_colorization_flags(),
              *lbie_flags.define_dataset_flag(), *lbie_flags.define_flowers_flags(),
              *lbie_flags.define_training_flags())
lbie_flags.declare_key_flags(__name__, FLAG_NAMES)  # `--help` lists them as this script's own flags
FLAGS = flags.FLAGS


def cosal_config_from_flags() -> CosalConfig:
    """CoSaL at its native 48×48 (the colorization view)."""
    return lbie_flags.cosal_config_from_flags()


def run_configs() -> dict:
    """The config records the run of `--dataset` is built from (`generator`, `discriminator`, `gan`,
    `training`, `data`, and for Flowers the `word_vectors` file); a one-line `ConfigError` for a flag that run
    would ignore (the other data set's, `--figure`, `--word_vectors` on CoSaL)."""
    if FLAGS.dataset not in choices.COLORIZATION_DATASETS:
        raise ConfigError(f"--dataset={FLAGS.dataset} is a segmentation data set; colorization trains on "
                          f"{' or '.join(choices.COLORIZATION_DATASETS)}")
    generator, discriminator, gan = lbie_flags.colorization_configs_from_flags()
    configs = {"generator": generator, "discriminator": discriminator, "gan": gan,
               "training": lbie_flags.training_config_from_flags()}
    if FLAGS.figure:
        raise ConfigError("--figure is available for CoSaL segmentation runs only")
    if FLAGS.dataset == "cosal":
        lbie_flags.refuse_changed_flags(FlowersConfig, "--dataset=cosal")
        if FLAGS.word_vectors:
            raise ConfigError("--word_vectors applies to Flowers captions; CoSaL's 20 words are learned")
        configs["data"] = cosal_config_from_flags()
        return configs
    lbie_flags.refuse_changed_flags(CosalConfig, "--dataset=flowers")
    configs.update(data=lbie_flags.flowers_config_from_flags(), word_vectors=FLAGS.word_vectors)
    return configs


def make_trainer(strategy):
    """The `Trainer` for `--dataset`, from the flags."""
    configs = run_configs()
    arguments = (configs["generator"], configs["discriminator"], configs["gan"], configs["training"],
                 configs["data"], FLAGS.model_dir, strategy)
    if FLAGS.dataset == "cosal":
        from lbie_tf.tasks import cosal_colorization

        return cosal_colorization.make_trainer(*arguments)
    from lbie_tf.tasks import flowers_colorization

    return flowers_colorization.make_trainer(*arguments, word_vectors=configs["word_vectors"])


def main(argv) -> None:
    del argv
    if not FLAGS.model_dir:
        raise LbieError("--model_dir is required: the directory for checkpoints, logs and results")
    training = run_configs()["training"]  # every flag checked before TensorFlow starts
    from lbie_tf.training.strategy import start_training

    strategy = start_training(training, FLAGS.devices)
    print(f"strategy: {type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s); "
          f"model_dir: {FLAGS.model_dir}")
    trainer = make_trainer(strategy)
    trainer.task.generator.summary(expand_nested=True)
    trainer.task.discriminator.summary(expand_nested=True)
    report = trainer.run()
    if report is not None:
        print("test: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                   for k, v in sorted(report.items())))
        print(f"evaluation written to {os.path.join(FLAGS.model_dir, 'eval_results.json')}")


def run() -> None:
    """Console-script entry point: one-line errors (exit status 2) for anything the user can fix."""
    run_app(exit_when_stopped(main))


if __name__ == "__main__":
    run()
