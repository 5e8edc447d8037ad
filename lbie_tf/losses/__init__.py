"""Losses, one value per example: segmentation (pixel cross-entropy and the termination-training modes),
termination (the exact marginal, REINFORCE, the stop prior) and the colorization GAN."""
