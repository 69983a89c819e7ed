"""Data: the embedded benchmark builder, audio I/O, dataset loaders and the batch sampler."""
