"""``JSON.parse`` as ClawRouter's image2image handler runs it, with V8's error messages.

image2image answers ``400 {"error":"Invalid request","details":<the parser's message>}``
for a body that is not JSON, so the emulator reproduces Node 20's wording for the common
mistakes (``Unexpected end of JSON input``, ``Expected property name or '}' in JSON at
position 1``, ...).  Rare ones are approximated.
"""

from __future__ import annotations

import json
import math

# V8 quotes the whole source when it is shorter than this, else 10 characters around the error.
_CONTEXT_CHARS = 10
_MIN_LENGTH_FOR_CONTEXT = _CONTEXT_CHARS * 2 + 1


class JSParseError(ValueError):
    """The message ``JSON.parse`` would have thrown."""


def js_falsy(value: object) -> bool:
    """JavaScript's falsiness of a parsed JSON value (``[]`` and ``{}`` are truthy there)."""
    if value is None or value is False or value == "":
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == 0 or math.isnan(value)
    return False


def _reject_constant(name: str) -> object:
    # Python accepts NaN and Infinity; JSON.parse does not.
    raise JSParseError(_unexpected_token_text(name, 0))


def js_json_parse(text: str) -> object:
    """Parse like ``JSON.parse``; raise ``JSParseError`` with V8's message otherwise."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise JSParseError(_message(text, err)) from None


def _innermost_container(text: str, pos: int) -> str:
    """``{`` or ``[``: the container still open at ``pos`` (strings skipped)."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else "{"


def _unexpected_token_text(source: str, pos: int) -> str:
    token = source[pos]
    if len(source) < _MIN_LENGTH_FOR_CONTEXT:
        return f"Unexpected token '{token}', \"{source}\" is not valid JSON"
    start = max(0, pos - _CONTEXT_CHARS)
    end = min(len(source), pos + _CONTEXT_CHARS)
    before = "" if start == 0 else "..."
    after = "" if end == len(source) else "..."
    return f"Unexpected token '{token}', {before}\"{source[start:end]}\"{after} is not valid JSON"


def _message(text: str, err: json.JSONDecodeError) -> str:
    pos = err.pos
    if pos >= len(text) or not text[pos:].strip():
        return "Unexpected end of JSON input"
    reason = err.msg
    if reason.startswith("Expecting property name"):
        return f"Expected property name or '}}' in JSON at position {pos}"
    if reason == "Expecting ':' delimiter":
        return f"Expected ':' after property name in JSON at position {pos}"
    if reason == "Expecting ',' delimiter":
        if _innermost_container(text, pos) == "[":
            return f"Expected ',' or ']' after array element in JSON at position {pos}"
        return f"Expected ',' or '}}' after property value in JSON at position {pos}"
    if reason == "Extra data":
        return f"Unexpected non-whitespace character after JSON at position {pos}"
    if reason.startswith("Unterminated string"):
        return f"Unterminated string in JSON at position {len(text)}"
    if reason.startswith("Invalid control character"):
        return f"Bad control character in string literal in JSON at position {pos}"
    if reason.startswith("Invalid \\escape") or reason.startswith("Invalid \\u"):
        # Python points at the backslash, V8 at the character after it.
        return f"Bad escaped character in JSON at position {pos + 1}"
    if text[pos] == '"':
        return f"Unexpected string in JSON at position {pos}"
    if text[pos] in "-0123456789":
        return f"Unexpected number in JSON at position {pos}"
    return _unexpected_token_text(text, pos)
