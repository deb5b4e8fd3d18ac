"""The API sees request headers as a plain dict, repeated headers joined as SigV4 canonicalises them."""

from openssm.api.headers import header_map


def test_headers_become_a_dict_keyed_by_their_asgi_lower_case_names() -> None:
    assert header_map([(b"host", b"localhost:9443"), (b"x-amz-target", b"AmazonSSM.GetParameter")]) == {
        "host": "localhost:9443", "x-amz-target": "AmazonSSM.GetParameter"}


def test_a_repeated_header_keeps_every_value_joined_by_commas_in_order() -> None:
    assert header_map([(b"x-custom", b"a"), (b"host", b"h"), (b"x-custom", b"b")]) == {
        "x-custom": "a,b", "host": "h"}


def test_values_are_latin_1_as_http_carries_them() -> None:
    assert header_map([(b"user-agent", "caf\u00e9".encode("latin-1"))]) == {"user-agent": "caf\u00e9"}
