"""Dance-quality metrics of the field (numpy/scipy only): FID_k/FID_g, diversity, beat alignment, foot contact, cross-modal."""
