"""The public strategies: schema-valid variation, broken responses, faults; shrinking."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from pytest_visioncontract.catalog import BUILTIN_PROVIDERS, load_registry
from pytest_visioncontract.strategies import error_responses, faults, malformed_responses
from pytest_visioncontract.wire import FAULT_KINDS, Fault, WireResponse, envelope_problems

FAST = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("provider", BUILTIN_PROVIDERS)
@FAST
@given(data=st.data())
def test_every_drawn_error_is_schema_valid(provider: str, data: st.DataObject) -> None:
    drawn = data.draw(error_responses(provider))
    catalog = load_registry().get(provider)
    assert isinstance(drawn.response, WireResponse)
    assert envelope_problems(catalog.wire_format, drawn.response.body) == []
    assert drawn.response.status == drawn.entry.status
    assert drawn.entry.servable


def test_shrinks_to_the_documented_response() -> None:
    minimal = find(error_responses("azure_face", operations=["detect"]), lambda d: True)
    assert minimal.variation == "as documented"
    assert minimal.entry.id == "common-400-BadArgument-request-body-is"  # the first documented row


def test_variation_covers_what_the_documentation_leaves_open() -> None:
    seen = set()

    @settings(max_examples=300, database=None)
    @given(error_responses("azure_image_analysis", codes=["NotSupportedLanguage"]))
    def collect(drawn):  # type: ignore[no-untyped-def]
        seen.update(part.split(" ")[0] for part in drawn.variation.split(", "))

    collect()
    assert {"message", "no", "extra", "header"} <= seen


def test_retry_after_as_seconds_or_http_date() -> None:
    dates = find(
        error_responses("azure_face", codes=["429"]),
        lambda d: "Retry-After as HTTP date" in d.variation,
    )
    value = dict((k.lower(), v) for k, v in dates.response.headers)["retry-after"]
    assert email.utils.parsedate_to_datetime(value) is not None


def test_filters_are_validated_like_the_marker() -> None:
    from pytest_visioncontract.errors import VisionContractError

    with pytest.raises(VisionContractError, match="unknown operation 'detection' for azure_face"):
        error_responses("azure_face", operations=["detection"])


@FAST
@given(malformed_responses("bing_image_search"))
def test_malformed_responses_are_broken(drawn) -> None:  # type: ignore[no-untyped-def]
    response = drawn.response
    assert isinstance(response, WireResponse)
    assert response.status >= 400
    if drawn.variation.startswith(("truncated", "empty_body", "html", "non_utf8")):
        assert envelope_problems("bing", response.body) != []


def test_malformed_responses_shrink_to_a_documented_status() -> None:
    minimal = find(malformed_responses("huawei_ocr"), lambda d: True)
    assert "proxy" not in minimal.variation
    assert minimal.response.status == minimal.entry.status


@given(faults())
def test_faults(fault: Fault) -> None:
    assert fault.kind in FAULT_KINDS
