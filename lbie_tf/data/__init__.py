"""Data: the CoSaL generator, ReferIt and Flowers pipelines, vocabularies, the colour space, TFDS builders."""
