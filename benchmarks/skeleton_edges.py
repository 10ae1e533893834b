"""Skeleton edges: rebuilding the drawn edges of 1,000 objects x 17 keypoints.

The plugin's rebuild (what runs after every point placed, moved or deleted, every
visibility change and undo: the keypoints layer's table to arrays, ``skeleton_segments``,
the companion Vectors layer's data and colours) against the peer, the console helper the
docs used before (``keypoints_list()``, a Python loop over objects and edges, a napari
Shapes layer of lines), measured in the same run. Target: rebuild < 100 ms. Both must draw
the same edges.

Run: ``python benchmarks/skeleton_edges.py [n_objects]``
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from _common import best_of

from napari_labelsuite import LabelSession
from napari_labelsuite.core.objects import Keypoints, skeleton_segments
from napari_labelsuite.core.taxonomy import Taxonomy

#: the COCO person skeleton (0-based)
COCO_EDGES = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
              (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4),
              (3, 5), (4, 6)]  # fmt: skip


def make_session(n: int, seed: int = 0) -> tuple[LabelSession, Any, list[Keypoints]]:
    """A headless session with ``n`` person keypoint sets (about 1 in 6 keypoints unlabelled)."""
    rng = np.random.default_rng(seed)
    s = LabelSession()
    s.taxonomy = Taxonomy.from_dict({"classes": [
        {"id": 1, "name": "person", "color": "#33ccff",
         "keypoints": {"names": [f"k{i}" for i in range(17)], "edges": COCO_EDGES}}]})  # fmt: skip
    sets = []
    for _ in range(n):
        centre = rng.uniform(50, 1950, 2)
        vis = rng.choice([0, 1, 2], 17, p=[1 / 6, 1 / 6, 4 / 6])
        xyv = np.c_[centre + rng.normal(0, 20, (17, 2)), vis]
        xyv[xyv[:, 2] == 0, :2] = 0
        sets.append(Keypoints(xyv, 1))
    layer = s.add_keypoints_layer(sets)
    return s, layer, sets


def peer_lines(s: LabelSession, layer: Any) -> Any:
    """The docs' former console helper: a loop over keypoint sets, a Shapes layer of lines."""
    from napari.layers import Shapes

    lines, colors = [], []
    for kp in s.keypoints_list(layer):
        sk = s.taxonomy[kp.class_id].skeleton
        for i, j in sk.edges:
            if kp.xyv[i, 2] > 0 and kp.xyv[j, 2] > 0:
                lines.append(kp.xyv[[i, j], 1::-1] - 0.5)
                colors.append(s.taxonomy[kp.class_id].color)
    return Shapes(lines, shape_type="line", edge_color=colors, edge_width=1.5)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    s, layer, sets = make_session(n)
    sync = s._skeleton_syncs[id(layer)]
    t_rebuild, _ = best_of(7, sync.update)
    t_core, (segs, _, _) = best_of(7, skeleton_segments, sets, {1: s.taxonomy[1].skeleton})
    t_event, _ = best_of(5, s.set_keypoint_visibility, 3, 1, layer)  # the whole action
    t_peer, shapes = best_of(1, peer_lines, s, layer)
    drawn = len(s.skeleton_layer(layer).data)
    if not drawn == len(shapes.data) == len(segs):
        raise SystemExit(f"edge counts differ: {drawn}, peer {len(shapes.data)}, {len(segs)}")
    print(f"{n} objects x 17 keypoints ({len(layer.data)} points, {drawn} edges)")
    print(f"plugin rebuild (layer table -> Vectors layer): {t_rebuild * 1e3:8.1f} ms"
          f"  {'OK' if t_rebuild < 0.1 else 'SLOW'} (target < 100 ms)")  # fmt: skip
    print(f"  core skeleton_segments (Keypoints list):     {t_core * 1e3:8.1f} ms")
    print(f"  set_keypoint_visibility incl. rebuild:       {t_event * 1e3:8.1f} ms")
    print(f"peer: keypoints_list loop + Shapes lines:      {t_peer * 1e3:8.1f} ms")
    print(f"ratio peer / plugin rebuild: {t_peer / t_rebuild:.0f}x")


if __name__ == "__main__":
    main()
