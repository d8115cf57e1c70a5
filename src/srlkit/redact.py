"""Redact credentials from anything srlkit prints or writes: error lines, URLs, metadata.

Why one module: a credential reaches the terminal or a file by many roads (a server's error
body that echoes the ``Authorization`` header, an endpoint URL with ``user:pass@`` or
``?key=`` given as ``--teacher``, a config saved in ``stats.json``). Every one of them passes
through :func:`redact_text` (free text) or :func:`redact_url` (an URL kept as data), so a new
road needs one call, not a new pattern.

What is redacted: the value after ``Bearer``/``Basic`` and after an ``Authorization`` or
``api-key`` header name; the user information of an URL (``scheme://user:pass@``); the value of
query parameters whose name says key, token, secret, password or signature; strings shaped
like provider keys (``sk-...``, ``hf_...``, ``AIza...``, long and with digits); and any exact secret passed in
``secrets`` (the key a teacher was given).

>>> redact_url("http://user:pass@host:8000/v1?key=abc&model=m")
'http://[redacted]@host:8000/v1?key=[redacted]&model=m'
>>> redact_text("Incorrect API key provided: Bearer sk-abcdefghijklmnop.")
'Incorrect API key provided: Bearer [redacted].'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[redacted]"

_SECRET_PARAM = r"(?:[a-z_\-]*(?:key|token|secret|password|passwd|pwd|sig|signature|auth)[a-z_\-]*)"
_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,20}://)[^/\s@?#]{1,512}@")
_QUERY_RE = re.compile(rf"(?i)([?&;]{_SECRET_PARAM}=)[^&#\s\"'<>]+")
_SCHEME_RE = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]*[^\s\"',;.]")
_HEADER_RE = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key)(\"?\s*[:=]\s*\"?)"
    r"(?!\[redacted\]|bearer\b|basic\b)[^\s\"',;]*[^\s\"',;.]"
)
_KEY_SHAPE_RE = re.compile(  # long and with digits, so a folder named sk-learn-runs is left alone
    r"\bsk-(?=[\w\-]*\d)[\w\-]{16,}|\bhf_[A-Za-z0-9]{30,}|\bAIza[\w\-]{30,}"
)


def redact_url(url: str) -> str:
    """``url`` without user information and without secret query values."""
    return _QUERY_RE.sub(rf"\1{MASK}", _USERINFO_RE.sub(rf"\1{MASK}@", url))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential it may hold replaced by ``[redacted]``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = redact_url(text)
    text = _SCHEME_RE.sub(rf"\1 {MASK}", text)
    text = _HEADER_RE.sub(rf"\1\2{MASK}", text)
    return _KEY_SHAPE_RE.sub(MASK, text)
