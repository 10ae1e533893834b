"""Colours in one place: parsing, the class palette, hex output and instance shades.

Class colours (taxonomy files, napari colormaps, store metadata, export formats) go through
:func:`parse_color` and :func:`color_to_hex`; new classes take the next :data:`PALETTE`
entry, then :func:`golden_color`; instances are drawn in shades of their class colour
(:func:`instance_color`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "NAMED_COLORS",
    "PALETTE",
    "color_to_hex",
    "golden_color",
    "hex_to_rgba",
    "instance_color",
    "parse_color",
]

#: A few CSS colour names accepted in taxonomy files (hex is always accepted).
NAMED_COLORS = {
    "black": "#000000",
    "white": "#ffffff",
    "red": "#ff0000",
    "green": "#008000",
    "lime": "#00ff00",
    "blue": "#0000ff",
    "yellow": "#ffff00",
    "cyan": "#00ffff",
    "magenta": "#ff00ff",
    "orange": "#ffa500",
    "purple": "#800080",
    "pink": "#ffc0cb",
    "brown": "#a52a2a",
    "gray": "#808080",
    "grey": "#808080",
    "olive": "#808000",
    "navy": "#000080",
    "teal": "#008080",
    "maroon": "#800000",
    "gold": "#ffd700",
    "violet": "#ee82ee",
    "indigo": "#4b0082",
    "salmon": "#fa8072",
    "coral": "#ff7f50",
    "turquoise": "#40e0d0",
    "skyblue": "#87ceeb",
    "tomato": "#ff6347",
    "transparent": "#00000000",
}

# Okabe-Ito (colour-blind safe) first, then Paul Tol's "muted" and "light" sets; beyond
# that, evenly spaced hues in a golden-ratio sequence.
PALETTE = [
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
    "#77AADD",
    "#EE8866",
    "#EEDD88",
    "#FFAABB",
    "#99DDFF",
    "#44BB99",
    "#BBCC33",
    "#AAAA00",
]


def golden_color(i: int) -> tuple[float, float, float, float]:
    import colorsys

    h = (i * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.65, 0.95)
    return (r, g, b, 1.0)


def hex_to_rgba(s: str) -> tuple[float, float, float, float]:
    s = s.lstrip("#")
    if len(s) not in (6, 8) or any(c not in "0123456789abcdefABCDEF" for c in s):
        raise ValueError(s)
    vals = [int(s[i : i + 2], 16) / 255 for i in range(0, len(s), 2)]
    if len(vals) == 3:
        vals.append(1.0)
    return tuple(vals)  # type: ignore[return-value]


def parse_color(value: Any) -> tuple[float, float, float, float]:
    """Normalise a colour to an RGBA tuple of floats in [0, 1].

    Accepts ``"#rrggbb"``, ``"#rrggbbaa"``, a matplotlib/napari colour name, 3 or 4 floats in
    [0, 1], or 3 or 4 ints in [0, 255].

    Raises
    ------
    ValueError
        When the value is not a colour.
    """
    if isinstance(value, str):
        if value.startswith("#"):
            return hex_to_rgba(value)
        key = value.strip().lower()
        if key in NAMED_COLORS:
            return hex_to_rgba(NAMED_COLORS[key])
        raise ValueError(value)
    try:
        vals = [float(v) for v in value]
    except TypeError as exc:
        raise ValueError(value) from exc
    if len(vals) not in (3, 4) or not all(math.isfinite(v) for v in vals):
        raise ValueError(value)
    if any(v > 1.0 for v in vals):
        if any(v < 0 or v > 255 or v != int(v) for v in vals):
            raise ValueError(value)
        vals = [v / 255 for v in vals]
    if any(v < 0 or v > 1 for v in vals):
        raise ValueError(value)
    if len(vals) == 3:
        vals.append(1.0)
    return tuple(vals)  # type: ignore[return-value]


def color_to_hex(rgba: tuple[float, ...]) -> str:
    """``(r, g, b, a)`` floats -> ``"#rrggbb"`` (or ``"#rrggbbaa"`` when not opaque)."""
    ints = [round(c * 255) for c in rgba]
    if ints[3] == 255:
        ints = ints[:3]
    return "#" + "".join(f"{v:02x}" for v in ints)


def instance_color(class_rgba: Any, iid: int) -> np.ndarray:
    """A colour of the class's hue family that differs between neighbouring instance ids.

    Hue stays within +-0.05 of the class hue (so the class is still recognisable) while value
    and saturation spread over a wide range, deterministically in the id.
    """
    import colorsys

    r, g, b, a = (float(c) for c in class_rgba)
    h, sat, val = colorsys.rgb_to_hsv(r, g, b)
    u = (iid * 0.618033988749895) % 1.0
    v = (iid * 0.754877666246693) % 1.0
    h = (h + (u - 0.5) * 0.1) % 1.0
    sat = 0.45 + 0.55 * v if sat > 0.1 else sat
    val = 0.45 + 0.55 * u
    return np.array([*colorsys.hsv_to_rgb(h, sat, val), a])
