"""Audio analysis: loading, the synthesised demo track, beats, features, sections.

The analysis is numpy (spectral.py holds the librosa-defined functions), so it runs
inside a stock Blender; soundfile (load_audio) and scipy (the demo synthesiser) are
used only outside Blender, on first use.
"""

from .demo import DemoTrack, synthesize_demo, write_demo_wav
from .features import (COLUMNS, FEATURE_NAMES, N_FEATURES, MusicFeatures, audio_pieces,
                       features_for_file, frame_times, music_features, n_frames)
from .io import DEFAULT_SR, load_audio
from .sections import find_sections

__all__ = ["DEFAULT_SR", "load_audio", "DemoTrack", "synthesize_demo", "write_demo_wav",
           "COLUMNS", "FEATURE_NAMES", "N_FEATURES", "MusicFeatures",
           "music_features", "features_for_file", "audio_pieces", "frame_times", "n_frames",
           "find_sections"]
