"""Decoders: fused region features → per-pixel outputs."""
