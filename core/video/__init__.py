"""The photoreal stage (issue 16): a dance → the target person's 2D pose space → frames.

:mod:`.poses` projects a 3D dance with a camera, normalises it to a target's proportions
and floor line, and draws the pose images the renderer is conditioned on (numpy only);
:mod:`.io` reads clips and writes MP4 with the song's part in sync (PyAV, command line only:
the add-on never imports it).
"""
