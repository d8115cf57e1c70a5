"""Credentials are removed from every form in which a server or a user may echo them."""

from __future__ import annotations

import pytest

from srlkit.redact import MASK, redact_text, redact_url


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param("Incorrect API key provided: Bearer sk-abc123XYZ456def.", "sk-abc123XYZ456def",
                     id="bearer_echo"),
        pytest.param('{"error": {"message": "Authorization: Bearer tok_9f8e7d6c"}}', "tok_9f8e7d6c",
                     id="authorization_header_json"),
        pytest.param("x-api-key: abcdef123456 rejected", "abcdef123456", id="api_key_header"),
        pytest.param("Incorrect API key provided: sk-proj-AAAA1111BBBB2222.", "sk-proj-AAAA1111BBBB2222",
                     id="openai_key_shape"),
        pytest.param("token hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567 expired",
                     "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", id="hf_token"),
        pytest.param("POST http://alice:hunter2pw@host:8000/v1/chat", "hunter2pw", id="url_userinfo"),
        pytest.param("GET https://h/v1?key=AIzaSecret&x=1", "AIzaSecret", id="url_key_param"),
        pytest.param("GET https://h/v1?x=1&api_key=zzz999", "zzz999", id="url_api_key_param"),
        pytest.param("GET https://h/v1?access_token=qq77&x=1", "qq77", id="url_access_token"),
    ],
)  # fmt: skip
def test_credentials_are_redacted(text, secret):
    out = redact_text(text)
    assert secret not in out and MASK in out


def test_the_exact_key_is_redacted_whatever_its_shape():
    assert redact_text("your key 4f9a-custom-key-77 is wrong", ["4f9a-custom-key-77"]) == (
        f"your key {MASK} is wrong"
    )


def test_ordinary_text_and_urls_are_left_alone():
    text = (
        "https://api.openai.com/v1 model gpt-4.1: token count 5, keys sorted; x = key; "
        "runs/sk-learn-baseline-runs/ and hf_cache"
    )
    assert redact_text(text) == text
    assert redact_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
