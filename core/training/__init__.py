"""Training: the corpus as batches, the losses of Ren et al., the training loop."""
