"""The training corpus: music-dance pairs built from real mocap and beat-gridded music."""
