"""``Content-Disposition`` for a download, whatever characters its file name holds (RFC 6266).

A header value is Latin-1 on the wire, and a quoted ``filename`` cannot carry a name made of a
team id such as ``Équipe-Nord`` or ``东区``. The name goes in ``filename*=UTF-8''…`` (RFC 8187,
percent-encoded UTF-8), with an ASCII ``filename`` beside it for clients that do not read that.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

#: What may stand in the ASCII fallback as it is: no quote, backslash, control or non-ASCII character.
_UNSAFE_FALLBACK = re.compile(r'[^A-Za-z0-9!#$%&\'()*+,\-.^_`{|}~ ]')


def ascii_filename(filename: str) -> str:
    """``filename`` in ASCII: accents dropped (``é`` → ``e``), anything else left as ``_``."""
    folded = "".join(
        c if c.isascii() else (unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode("ascii") or "_") for c in filename
    )
    return _UNSAFE_FALLBACK.sub("_", folded) or "download"


def attachment(filename: str, *, disposition: str = "attachment") -> str:
    """The ``Content-Disposition`` value for downloading ``filename`` (any Unicode); ``inline`` for
    what is shown where it is fetched (a chart in an ``<img>``), saved under that name."""
    fallback = ascii_filename(filename)
    if fallback == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def inline(filename: str) -> str:
    return attachment(filename, disposition="inline")
