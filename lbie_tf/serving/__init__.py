"""Inference: loading trained, shipped and exported models; reading images and captions; SavedModel export."""
