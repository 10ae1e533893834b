"""The two OME-NGFF versions a mask store reads and writes, as two small format objects.

As ome-zarr-py's ``FormatV04`` / ``FormatV05``: everything that differs between NGFF 0.4
(zarr v2, metadata in ``.zattrs``, a ``version`` key on each multiscales and image-label
node, ``/`` chunk-key separators) and NGFF 0.5 (zarr v3, metadata in ``zarr.json`` under an
``ome`` key holding the version, named dimensions) lives here, so the store asks its format
instead of testing version numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FORMATS", "FormatV04", "FormatV05", "NgffFormat", "format_for"]


@dataclass(frozen=True)
class NgffFormat:
    """One NGFF version: its zarr format and where its metadata goes."""

    version: str
    zarr_format: int
    metadata_file: str

    def ome(self, attrs: Any) -> dict[str, Any]:
        """The OME metadata of a node, from its zarr attributes."""
        raise NotImplementedError

    def wrap(self, ome: dict[str, Any]) -> dict[str, Any]:
        """Zarr attributes that hold ``ome`` (the OME metadata of a node)."""
        raise NotImplementedError

    def merged(self, attrs: Any, changes: dict[str, Any]) -> dict[str, Any]:
        """Attributes to ``update`` a node with so its OME metadata gains ``changes``."""
        raise NotImplementedError

    def node(self, meta: dict[str, Any]) -> dict[str, Any]:
        """A multiscales or image-label node, with the version key this format wants."""
        raise NotImplementedError

    def array_kwargs(self, axes: str) -> dict[str, Any]:
        """Keywords for ``zarr.create_array`` of an array with these axes."""
        raise NotImplementedError


class FormatV04(NgffFormat):
    """NGFF 0.4: zarr v2, OME keys at the top of ``.zattrs``, versioned nodes."""

    def __init__(self) -> None:
        super().__init__("0.4", 2, ".zattrs")

    def ome(self, attrs: Any) -> dict[str, Any]:
        return dict(attrs)

    def wrap(self, ome: dict[str, Any]) -> dict[str, Any]:
        return dict(ome)

    def merged(self, attrs: Any, changes: dict[str, Any]) -> dict[str, Any]:
        return dict(changes)

    def node(self, meta: dict[str, Any]) -> dict[str, Any]:
        return {**meta, "version": "0.4"}

    def array_kwargs(self, axes: str) -> dict[str, Any]:
        return {"chunk_key_encoding": {"name": "v2", "separator": "/"}}


class FormatV05(NgffFormat):
    """NGFF 0.5: zarr v3, OME keys under ``ome`` (with the version) in ``zarr.json``."""

    def __init__(self) -> None:
        super().__init__("0.5", 3, "zarr.json")

    def ome(self, attrs: Any) -> dict[str, Any]:
        return dict(attrs.get("ome") or {})

    def wrap(self, ome: dict[str, Any]) -> dict[str, Any]:
        return {"ome": {"version": "0.5", **ome}}

    def merged(self, attrs: Any, changes: dict[str, Any]) -> dict[str, Any]:
        return {"ome": {"version": "0.5", **self.ome(attrs), **changes}}

    def node(self, meta: dict[str, Any]) -> dict[str, Any]:
        return dict(meta)

    def array_kwargs(self, axes: str) -> dict[str, Any]:
        return {"dimension_names": list(axes)}


#: the formats by NGFF version
FORMATS: dict[str, NgffFormat] = {"0.4": FormatV04(), "0.5": FormatV05()}


def format_for(*, ngff: str | None = None, zarr_format: int | None = None) -> NgffFormat:
    """The format of an NGFF version (``"0.4"``/``"0.5"``) or of a zarr format (2/3)."""
    if ngff is not None:
        return FORMATS[ngff]
    return FORMATS["0.5" if zarr_format == 3 else "0.4"]
