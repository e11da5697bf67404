"""``JSON.parse`` with V8's messages, as image2image reports them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clawrouter_images.emulator._jsparse import JSParseError, js_falsy, js_json_parse

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"image": ', "Unexpected end of JSON input"),
        ("", "Unexpected end of JSON input"),
        ("   ", "Unexpected end of JSON input"),
        ('{"a": 1', "Unexpected end of JSON input"),
        ("{bad json", "Expected property name or '}' in JSON at position 1"),
        ('{"a" 1}', "Expected ':' after property name in JSON at position 5"),
        ('{"a": 1 "b": 2}', "Expected ',' or '}' after property value in JSON at position 8"),
        ("[1 2]", "Expected ',' or ']' after array element in JSON at position 3"),
        ('{"a": 1}x', "Unexpected non-whitespace character after JSON at position 8"),
        ("bad", "Unexpected token 'b', \"bad\" is not valid JSON"),
        ("NaN", "Unexpected token 'N', \"NaN\" is not valid JSON"),
        (
            '{"prompt": "a cat", "n": x}',
            'Unexpected token \'x\', ..."at", "n": x}" is not valid JSON',
        ),
        ('{"a": "b\\q"}', "Bad escaped character in JSON at position 9"),
    ],
)
def test_messages_match_v8(text: str, message: str) -> None:
    """Each malformed body gets the message Node 20's ``JSON.parse`` gives."""
    with pytest.raises(JSParseError) as caught:
        js_json_parse(text)
    assert str(caught.value) == message


@given(JSON_VALUES)
def test_valid_json_parses_like_python(value: object) -> None:
    """Anything ``json.dumps`` writes parses to the same value."""
    assert js_json_parse(json.dumps(value)) == value


@pytest.mark.parametrize(
    ("value", "falsy"),
    [
        (None, True),
        (False, True),
        ("", True),
        (0, True),
        (0.0, True),
        ([], False),
        ({}, False),
        ("0", False),
        (1, False),
    ],
)
def test_falsiness_is_javascripts(value: object, falsy: bool) -> None:
    """Falsy means what it means in JavaScript: empty lists and objects are truthy."""
    assert js_falsy(value) is falsy
