"""Task models: the segmenter, the colorizer and the discriminator."""
