"""Tasks: a model, its inputs, its losses and its train / evaluation step, one per (model, data) pair, run by the
task-independent `lbie_tf.training.trainer.Trainer`."""
