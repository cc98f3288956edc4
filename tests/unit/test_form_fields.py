"""A form body is read as urllib reads it (`bot.channels.payload.form_fields`, issue #21 item 2): the fast decoding
of `%XX` gives urllib's text for every input, escapes that are not escapes, backslashes and non-ASCII included."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote_plus, unquote_plus, urlencode

from hypothesis import example, given
from hypothesis import strategies as st

from bot.channels.payload import form_fields, unquote_form

# What a form body is made of, weighted towards what breaks a decoder: escapes, half escapes, backslashes.
PIECES = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["%", "%4", "%41", "%zz", "%e5", "%C3%A5", "%c3", "%FF%FE", "+", "\\", "\\x41", "%5C", "=", "&",
                     "%25", "%2B", "\\u00e5", "%00", "\\N{BULLET}", "å", "%%41"]),
)
FORM_TEXT = st.lists(PIECES, max_size=12).map("".join)


@given(FORM_TEXT)
@example("payload=%7B%22a%22%3A+%22%C3%A5%22%7D")
@example("%e5%")
@example("\\x41%41")
@example("a%2")
def test_a_form_text_is_decoded_as_urllib_decodes_it(text: str) -> None:
    assert unquote_form(text) == unquote_plus(text)


@given(FORM_TEXT)
@example("a=1&a=2&&b&c=")
def test_a_form_body_has_the_fields_urllib_finds(text: str) -> None:
    assert form_fields(text) == dict(parse_qsl(text, keep_blank_values=True))


@given(st.recursive(st.none() | st.booleans() | st.text(), lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=12))
def test_a_slack_payload_comes_back_whole(value: object) -> None:
    body = urlencode({"payload": json.dumps(value, ensure_ascii=False)})
    assert json.loads(form_fields(body)["payload"]) == value
    assert form_fields("payload=" + quote_plus(json.dumps(value)))["payload"] == json.dumps(value)
