"""Figures of model outputs, drawn with Pillow."""
