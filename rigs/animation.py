"""A dance solved onto an armature, as plain arrays: bone rotations, root
location, and the armature's rest data to check where the joints end up.

bpy-free on purpose: retargeting (:mod:`.retarget`) fills it from Blender
data, keying (:mod:`.keys`) reads it, and the forward kinematics here lets
both measure joint-position error without touching the scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.rotations import quat_to_matrix


@dataclass
class RigSkeleton:
    """Rest data of every bone of an armature, parents before children.

    ``rest`` (N, 4, 4) = ``bone.matrix_local`` (armature space); ``parents``
    (N,) index into the same list, -1 for roots; ``lengths`` (N,) bone lengths.
    """

    names: list[str]
    parents: np.ndarray
    rest: np.ndarray
    lengths: np.ndarray

    def index(self, name: str) -> int:
        return self.names.index(name)

    def pose_matrices(self, basis: np.ndarray) -> np.ndarray:
        """(T, N, 4, 4) armature-space pose matrices from per-bone ``basis``
        (T, N, 4, 4) = ``pose_bone.matrix_basis``, as Blender composes them."""
        basis = np.asarray(basis, np.float64)
        R, t = self.pose_transforms(basis[..., :3, :3], basis[..., :3, 3])
        out = np.zeros(R.shape[:2] + (4, 4))
        out[..., :3, :3], out[..., :3, 3], out[..., 3, 3] = R, t, 1.0
        return out

    def pose_transforms(self, rot: np.ndarray, loc: np.ndarray | None = None,
                        bones: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Armature-space pose of every bone as rotation (T, N, 3, 3) and head
        position (T, N, 3), from ``matrix_basis`` rotations ``rot`` (T, N, 3, 3) and
        locations ``loc`` (T, N, 3, None = zero); Blender's composition
        ``pose[b] = pose[parent] @ rest[parent]⁻¹ @ rest[b] @ basis[b]`` on 3×3
        blocks and translations (less than half the work of 4×4 products).
        ``bones`` (indices, parents included) limits the work to those bones;
        the others are left zero."""
        T, N = rot.shape[:2]
        R, t = np.zeros((T, N, 3, 3)), np.zeros((T, N, 3))
        rel = self._relative_rest()
        for b in (range(N) if bones is None else np.sort(bones)):
            CR, Ct = rel[b, :3, :3], rel[b, :3, 3]
            local_R = CR @ rot[:, b]                                  # (T, 3, 3)
            local_t = Ct if loc is None else Ct + loc[:, b] @ CR.T     # (T, 3)
            p = int(self.parents[b])
            if p < 0:
                R[:, b], t[:, b] = local_R, local_t
            else:
                R[:, b] = R[:, p] @ local_R
                t[:, b] = np.einsum("tij,tj->ti", R[:, p], np.broadcast_to(local_t, (T, 3))) + t[:, p]
        return R, t

    def _relative_rest(self) -> np.ndarray:
        """(N, 4, 4) ``rest[parent]⁻¹ @ rest[b]`` (``rest[b]`` for roots), cached."""
        rel = getattr(self, "_rel", None)
        if rel is None:
            inv = np.linalg.inv(self.rest)
            rel = np.array([self.rest[b] if p < 0 else inv[p] @ self.rest[b] for b, p in enumerate(self.parents)])
            self._rel = rel  # rest data never changes after construction
        return rel

    def ancestors(self, bones) -> np.ndarray:
        """Indices of ``bones`` and all their ancestors."""
        keep = set()
        for b in bones:
            while b >= 0 and b not in keep:
                keep.add(int(b))
                b = int(self.parents[b])
        return np.array(sorted(keep), int)


@dataclass
class RigAnimation:
    """Rotation keys (and root location) for ``bone_names`` of armature object
    ``armature``, sampled at ``fps`` (sample k at k/fps s into the dance).

    ``rotations`` (T, B, 4) are ``pose_bone.rotation_quaternion`` values (w, x,
    y, z), sign-continuous over time; ``root_location`` (T, 3) is
    ``pose_bone.location`` of ``root_bone``. ``joint_names`` (J SMPL joints)
    sit at the head of ``joint_bones`` (or the tail where ``joint_at_tail``);
    ``target_positions`` (T, J, 3) is where they should be (armature space).
    """

    armature: str
    bone_names: list[str]
    rotations: np.ndarray
    root_bone: str
    root_location: np.ndarray
    fps: float
    skeleton: RigSkeleton
    joint_names: list[str]
    joint_bones: list[str]
    target_positions: np.ndarray
    joint_at_tail: list[bool] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return int(self.rotations.shape[0])

    def basis_matrices(self, rotations: np.ndarray | None = None,
                       root_location: np.ndarray | None = None) -> np.ndarray:
        """(T, N, 4, 4) matrix_basis of every skeleton bone (unkeyed bones at rest)."""
        rot = self.rotations if rotations is None else np.asarray(rotations, np.float64)
        loc = self.root_location if root_location is None else np.asarray(root_location, np.float64)
        T, N = len(rot), len(self.skeleton.names)
        basis = np.tile(np.eye(4), (T, N, 1, 1))
        for k, name in enumerate(self.bone_names):
            basis[:, self.skeleton.index(name), :3, :3] = quat_to_matrix(rot[:, k])
        basis[:, self.skeleton.index(self.root_bone), :3, 3] = loc
        return basis

    def joint_positions(self, rotations: np.ndarray | None = None,
                        root_location: np.ndarray | None = None) -> np.ndarray:
        """(T, J, 3) armature-space positions of the mapped joints by forward
        kinematics (defaults: this animation's own rotations and root location)."""
        rot = self.rotations if rotations is None else np.asarray(rotations, np.float64)
        loc = self.root_location if root_location is None else np.asarray(root_location, np.float64)
        skel = self.skeleton
        T, N = len(rot), len(skel.names)
        basis_R = np.broadcast_to(np.eye(3), (T, N, 3, 3)).copy()
        for k, name in enumerate(self.bone_names):
            basis_R[:, skel.index(name)] = quat_to_matrix(rot[:, k])
        basis_t = np.zeros((T, N, 3))
        basis_t[:, skel.index(self.root_bone)] = loc
        joint_idx = [skel.index(name) for name in self.joint_bones]
        R, t = skel.pose_transforms(basis_R, basis_t, bones=skel.ancestors(joint_idx))
        at_tail = self.joint_at_tail or [False] * len(self.joint_bones)
        out = np.empty((T, len(joint_idx), 3))
        for j, (b, tail) in enumerate(zip(joint_idx, at_tail)):
            out[:, j] = t[:, b] + (R[:, b, :, 1] * skel.lengths[b] if tail else 0.0)
        return out

    def error(self, rotations: np.ndarray | None = None, root_location: np.ndarray | None = None) -> np.ndarray:
        """(T, J) distance (m) between FK joint positions and the targets."""
        return np.linalg.norm(self.joint_positions(rotations, root_location) - self.target_positions, axis=-1)
