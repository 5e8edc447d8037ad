"""Tensor functions that are not layers: the stop-step distribution of the termination gates and counter-based
stateless random numbers."""
