from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from albor_gates.errors import SpecError
from albor_gates.spec.yamlsafe import load_yaml_file, load_yaml_text

BOMB = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_positions_are_recorded() -> None:
    doc = load_yaml_text("id: x\ngates:\n  - id: A\n    check: metric.value\n", "s.yaml")
    assert doc.data["gates"][0]["id"] == "A"
    assert doc.position(("gates", 0, "check")) == (4, 12)
    assert doc.key_position(("gates", 0, "check")) == (4, 5)
    assert doc.position(("gates", 0, "check", "deeper")) == (4, 12)


def test_alias_bomb_is_refused_fast() -> None:
    t0 = time.perf_counter()
    with pytest.raises(SpecError) as e:
        load_yaml_text(BOMB, "bomb.yaml")
    assert time.perf_counter() - t0 < 1.0
    assert str(e.value).startswith("bomb.yaml:")
    assert "more than 200000 YAML nodes after alias expansion" in str(e.value)


def test_duplicate_key_is_refused_with_position() -> None:
    with pytest.raises(SpecError) as e:
        load_yaml_text("id: a\nversion: 1\nid: b\n", "d.yaml")
    assert str(e.value) == (
        "d.yaml:3:1: duplicate key 'id' (YAML keeps only the last one silently; remove one of them)"
    )


def test_python_tags_are_refused() -> None:
    with pytest.raises(SpecError) as e:
        load_yaml_text("x: !!python/object/apply:os.system ['true']\n", "t.yaml")
    assert "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'" in str(e.value)


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(SpecError) as e:
        load_yaml_text("a: &a [*a]\n", "r.yaml")
    assert "recursive YAML alias" in str(e.value)


def test_merge_keys_are_refused() -> None:
    with pytest.raises(SpecError, match="merge keys"):
        load_yaml_text("a: &a {x: 1}\nb:\n  <<: *a\n", "m.yaml")


def test_syntax_error_has_location() -> None:
    with pytest.raises(SpecError) as e:
        load_yaml_text("a: [1, 2\nb: 3\n", "s.yaml")
    assert str(e.value).startswith("s.yaml:2:")


def test_multiple_documents_refused() -> None:
    with pytest.raises(SpecError, match="YAML syntax error"):
        load_yaml_text("a: 1\n---\nb: 2\n", "m.yaml")


def test_file_size_cap(tmp_path) -> None:
    p = tmp_path / "big.yaml"
    p.write_bytes(b"a: 1\n" * 10)
    with pytest.raises(SpecError) as e:
        load_yaml_file(p, max_bytes=20)
    assert str(e.value) == f"{p}: file is 50 bytes, over the 20-byte limit"


def test_not_utf8(tmp_path) -> None:
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(SpecError) as e:
        load_yaml_file(p)
    assert str(e.value) == f"{p}: not UTF-8 text (byte offset 3) (save as UTF-8)"


def test_deep_nesting_refused() -> None:
    with pytest.raises(SpecError, match="nesting deeper than 64 levels"):
        load_yaml_text("[" * 100 + "]" * 100, "deep.yaml")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_spec_error(text: str) -> None:
    try:
        load_yaml_text(text, "fuzz.yaml")
    except SpecError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_round_trips_plain_data(data: object) -> None:
    import yaml

    text = yaml.safe_dump(data)
    assert load_yaml_text(text, "rt.yaml").data == data


def test_nul_byte_is_one_located_line() -> None:
    with pytest.raises(SpecError) as e:
        load_yaml_text("id: a\nx: b\x00c\n", "z.yaml")
    msg = str(e.value)
    assert "\n" not in msg
    # libyaml says "control characters", PyYAML's pure-Python reader "special characters"
    assert msg.startswith("z.yaml:2:5: unacceptable character '\\x00': ")
    assert msg.endswith("characters are not allowed (specs are plain UTF-8 text)")
