"""Zarr mask stores: open, create, save, autosave, edit regions."""

from __future__ import annotations


class StoreMixin:
    """Zarr mask stores: open, create, save, autosave, edit regions."""
