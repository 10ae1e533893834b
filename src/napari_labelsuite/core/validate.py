"""Reading untrusted files safely: one path for bytes, text, JSON, YAML, paths and fields.

Every reader of the plugin (formats, sidecars, taxonomy, provenance, store metadata) reads
its input through these helpers so that a hostile or broken file ends in a named
:class:`~napari_labelsuite.core.errors.LabelsuiteError` instead of a traceback, a hang or
an allocation of gigabytes:

* only regular files are opened (a FIFO named ``*.json`` would block forever), and their
  size is bounded;
* text is decoded strictly (UTF-8 unless told otherwise) and a decode error names the byte;
* JSON and YAML nesting is bounded (no ``RecursionError``); YAML aliases are counted and
  the size they expand to is bounded (a 342-byte "billion laughs" file is refused before
  it is built); JSON objects may be required to have no duplicate keys;
* a path read from a file must stay inside the folder of that file (no ``../``, no
  absolute path, no symbolic link that leaves the folder);
* fields are checked against a small schema (one per document) that names the field, the
  record and the offending value;
* pixel buffers sized by a declared image size are bounded by :func:`max_pixels`, which a
  user can raise with :func:`pixel_limit` or the ``NAPARI_LABELSUITE_MAX_PIXELS``
  environment variable.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FormatError, LabelsuiteError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Field",
    "check_fields",
    "check_pixels",
    "decode_text",
    "inside_folder",
    "load_json",
    "load_yaml",
    "max_pixels",
    "parse_json",
    "parse_yaml",
    "pixel_limit",
    "read_regular_bytes",
]

#: Deepest nesting of JSON/YAML containers accepted (real documents need fewer than 20).
MAX_DEPTH = 256
#: Largest metadata/annotation file read into memory (bytes).
MAX_FILE_BYTES = 2 * 2**30
#: Largest number of YAML alias references in one document.
MAX_YAML_ALIASES = 1000
#: Largest number of YAML nodes a document may expand to once aliases are followed.
MAX_YAML_NODES = 1_000_000
#: Default bound on the pixels of one buffer sized by a declared image size.
DEFAULT_MAX_PIXELS = 2**27

_PIXEL_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "labelsuite_pixel_limit", default=None
)

ErrorType = type[LabelsuiteError]


# -- size limits ----------------------------------------------------------------------------
def max_pixels() -> int:
    """The largest pixel count a reader allocates for one image sized by a file's header.

    :func:`pixel_limit` (a context manager) sets it for a block of code; otherwise the
    ``NAPARI_LABELSUITE_MAX_PIXELS`` environment variable, otherwise 2**27 (134 M pixels:
    512 MiB as uint32).
    """
    v = _PIXEL_LIMIT.get()
    if v is not None:
        return v
    env = os.environ.get("NAPARI_LABELSUITE_MAX_PIXELS")
    if env:
        with contextlib.suppress(ValueError):
            return max(1, int(float(env)))
    return DEFAULT_MAX_PIXELS


@contextlib.contextmanager
def pixel_limit(n: int) -> Iterator[None]:
    """Raise (or lower) :func:`max_pixels` inside a ``with`` block.

    Examples
    --------
    >>> with pixel_limit(2**32):  # doctest: +SKIP
    ...     anns, tax = formats.read("huge_slides.json")
    """
    token = _PIXEL_LIMIT.set(max(1, int(n)))
    try:
        yield
    finally:
        _PIXEL_LIMIT.reset(token)


def check_pixels(
    shape: Any,
    *,
    path: Any = None,
    where: str | None = None,
    field: str = "shape",
    error: ErrorType = FormatError,
) -> tuple[int, ...]:
    """Validate a declared image shape: positive integers whose product fits the limit.

    Returns the shape as a tuple of int.
    """
    try:
        dims = tuple(shape)
    except TypeError:
        raise error("must be a list of sizes", path=path, where=where, field=field,
                    value=shape) from None  # fmt: skip
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d):
            raise error("sizes must be whole numbers", path=path, where=where, field=field,
                        value=shape)  # fmt: skip
        if int(d) != d or d < 1:
            raise error("sizes must be positive whole numbers", path=path, where=where,
                        field=field, value=shape)  # fmt: skip
        out.append(int(d))
    n = math.prod(out)
    if n > max_pixels():
        raise error(
            f"declared image size {'x'.join(map(str, out))} has {n} pixels, more than the "
            f"limit of {max_pixels()} (raise it with napari_labelsuite.core.validate."
            "pixel_limit or NAPARI_LABELSUITE_MAX_PIXELS)",
            path=path,
            where=where,
            field=field,
        )
    return tuple(out)


# -- bytes and text -------------------------------------------------------------------------
def read_regular_bytes(
    path: str | os.PathLike,
    *,
    error: ErrorType = FormatError,
    max_bytes: int = MAX_FILE_BYTES,
    what: str = "file",
) -> bytes:
    """The bytes of a regular file; anything else (FIFO, device, folder) is refused.

    The file is opened non-blocking, so a FIFO never blocks; its type and size are checked
    on the open descriptor before anything is read.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise error(f"{what} not found", path=p) from None
    except IsADirectoryError:
        raise error(f"{what} expected, found a folder", path=p) from None
    except OSError as exc:
        raise error(f"cannot open {what}: {exc.strerror or exc}", path=p) from exc
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{what} expected, found a folder", path=p)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"not a regular file (a pipe, socket or device); refusing to read "
                        f"it as a {what}", path=p)  # fmt: skip
        if st.st_size > max_bytes:
            raise error(f"{what} is larger than {max_bytes} bytes", path=p, field="size",
                        value=st.st_size)  # fmt: skip
        chunks = []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", path=p) from exc
    finally:
        os.close(fd)


def decode_text(
    data: bytes,
    *,
    path: Any = None,
    error: ErrorType = FormatError,
    encoding: str = "utf-8",
) -> str:
    """Strictly decode ``data`` (a leading UTF-8 byte-order mark is dropped)."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"not valid {exc.encoding.upper()} text: byte {data[exc.start : exc.start + 1]!r} "
            f"at offset {exc.start} (save the file as UTF-8)",
            path=path,
            where=f"line {line}",
        ) from None
    except LookupError:
        raise error("unknown text encoding", path=path, field="encoding",
                    value=encoding) from None  # fmt: skip
    return text[1:] if text.startswith("\ufeff") else text


# -- JSON -----------------------------------------------------------------------------------
def _no_duplicates(path: Any, error: ErrorType) -> Callable[[list[tuple[str, Any]]], dict]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise error("duplicate key in a JSON object", path=path, field=k)
            out[k] = v
        return out

    return hook


def _json_depth_ok(text: str, limit: int) -> bool:
    """Cheap upper bound of the container nesting (brackets outside strings ignored)."""
    # counting brackets outside strings exactly needs a scanner; the count of opening
    # brackets before the first closing one bounds the depth of the first branch and
    # catches the "[[[[..." and '{"a":{"a":...' bombs without a slow pure-Python scan
    depth = 0
    for ch in text[: limit * 8 + 16]:
        if ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            return True
    return True


def parse_json(
    text: str | bytes,
    *,
    path: Any = None,
    error: ErrorType = FormatError,
    unique_keys: bool = False,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse JSON; malformed, too deep or (optionally) duplicate-key input raises ``error``."""
    if isinstance(text, bytes):
        text = decode_text(text, path=path, error=error)
    if not _json_depth_ok(text, max_depth):
        raise error(f"JSON nested deeper than {max_depth} levels", path=path)
    try:
        if unique_keys:
            doc = json.loads(text, object_pairs_hook=_no_duplicates(path, error))
        else:
            doc = json.loads(text)
    except LabelsuiteError:
        raise
    except json.JSONDecodeError as exc:
        raise error(
            f"not valid JSON: {exc.msg}", path=path, where=f"line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise error(f"JSON nested deeper than {max_depth} levels", path=path) from None
    except (ValueError, MemoryError) as exc:
        raise error(f"not valid JSON: {type(exc).__name__}", path=path) from None
    if not _depth_within(doc, max_depth):
        raise error(f"JSON nested deeper than {max_depth} levels", path=path)
    return doc


def _depth_within(doc: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, d = stack.pop()
        if d > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list) and node and not isinstance(node[0], (int, float, str)):
            # lists of numbers (polygons, RLE counts) hold no containers worth a scan;
            # the parser itself stops nesting deeper than the interpreter's limit
            stack.extend((v, d + 1) for v in node if isinstance(v, (dict, list)))
    return True


def load_json(
    path: str | os.PathLike,
    *,
    error: ErrorType = FormatError,
    unique_keys: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
    what: str = "JSON file",
) -> Any:
    """Read and parse a JSON file (regular files only, UTF-8, bounded nesting)."""
    data = read_regular_bytes(path, error=error, max_bytes=max_bytes, what=what)
    return parse_json(data, path=path, error=error, unique_keys=unique_keys)


# -- YAML -----------------------------------------------------------------------------------
def _yaml_budget(text: str, path: Any, error: ErrorType) -> None:
    """Walk the YAML event stream: bound nesting, alias count and the expanded node count."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, node count]
    aliases = 0
    total = 0
    for ev in yaml.parse(text, Loader=loader):
        if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            stack.append([ev.anchor, 1])
            if len(stack) > MAX_DEPTH:
                raise error(f"YAML nested deeper than {MAX_DEPTH} levels", path=path)
            continue
        if isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, n = stack.pop()
            if anchor is not None:
                sizes[anchor] = n
            stack[-1][1] += n
        elif isinstance(ev, yaml.ScalarEvent):
            if ev.anchor is not None:
                sizes[ev.anchor] = 1
            stack[-1][1] += 1
        elif isinstance(ev, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise error(f"more than {MAX_YAML_ALIASES} YAML aliases", path=path)
            stack[-1][1] += sizes.get(ev.anchor, 1)
        else:
            continue
        total = stack[0][1] + sum(n for _, n in stack[1:])
        if total > MAX_YAML_NODES:
            raise error(
                f"YAML expands to more than {MAX_YAML_NODES} values through its aliases "
                "(an alias bomb?)",
                path=path,
            )


def parse_yaml(text: str | bytes, *, path: Any = None, error: ErrorType = FormatError) -> Any:
    """Parse YAML with the safe loader; malformed input, alias bombs and deep nesting raise
    ``error`` naming the line."""
    import yaml

    if isinstance(text, bytes):
        text = decode_text(text, path=path, error=error)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _yaml_budget(text, path, error)
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except LabelsuiteError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise error(f"not valid YAML: {problem}", path=path, where=where) from None
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {str(exc).splitlines()[0]}", path=path) from None
    except RecursionError:
        raise error(f"YAML nested deeper than {MAX_DEPTH} levels", path=path) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. a timestamp or number the constructor cannot build
        raise error(f"not valid YAML: {exc}", path=path) from None


def load_yaml(
    path: str | os.PathLike,
    *,
    error: ErrorType = FormatError,
    max_bytes: int = 64 * 2**20,
    what: str = "YAML file",
) -> Any:
    """Read and parse a YAML file (regular files only, UTF-8, bounded aliases and nesting)."""
    data = read_regular_bytes(path, error=error, max_bytes=max_bytes, what=what)
    return parse_yaml(data, path=path, error=error)


# -- paths ----------------------------------------------------------------------------------
def inside_folder(
    folder: str | os.PathLike,
    rel: Any,
    *,
    path: Any = None,
    field: str = "path",
    where: str | None = None,
    error: ErrorType = FormatError,
) -> Path:
    """``folder / rel`` when it stays inside ``folder`` (symbolic links followed).

    ``rel`` must be a relative path string; an absolute path, a ``..`` that climbs out or
    a link pointing elsewhere raises ``error`` naming ``field``.
    """
    if not isinstance(rel, str) or not rel:
        raise error("must be a non-empty relative path", path=path, where=where, field=field,
                    value=rel)  # fmt: skip
    if "\x00" in rel:
        raise error("path contains a NUL byte", path=path, where=where, field=field)
    if os.path.isabs(rel) or rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
        raise error("must be relative to the file's folder, not absolute", path=path,
                    where=where, field=field, value=rel)  # fmt: skip
    base = Path(folder).resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise error(
            "points outside the folder of the file (.. or a link leaving it)",
            path=path,
            where=where,
            field=field,
            value=rel,
        )
    return target


def is_within(root: str | os.PathLike, p: str | os.PathLike) -> bool:
    """True when ``p`` (symbolic links followed) lies inside ``root``."""
    base = Path(root).resolve()
    target = Path(p).resolve()
    return target == base or base in target.parents


# -- fields ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One field of a document schema.

    ``types`` are the accepted Python types after JSON/YAML parsing (``bool`` is never
    taken for ``int``/``float``); ``check`` is an optional predicate with its message.
    """

    types: tuple[type, ...]
    required: bool = False
    check: Callable[[Any], bool] | None = None
    message: str = ""
    nullable: bool = False


_TYPE_NAMES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
}


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, float) and float in types:
        return math.isfinite(value)
    return isinstance(value, types)


def check_value(
    value: Any,
    spec: Field,
    *,
    name: str,
    path: Any = None,
    where: str | None = None,
    error: ErrorType = FormatError,
) -> Any:
    """Check one value against ``spec``; returns it."""
    if value is None and spec.nullable:
        return value
    if not _type_ok(value, spec.types):
        wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in spec.types)
        raise error(f"must be {wanted}", path=path, where=where, field=name, value=value)
    if spec.check is not None and not spec.check(value):
        raise error(spec.message or "invalid value", path=path, where=where, field=name,
                    value=value)  # fmt: skip
    return value


def check_fields(
    doc: Any,
    schema: Mapping[str, Field],
    *,
    path: Any = None,
    where: str | None = None,
    error: ErrorType = FormatError,
    what: str = "record",
) -> dict[str, Any]:
    """Check a JSON/YAML object against ``schema`` (field name -> :class:`Field`).

    Unknown fields are kept unchecked. Returns ``doc``.
    """
    if not isinstance(doc, dict):
        raise error(f"{what} must be an object", path=path, where=where,
                    value=type(doc).__name__)  # fmt: skip
    for name, spec in schema.items():
        if name not in doc:
            if spec.required:
                raise error("required field is missing", path=path, where=where, field=name)
            continue
        check_value(doc[name], spec, name=name, path=path, where=where, error=error)
    return doc


NUMBER = Field((int, float))
STRING = Field((str,))


# -- the annotation tables document (sidecars, store annotation blocks) ---------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, float) and math.isfinite(v))


_OBJECT_SCHEMA = {
    "class_id": Field((int,), required=True),
    "attributes": Field((dict,), nullable=True),
    "status": Field((str,)),
    "reviewer": Field((str,), nullable=True),
    "reviewed_at": Field((str,), nullable=True),
}
_BOX_SCHEMA = {
    "xyxy": Field(
        (list,),
        required=True,
        check=lambda v: len(v) == 4 and all(_is_num(x) for x in v),
        message="must be 4 finite numbers",
    ),
    "class_id": Field((int,), required=True),
    "plane": Field(
        (list,), check=lambda v: all(_is_int(x) for x in v), message="must be a list of integers"
    ),  # fmt: skip
    "instance_id": Field((int,)),
    "attributes": Field((dict,), nullable=True),
    "status": Field((str,)),
    "reviewer": Field((str,), nullable=True),
    "reviewed_at": Field((str,), nullable=True),
}
_TABLES_SCHEMA = {
    "image_name": Field((str,), required=True),
    "shape": Field(
        (list,),
        required=True,
        check=lambda v: all(_is_int(x) and x >= 0 for x in v),
        message="must be a list of non-negative integers",
    ),  # fmt: skip
    "axes": Field((str,)),
    "image_path": Field((str,), nullable=True),
    "objects": Field((dict,)),
    "boxes": Field((list,)),
    "metadata": Field((dict,), nullable=True),
}


def check_tables_dict(
    doc: Any, *, path: Any = None, where: str | None = None, error: ErrorType = FormatError
) -> dict[str, Any]:
    """Check an annotation's tables (``ImageAnnotation.tables_to_dict``) field by field."""
    check_fields(doc, _TABLES_SCHEMA, path=path, where=where, error=error, what="annotation")
    for k, o in (doc.get("objects") or {}).items():
        w = f"{where + ' ' if where else ''}objects[{k}]"
        try:
            int(k)
        except ValueError:
            raise error("instance ids must be integers", path=path, where=w, field="objects",
                        value=k) from None  # fmt: skip
        check_fields(o, _OBJECT_SCHEMA, path=path, where=w, error=error, what="object")
    for i, b in enumerate(doc.get("boxes") or []):
        w = f"{where + ' ' if where else ''}boxes[{i}]"
        check_fields(b, _BOX_SCHEMA, path=path, where=w, error=error, what="box")
    return doc


# -- XML ------------------------------------------------------------------------------------
_ENTITY_MARKS = tuple("<!ENTITY".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def parse_xml(data: bytes, *, path: Any = None, error: ErrorType = FormatError) -> Any:
    """Parse XML from bytes (its own encoding declaration honoured) with entity
    declarations refused outright: no entity expansion bomb, no external entity.

    Returns the root ``xml.etree.ElementTree.Element``; a malformed document raises
    ``error`` naming the line.
    """
    import xml.etree.ElementTree as ET

    # annotation files never declare entities; refusing them costs one scan of the bytes
    if any(mark in data for mark in _ENTITY_MARKS):
        raise error(
            "XML entity declarations are not accepted (an entity bomb or external entity)",
            path=path,
            field="DOCTYPE",
        )
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise error(f"malformed XML: {exc}", path=path, where=f"line {line}") from None
    except LookupError as exc:  # the declaration names an encoding Python does not know
        raise error(f"XML declares an {exc}", path=path, field="encoding") from None
