"""Motion readers and writers: BVH, OpenPose JSON, Dance Revolution JSON, AIST++, npz."""
