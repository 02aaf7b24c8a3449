"""Neural models: the dance representation, Ren et al.'s generator and discriminators,
the ST-GCN pose-perception network, and safetensors weights I/O.

Training code (torch) lives in :mod:`choreo.core.training`; generation, which
runs the trained generator on a whole song, in :mod:`choreo.core.generation`.
"""
