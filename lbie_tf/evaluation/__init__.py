"""Metrics and the evaluation loops of each task (CoSaL mean IoU, ReferIt overall IoU and precision@k,
colorization metrics)."""
