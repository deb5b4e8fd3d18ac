"""Request headers as the API layer reads them."""

from __future__ import annotations


def header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's headers as a plain dict (ASGI names are lower-case); a repeated header's values are
    joined with commas, as SigV4 canonicalises them. A dict lookup is what every request does a dozen times;
    Starlette's Headers scans its list on each."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers
