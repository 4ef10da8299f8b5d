"""Rails/Rack-style request parameter merging for the eyeson-compatible meeting API.

Pure module (no web framework imports): the HTTP layer decodes the query string, the
urlencoded or multipart form and the JSON body, and hands the pieces to :func:`parse_params`.
See spec ``eyeson.md`` §1.2 for what the various clients send.

Behaviour (modelled on ``Rack::QueryParser#normalize_params``):

* Sources are merged in order query → form → JSON. Each source is parsed on its own (a
  conflict *inside* one source raises :class:`ParamError`); then later sources are deep-merged
  over earlier ones: objects merge key by key, anything else is replaced by the later value
  (this is Rack's ``GET.merge(POST)`` order, but deep).
* Bracket keys expand: ``a[b][c]`` → nested objects, ``a[]`` → array push, ``a[][b]`` →
  array of objects (a new object is started when the last one already has the key, as in Rack).
  Literal JSON keys are expanded the same way, at every object level; a JSON array assigned to
  a key ending in ``[]`` is spliced in (``{"users[]": ["a", "b"]}`` → ``users == ["a", "b"]``).
* A key is well formed when it is ``head[seg]...[seg]`` with a non-empty head and no stray
  brackets. Anything else (``a[b``, ``a]``, ``[x]``, ``a[b]c``) is kept as one literal key,
  never an error. Empty keys are ignored, as in Rack.
* Scalars: the last value wins (``a=1&a=2`` → ``"2"``, ``a[b]=1&a=2`` → ``"2"``, like Rack).
  Descending into a non-object or pushing onto a non-array (``a=1&a[b]=2``) raises ParamError.
* Empty strings are kept as ``""`` (Rails does). The typed getters :func:`get_bool` and
  :func:`get_int` read ``""`` as absent (``None``), like ActiveModel's type casting.
* Hostile input: strings or keys containing NUL, more than :data:`MAX_DEPTH` nesting levels,
  more than :data:`MAX_KEYS` parameters (pairs, JSON keys and JSON array items) → ParamError.
* File uploads are opaque values, passed through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

MAX_DEPTH = 32  # Rack's default param_depth_limit
MAX_KEYS = 1000

_KEY_RE = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEG_RE = re.compile(r"\[([^\[\]]*)\]")
_INT_RE = re.compile(r"[+-]?\d{1,18}")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class ParamError(ValueError):
    """Request parameters are malformed or of the wrong type (maps to HTTP 400)."""


class UploadLike(Protocol):
    """A file upload as the HTTP layer hands it over (e.g. Starlette's UploadFile)."""

    @property
    def filename(self) -> str | None: ...


Params = dict[str, Any]
QueryPairs = Iterable[tuple[str, str]]
FormPairs = Iterable[tuple[str, str | UploadLike]]


def _name(path: list[str]) -> str:
    """Render a segment path the way clients write it: ``options[custom_fields][locale]``."""
    name = path[0] + "".join(f"[{seg}]" for seg in path[1:])
    return name if len(name) <= 80 else name[:80] + "..."  # keys are client-controlled


def _kind(value: object) -> str:
    if value is None:
        return "null"
    for typ, label in ((bool, "a boolean"), (str, "a string"), (dict, "an object")):
        if isinstance(value, typ):
            return label
    if isinstance(value, int | float):
        return "a number"
    return "an array" if isinstance(value, list) else f"a {type(value).__name__}"


def _short(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def _check_str(value: str, path: list[str]) -> None:
    if "\x00" in value:
        raise ParamError(f"parameter {_name(path)} must not contain NUL characters")


def split_key(key: str) -> list[str] | None:
    """Split ``a[b][]`` into ``["a", "b", ""]``; malformed → ``[key]``; empty → ``None``."""
    if "\x00" in key:
        raise ParamError("parameter names must not contain NUL characters")
    if not key:
        return None
    match = _KEY_RE.fullmatch(key)
    if match is None:
        return [key]
    return [match.group(1), *_SEG_RE.findall(match.group(2))]


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_KEYS

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ParamError(f"too many parameters (limit {MAX_KEYS})")


def _merge(dst: Params, src: Params) -> None:
    for key, value in src.items():
        existing = dst.get(key)
        if isinstance(value, dict) and isinstance(existing, dict):
            _merge(existing, value)
        else:
            dst[key] = value


def _has_path(obj: Params, rest: list[str]) -> bool:
    if "" in rest:  # Rack: nested arrays always go into the last object
        return False
    cur: Any = obj
    for seg in rest:
        if not isinstance(cur, dict) or seg not in cur:
            return False
        cur = cur[seg]
    return True


def _insert(target: Params, segs: list[str], value: Any, prefix: list[str], splice: bool) -> None:
    if len(prefix) + len(segs) > MAX_DEPTH:
        raise ParamError(f"parameter {_name([*prefix, *segs])} is nested too deeply")
    key, rest = segs[0], segs[1:]
    path = [*prefix, key]
    if not rest:
        existing = target.get(key)
        if isinstance(value, dict) and isinstance(existing, dict):
            _merge(existing, value)
        else:
            target[key] = value
    elif rest[0] == "":
        arr = target.setdefault(key, [])
        if not isinstance(arr, list):
            raise ParamError(f"parameter {_name(path)} is {_kind(arr)}, cannot append to it")
        _push(arr, rest[1:], value, [*path, ""], splice)
    else:
        sub = target.setdefault(key, {})
        if not isinstance(sub, dict):
            raise ParamError(f"parameter {_name(path)} is {_kind(sub)}, cannot nest keys in it")
        _insert(sub, rest, value, path, splice)


def _push(arr: list[Any], rest: list[str], value: Any, path: list[str], splice: bool) -> None:
    if not rest:
        if splice and isinstance(value, list):
            arr.extend(value)
        else:
            arr.append(value)
    elif rest[0] == "":
        inner: list[Any] = []
        _push(inner, rest[1:], value, [*path, ""], splice)
        arr.append(inner)
    else:
        last = arr[-1] if arr else None
        if isinstance(last, dict) and not _has_path(last, rest):
            _insert(last, rest, value, path, splice)
        else:
            new: Params = {}
            _insert(new, rest, value, path, splice)
            arr.append(new)


def _parse_pairs(pairs: Iterable[tuple[str, object]], budget: _Budget) -> Params:
    out: Params = {}
    for key, value in pairs:
        budget.take()
        segs = split_key(key)
        if segs is None:
            continue
        if isinstance(value, str):
            _check_str(value, segs)
        _insert(out, segs, value, [], splice=False)
    return out


def _normalize_json(value: object, path: list[str], budget: _Budget) -> Any:
    if isinstance(value, dict):
        out: Params = {}
        for key, item in value.items():
            budget.take()
            if not isinstance(key, str):
                raise ParamError(
                    f"parameter names{' in ' + _name(path) if path else ''} must be strings"
                )
            segs = split_key(key)
            if segs is None:
                continue
            full = [*path, *segs]
            if len(full) > MAX_DEPTH:
                raise ParamError(f"parameter {_name(full)} is nested too deeply")
            _insert(out, segs, _normalize_json(item, full, budget), path, splice=True)
        return out
    if isinstance(value, list):
        if len(path) >= MAX_DEPTH:
            raise ParamError(f"parameter {_name(path)} is nested too deeply")
        items = []
        for item in value:
            budget.take()
            items.append(_normalize_json(item, [*path, ""], budget))
        return items
    if isinstance(value, str):
        _check_str(value, path)
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    raise ParamError(f"parameter {_name(path)} has an unsupported type ({_kind(value)})")


def parse_params(
    query: QueryPairs, form: FormPairs | None = None, json_body: object | None = None
) -> Params:
    """Merge query pairs, form pairs (urlencoded or multipart) and a parsed JSON body.

    ``json_body`` is the result of ``json.loads`` (``None`` for no/empty body); it must be an
    object. Raises :class:`ParamError` for anything malformed; never anything else.
    """
    budget = _Budget()
    params = _parse_pairs(query, budget)
    if form is not None:
        _merge(params, _parse_pairs(form, budget))
    if json_body is not None:
        if not isinstance(json_body, dict):
            raise ParamError(f"JSON body must be an object, got {_kind(json_body)}")
        _merge(params, _normalize_json(json_body, [], budget))
    return params


# --- typed getters -------------------------------------------------------------------------


def _lookup(params: Mapping[str, Any], key: str, path: tuple[str, ...]) -> tuple[str, Any]:
    """Walk ``key, *path`` → (rendered name, value); None if missing; ParamError on scalars."""
    names = [key, *path]
    cur: Any = params
    for i, name in enumerate(names):
        if not isinstance(cur, Mapping):
            raise ParamError(f"parameter {_name(names[:i])} must be an object, got {_kind(cur)}")
        cur = cur.get(name)
        if cur is None:
            break
    return _name(names), cur


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def get_str(params: Mapping[str, Any], key: str, *path: str) -> str | None:
    """String at ``params[key][path...]``; ``None`` if absent or null. JSON integers → str."""
    name, value = _lookup(params, key, path)
    if value is None or isinstance(value, str):
        return value
    if _is_int(value):
        return str(value)
    raise ParamError(f"parameter {name} must be a string, got {_kind(value)}")


def get_bool(params: Mapping[str, Any], key: str, *path: str) -> bool | None:
    """Boolean: JSON true/false/0/1 or true/false/1/0/yes/no/on/off in any case; ``""`` → None."""
    name, value = _lookup(params, key, path)
    if value is None or isinstance(value, bool):
        return value
    if _is_int(value) and value in (0, 1):
        return bool(value)
    if not isinstance(value, str):
        raise ParamError(f"parameter {name} must be true or false, got {_kind(value)}")
    text = value.strip().lower()
    if text in _TRUE or text in _FALSE or not text:
        return text in _TRUE if text else None
    raise ParamError(f"parameter {name} must be true or false, got {_short(value)}")


def get_int(params: Mapping[str, Any], key: str, *path: str) -> int | None:
    """Integer: JSON integer (or integral float) or a decimal string; ``""`` → None."""
    name, value = _lookup(params, key, path)
    if value is None or _is_int(value):
        return None if value is None else int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        raise ParamError(f"parameter {name} must be an integer, got {_kind(value)}")
    text = value.strip()
    if not text or _INT_RE.fullmatch(text):
        return int(text) if text else None
    raise ParamError(f"parameter {name} must be an integer, got {_short(value)}")


def get_page(params: Mapping[str, Any], maximum: int, key: str = "page") -> int:
    """A page number counting from 0 (absent: 0), at most ``maximum``."""
    page = get_int(params, key)
    if page is None:
        return 0
    if page < 0 or page > maximum:
        raise ParamError(f"parameter {key} must be 0 to {maximum}")
    return page


def get_list(params: Mapping[str, Any], key: str, *path: str) -> list[str] | None:
    """List of strings: a JSON array, repeated ``key[]``, ``key[0]``/``key[1]`` or one string."""
    name, value = _lookup(params, key, path)
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    if isinstance(value, dict) and all(k.isascii() and k.isdigit() for k in value):
        value = [value[k] for k in sorted(value, key=int)]
    if not isinstance(value, list):
        raise ParamError(f"parameter {name} must be a list, got {_kind(value)}")
    if not all(isinstance(item, str) or _is_int(item) for item in value):
        raise ParamError(f"items of parameter {name} must be strings")
    return [str(item) for item in value]


def get_dict(params: Mapping[str, Any], key: str, *path: str) -> Params | None:
    """Nested object at ``params[key][path...]``; ``None`` if absent or null."""
    name, value = _lookup(params, key, path)
    if value is None or isinstance(value, dict):
        return value
    raise ParamError(f"parameter {name} must be an object, got {_kind(value)}")
