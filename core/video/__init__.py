"""The photoreal stage (issue 16, docs/photoreal.md): a dance filmed as a target person.

Inside Blender (numpy only):

- :mod:`.poses`: a 3D dance through a camera, Everybody Dance Now's global pose normalisation
  onto a target, the pose image the renderer is conditioned on;
- :mod:`.stage`: a dance placed in the target's picture (camera, normalisation, travel);
- :mod:`.renderer`: the trained renderer frame by frame (numpy; torch on the command line);
- :mod:`.target`: the target folder ``choreo video prepare`` writes (frames via PyAV only);
- :mod:`.png`: PNG and WAV files with the standard library, for Blender's own ffmpeg;
- :mod:`.quality`: SSIM and PSNR.

Command line only: :mod:`.io` (PyAV: clips in, MP4 with the song out), :mod:`.detect`
(MediaPipe BlazePose), :mod:`.prepare` (clip → target folder).
"""
