"""Statement positions in policy source text, as IAM's simulator reports them."""

from __future__ import annotations

from openssm.iam.policy.positions import Position, statement_spans

TEXT = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {
      "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"
    }
  ]
}"""


def test_each_statement_has_its_start_and_end_line_and_column() -> None:
    spans = statement_spans(TEXT)
    assert spans[0] == (Position(4, 5), Position(4, 58))
    assert spans[1] == (Position(5, 5), Position(7, 5))


def test_a_single_statement_object_and_compact_text() -> None:
    compact = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}'
    assert statement_spans(compact) == [(Position(1, 37), Position(1, 82))]
