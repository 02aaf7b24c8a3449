"""Audio analysis: loading, the synthesised demo track, beats, features, sections."""

from .io import DEFAULT_SR, load_audio

__all__ = ["DEFAULT_SR", "load_audio"]
