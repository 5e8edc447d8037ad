"""The task-independent training loop: trainer, strategy, checkpoints, schedules, summaries, progress."""
