"""Tests for Rails/Rack-style parameter merging (spec eyeson.md §1.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vidroom.kit.params import (
    MAX_DEPTH,
    MAX_KEYS,
    ParamError,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_str,
    parse_params,
    split_key,
)


@dataclass
class FakeUpload:
    filename: str | None
    data: bytes = b""


UPLOAD = FakeUpload("layer.png", b"\x89PNG")

# (id, query pairs, form pairs, json body, expected)
ENCODINGS: list[tuple[str, list[tuple[str, str]], list[tuple[str, Any]] | None, object, Any]] = [
    (
        "PY: query string on a POST with empty body, Python bools",
        [("user[name]", "Jane"), ("options[widescreen]", "True"), ("id", "r1")],
        None,
        None,
        {"user": {"name": "Jane"}, "options": {"widescreen": "True"}, "id": "r1"},
    ),
    (
        "PY: typo key is harmless",
        [("options[cupythostom_fields][virtual_background]", "true"), ("user[name]", "x")],
        None,
        None,
        {"options": {"cupythostom_fields": {"virtual_background": "true"}}, "user": {"name": "x"}},
    ),
    (
        "GO: urlencoded with repeated users[]",
        [],
        [("layout", "custom"), ("users[]", "a"), ("users[]", ""), ("users[]", "b")],
        None,
        {"layout": "custom", "users": ["a", "", "b"]},
    ),
    (
        "GO: playback hash and audio_insert_position",
        [],
        [
            ("playback[url]", "https://x/v.mp4"),
            ("playback[play_id]", "p1"),
            ("audio_insert_position[x]", "10"),
            ("audio_insert_position[y]", "20"),
        ],
        None,
        {
            "playback": {"url": "https://x/v.mp4", "play_id": "p1"},
            "audio_insert_position": {"x": "10", "y": "20"},
        },
    ),
    (
        "PHP: nested options[custom_fields][...] and string booleans",
        [],
        [
            ("user[name]", "Jo"),
            ("options[show_names]", "false"),
            ("options[custom_fields][locale]", "de"),
            ("options[custom_fields][logo]", "https://l"),
        ],
        None,
        {
            "user": {"name": "Jo"},
            "options": {
                "show_names": "false",
                "custom_fields": {"locale": "de", "logo": "https://l"},
            },
        },
    ),
    (
        "JS/PHP/RUBY: multipart with a file",
        [],
        [("file", UPLOAD), ("z-index", "1"), ("id", "overlay")],
        None,
        {"file": UPLOAD, "z-index": "1", "id": "overlay"},
    ),
    (
        "NODE: nested JSON",
        [],
        None,
        {"user": {"name": "N"}, "options": {"widescreen": True, "exit_url": None}, "id": "r"},
        {"user": {"name": "N"}, "options": {"widescreen": True, "exit_url": None}, "id": "r"},
    ),
    (
        "NODE: users as JSON array, map as string",
        [],
        None,
        {"users": ["a", "b"], "map": "[[0,0,1,1]]"},
        {"users": ["a", "b"], "map": "[[0,0,1,1]]"},
    ),
    (
        "docs curl: JSON with literal bracket keys",
        [],
        None,
        {"user[name]": "John Doe", "options[widescreen]": True},
        {"user": {"name": "John Doe"}, "options": {"widescreen": True}},
    ),
    (
        "docs curl: JSON users[] with a single string",
        [],
        None,
        {"users[]": " "},
        {"users": [" "]},
    ),
    (
        "JSON users[] with an array is spliced",
        [],
        None,
        {"users[]": ["a", "b"]},
        {"users": ["a", "b"]},
    ),
    (
        "JSON nested object deep-merged with bracket key",
        [],
        None,
        {"user": {"name": "a"}, "user[id]": "1"},
        {"user": {"name": "a", "id": "1"}},
    ),
    (
        "JSON bracket key first, nested object second",
        [],
        None,
        {"user[id]": "1", "user": {"name": "a"}},
        {"user": {"name": "a", "id": "1"}},
    ),
    (
        "JSON bracket keys inside nested objects",
        [],
        None,
        {"options": {"custom_fields[locale]": "de"}},
        {"options": {"custom_fields": {"locale": "de"}}},
    ),
    (
        "mix: query merged first, body overrides, objects deep-merge",
        [("id", "q"), ("options[a]", "1"), ("options[b]", "1")],
        [("id", "f"), ("options[b]", "2")],
        {"options[c]": "3"},
        {"id": "f", "options": {"a": "1", "b": "2", "c": "3"}},
    ),
    (
        "mix: body scalar replaces query object (no cross-source conflict)",
        [("a[b]", "1")],
        [("a", "2")],
        None,
        {"a": "2"},
    ),
    (
        "mix: body object replaces query scalar",
        [("a", "1")],
        None,
        {"a[b]": "2"},
        {"a": {"b": "2"}},
    ),
    ("NODE: empty body with JSON content-type", [], None, None, {}),
    ("empty JSON object", [], None, {}, {}),
    ("AND: presentation POST with no body", [], [], None, {}),
]


@pytest.mark.parametrize(
    ("query", "form", "json_body", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in ENCODINGS],
)
def test_encodings(
    query: list[tuple[str, str]],
    form: list[tuple[str, Any]] | None,
    json_body: object,
    expected: Any,
) -> None:
    assert parse_params(query, form, json_body) == expected


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("a", "1"), ("a", "2")], {"a": "2"}),
        ([("a[b]", "1"), ("a", "2")], {"a": "2"}),
        ([("a", "")], {"a": ""}),
        ([("a[]", "")], {"a": [""]}),
        ([("a[b][c][d]", "x")], {"a": {"b": {"c": {"d": "x"}}}}),
        (
            [("a[][b]", "1"), ("a[][c]", "2"), ("a[][b]", "3")],
            {"a": [{"b": "1", "c": "2"}, {"b": "3"}]},
        ),
        ([("a[][b][c]", "1"), ("a[][b][d]", "2")], {"a": [{"b": {"c": "1", "d": "2"}}]}),
        ([("a[][]", "1"), ("a[][]", "2")], {"a": [["1"], ["2"]]}),
        ([("a[b][]", "1"), ("a[b][]", "2")], {"a": {"b": ["1", "2"]}}),
        ([("a[0]", "x"), ("a[1]", "y")], {"a": {"0": "x", "1": "y"}}),
        ([("a b[c d]", "x")], {"a b": {"c d": "x"}}),
        # malformed brackets: whole key kept literally
        ([("a[b", "1")], {"a[b": "1"}),
        ([("a]", "1")], {"a]": "1"}),
        ([("[x]", "1")], {"[x]": "1"}),
        ([("[]", "1")], {"[]": "1"}),
        ([("a[", "1")], {"a[": "1"}),
        ([("a[b]c", "1")], {"a[b]c": "1"}),
        ([("a[b[c]]", "1")], {"a[b[c]]": "1"}),
        ([("a[]b", "1")], {"a[]b": "1"}),
        # empty keys are ignored (Rack)
        ([("", "1"), ("b", "2")], {"b": "2"}),
    ],
)
def test_pair_expansion(pairs: list[tuple[str, str]], expected: Any) -> None:
    assert parse_params(pairs) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a", ["a"]),
        ("a[b][]", ["a", "b", ""]),
        ("a[][b]", ["a", "", "b"]),
        ("a[b", ["a[b"]),
        ("", None),
    ],
)
def test_split_key(key: str, expected: list[str] | None) -> None:
    assert split_key(key) == expected


@pytest.mark.parametrize(
    ("query", "json_body", "message"),
    [
        ([("a", "1"), ("a[b]", "2")], None, "parameter a is a string, cannot nest"),
        ([("a", "1"), ("a[]", "2")], None, "parameter a is a string, cannot append"),
        ([("a[b]", "1"), ("a[]", "2")], None, "parameter a is an object, cannot append"),
        ([("a[]", "1"), ("a[b]", "2")], None, "parameter a is an array, cannot nest"),
        ([("a[b]", "1"), ("a[b][c]", "2")], None, "parameter a[b] is a string"),
        ([], {"user": "x", "user[id]": "1"}, "parameter user is a string"),
        ([], ["not", "an", "object"], "JSON body must be an object, got an array"),
        ([], "string", "JSON body must be an object, got a string"),
        ([], 42, "JSON body must be an object, got a number"),
        ([], True, "JSON body must be an object, got a boolean"),
        ([("a", "x\x00y")], None, "parameter a must not contain NUL"),
        ([("a\x00", "x")], None, "names must not contain NUL"),
        ([], {"user": {"name": "x\x00"}}, "parameter user[name] must not contain NUL"),
        ([], {"users": ["ok", "x\x00"]}, "parameter users[] must not contain NUL"),
        ([], {1: "x"}, "parameter names must be strings"),
        ([], {"a": {1, 2}}, "parameter a has an unsupported type"),
        ([("a" + "[x]" * MAX_DEPTH, "1")], None, "nested too deeply"),
    ],
)
def test_errors(query: list[tuple[str, str]], json_body: object, message: str) -> None:
    with pytest.raises(ParamError, match=re.escape(message)):
        parse_params(query, None, json_body)


def test_depth_limit_boundary() -> None:
    ok = "a" + "[x]" * (MAX_DEPTH - 1)
    assert parse_params([(ok, "1")])["a"]["x"]["x"]


def test_json_depth_limit() -> None:
    body: dict[str, Any] = {"leaf": "x"}
    for _ in range(MAX_DEPTH + 1):
        body = {"k": body}
    with pytest.raises(ParamError, match="nested too deeply"):
        parse_params([], None, body)
    deep_list: list[Any] = ["x"]
    for _ in range(MAX_DEPTH + 1):
        deep_list = [deep_list]
    with pytest.raises(ParamError, match="nested too deeply"):
        parse_params([], None, {"l": deep_list})


def test_key_count_limit() -> None:
    pairs = [(f"k{i}", "v") for i in range(MAX_KEYS)]
    assert len(parse_params(pairs)) == MAX_KEYS
    with pytest.raises(ParamError, match="too many parameters"):
        parse_params([*pairs, ("one", "more")])
    with pytest.raises(ParamError, match="too many parameters"):
        parse_params(pairs, None, {"x": "y"})
    with pytest.raises(ParamError, match="too many parameters"):
        parse_params([], None, {"users": ["u"] * (MAX_KEYS + 1)})


def test_error_messages_truncate_long_names() -> None:
    with pytest.raises(ParamError) as info:
        parse_params([("k" * 10_000, "x\x00")])
    assert len(str(info.value)) < 200


def test_paramerror_is_valueerror() -> None:
    assert issubclass(ParamError, ValueError)


# --- typed getters -----------------------------------------------------------------------

TRUE_SPELLINGS = ["true", "True", "TRUE", "1", "yes", "Yes", "on", "ON", " true "]
FALSE_SPELLINGS = ["false", "False", "FALSE", "0", "no", "No", "off", "OFF"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(s, True) for s in TRUE_SPELLINGS],
        *[(s, False) for s in FALSE_SPELLINGS],
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("", None),
        (None, None),
    ],
)
def test_get_bool(raw: object, expected: bool | None) -> None:
    params = parse_params([], None, {"options": {"widescreen": raw}})
    assert get_bool(params, "options", "widescreen") is expected


@pytest.mark.parametrize("raw", ["maybe", "t", "2", 2, 1.5, ["true"], {"a": "b"}])
def test_get_bool_rejects(raw: object) -> None:
    params = parse_params([], None, {"options": {"widescreen": raw}})
    with pytest.raises(ParamError, match=r"options\[widescreen\] must be true or false"):
        get_bool(params, "options", "widescreen")


def test_get_bool_from_query_and_missing() -> None:
    params = parse_params([("options[widescreen]", "True")])
    assert get_bool(params, "options", "widescreen") is True
    assert get_bool(params, "options", "show_names") is None
    assert get_bool(params, "nothing", "here") is None


def test_get_str() -> None:
    params = parse_params([("user[name]", "Jane"), ("empty", "")], [("file", UPLOAD)], {"n": 7})
    assert get_str(params, "user", "name") == "Jane"
    assert get_str(params, "empty") == ""  # Rails keeps ""
    assert get_str(params, "n") == "7"
    assert get_str(params, "user", "id") is None
    assert get_str(params, "missing", "deeper") is None
    with pytest.raises(ParamError, match="parameter user must be a string, got an object"):
        get_str(params, "user")
    with pytest.raises(ParamError, match="parameter file must be a string, got a FakeUpload"):
        get_str(params, "file")
    with pytest.raises(ParamError, match=r"parameter user\[name\] must be an object"):
        get_str(params, "user", "name", "first")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("10", 10), (" -3 ", -3), ("+4", 4), (5, 5), (5.0, 5), ("", None), (None, None)],
)
def test_get_int(raw: object, expected: int | None) -> None:
    assert get_int({"x": raw}, "x") == expected


@pytest.mark.parametrize("raw", ["1.5", "ten", "1e3", "9" * 30, True, 1.5, [1]])
def test_get_int_rejects(raw: object) -> None:
    with pytest.raises(ParamError, match="parameter x must be an integer"):
        get_int({"x": raw}, "x")


@pytest.mark.parametrize(
    ("query", "form", "json_body", "expected"),
    [
        ([], [("users[]", "a"), ("users[]", "b")], None, ["a", "b"]),
        ([], None, {"users": ["a", "b"]}, ["a", "b"]),
        ([], None, {"users[]": " "}, [" "]),
        ([("users", "solo")], None, None, ["solo"]),
        ([("users", "")], None, None, [""]),
        ([("users[1]", "b"), ("users[0]", "a"), ("users[10]", "c")], None, None, ["a", "b", "c"]),
        ([], None, {"users": [1, "b"]}, ["1", "b"]),
        ([], None, {}, None),
    ],
)
def test_get_list(
    query: list[tuple[str, str]],
    form: list[tuple[str, Any]] | None,
    json_body: object,
    expected: Any,
) -> None:
    assert get_list(parse_params(query, form, json_body), "users") == expected


@pytest.mark.parametrize("raw", [{"a": "b"}, [{"a": "b"}], [None], 3, True])
def test_get_list_rejects(raw: object) -> None:
    with pytest.raises(ParamError, match="users"):
        get_list({"users": raw}, "users")


def test_get_dict() -> None:
    params = parse_params([("options[custom_fields][locale]", "de"), ("s", "x")])
    assert get_dict(params, "options", "custom_fields") == {"locale": "de"}
    assert get_dict(params, "user") is None
    with pytest.raises(ParamError, match="parameter s must be an object, got a string"):
        get_dict(params, "s")


# --- property tests ----------------------------------------------------------------------

_seg = st.text(min_size=1, max_size=8).filter(lambda s: not (set(s) & {"[", "]", "\x00"}))
_nested: st.SearchStrategy[Any] = st.recursive(
    st.text(max_size=8).filter(lambda s: "\x00" not in s),
    lambda children: st.dictionaries(_seg, children, min_size=1, max_size=4),
    max_leaves=20,
)
_tree = st.dictionaries(_seg, _nested, max_size=5)


def _flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in tree.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs.extend(_flatten(value, name))
        else:
            pairs.append((name, value))
    return pairs


@given(_tree)
def test_roundtrip_bracket_pairs(tree: dict[str, Any]) -> None:
    pairs = _flatten(tree)
    assert parse_params(pairs) == tree
    assert parse_params([], pairs) == tree


@given(_tree)
def test_roundtrip_json_literal_keys(tree: dict[str, Any]) -> None:
    assert parse_params([], None, dict(_flatten(tree))) == tree
    assert parse_params([], None, tree) == tree


_junk = st.text(alphabet=st.sampled_from("ab[]\x00 0é"), max_size=12) | st.text(max_size=12)
_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _junk,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_junk, children, max_size=3),
    max_leaves=15,
)


@given(
    st.lists(st.tuples(_junk, _junk), max_size=15),
    st.none() | st.lists(st.tuples(_junk, _junk), max_size=15),
    _json,
)
def test_arbitrary_input_only_raises_paramerror(
    query: list[tuple[str, str]], form: list[tuple[str, str]] | None, body: object
) -> None:
    try:
        params = parse_params(query, form, body)
    except ParamError:
        return
    for key in params:
        for getter in (get_str, get_bool, get_int, get_list, get_dict):
            try:
                getter(params, key, "x")
                getter(params, key)
            except ParamError:
                pass
