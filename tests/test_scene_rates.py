"""bpy-free helpers of the scene writer: frame rates as Blender stores them, and
Blender's C-level output kept out of the terminal unless a step fails."""

from __future__ import annotations

import os

import pytest

from choreo.core.errors import ChoreoInputError
from choreo.rigs.quiet import quiet_blender
from choreo.rigs.rates import scene_rate


@pytest.mark.parametrize("given, want", [(30, (30, 1.0)), ("24", (24, 1.0)), (25.0, (25, 1.0)), ("50", (50, 1.0)),
                                         (60, (60, 1.0)), ("23.976", (24, 1.001)), ("23.98", (24, 1.001)),
                                         ("24000/1001", (24, 1.001)), (29.97, (30, 1.001)), ("59.94", (60, 1.001))])
def test_scene_rate(given, want):
    assert scene_rate(given) == want


def test_scene_rate_other_rates_and_bad_ones():
    fps, base = scene_rate("12.5")
    assert fps / base == pytest.approx(12.5)
    for bad in ("fast", "30/0", "0", "-24", "1000", "nan"):
        with pytest.raises(ChoreoInputError, match="^fps: "):
            scene_rate(bad)


def test_quiet_blender_hides_output_unless_the_step_fails(capfd):
    with quiet_blender():
        os.write(1, b"Info: Saved copy as x\n")
        os.write(2, b"EGL Error\n")
    assert capfd.readouterr() == ("", "")
    with pytest.raises(RuntimeError), quiet_blender():
        os.write(1, b"the real reason\n")
        raise RuntimeError("step failed")
    assert capfd.readouterr().err == "the real reason\n"
    with pytest.raises(ChoreoInputError), quiet_blender():  # a user error is one line: no chatter after it
        os.write(1, b"chatter\n")
        raise ChoreoInputError("rig.fbx", "FBX import failed")
    assert capfd.readouterr() == ("", "")
    print("after", flush=True)
    assert capfd.readouterr().out == "after\n"
