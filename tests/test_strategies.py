"""The public strategies: schema-valid variation, broken responses, faults; shrinking."""

from __future__ import annotations

import datetime
import email.utils
import time

import pytest
import requests
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from pytest_visioncontract import serve
from pytest_visioncontract.catalog import BUILTIN_PROVIDERS, load_registry
from pytest_visioncontract.strategies import (
    DrawnError,
    error_responses,
    faults,
    malformed_responses,
)
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
    seen: set[str] = set()

    @settings(max_examples=300, database=None)
    @given(error_responses("azure_image_analysis", codes=["NotSupportedLanguage"]))
    def collect(drawn: DrawnError) -> None:
        seen.update(part.split(" ")[0] for part in drawn.variation.split(", "))

    collect()
    assert {"message", "no", "extra", "header"} <= seen


def _wire(drawn: DrawnError) -> WireResponse:
    """The response of a documented or malformed draw (only faults() draws a Fault)."""
    assert isinstance(drawn.response, WireResponse), drawn
    return drawn.response


def _retry_after(drawn: DrawnError) -> str:
    value = _wire(drawn).header("Retry-After")
    assert value is not None, drawn
    return value


def _intended_delay(drawn: DrawnError) -> float:
    """The wait the drawn response asks for, as the strategy chose it."""
    delay = _wire(drawn).retry_after
    assert delay is not None, drawn
    return delay


def test_retry_after_as_seconds_or_http_date() -> None:
    throttled = error_responses("azure_face", codes=["429"])
    # a delay far from zero, so a header that ignored it could not pass
    seconds = find(
        throttled,
        lambda d: "Retry-After as HTTP date" not in d.variation and _intended_delay(d) >= 10,
    )
    value = _retry_after(seconds)
    assert value.isdigit(), value
    assert int(value) == _intended_delay(seconds)

    before = time.time()
    dates = find(
        throttled,
        lambda d: "Retry-After as HTTP date" in d.variation and _intended_delay(d) >= 10,
    )
    after = time.time()
    value = _retry_after(dates)
    assert not value.isdigit()
    when = email.utils.parsedate_to_datetime(value)
    assert when.tzinfo is not None and when.utcoffset() == datetime.timedelta(0), value  # GMT
    delay = _intended_delay(dates)
    # drawn at some moment between before and after; an HTTP date keeps whole seconds
    assert before + delay - 1 <= when.timestamp() <= after + delay, (value, delay)


def test_filters_are_validated_like_the_marker() -> None:
    from pytest_visioncontract.errors import VisionContractError

    with pytest.raises(VisionContractError, match="unknown operation 'detection' for azure_face"):
        error_responses("azure_face", operations=["detection"])


@FAST
@given(malformed_responses("bing_image_search"))
def test_malformed_responses_are_broken(drawn: DrawnError) -> None:
    response = _wire(drawn)
    assert response.status >= 400
    if drawn.variation.startswith(("truncated", "empty_body", "html", "non_utf8")):
        assert envelope_problems("bing", response.body) != []


def test_malformed_responses_shrink_to_a_documented_status() -> None:
    minimal = find(malformed_responses("huawei_ocr"), lambda d: True)
    assert "proxy" not in minimal.variation
    assert _wire(minimal).status == minimal.entry.status


# what requests raises for each fault served with serve()
FAULT_ERRORS: dict[str, type[requests.RequestException]] = {
    "connection_reset": requests.ConnectionError,
    "read_timeout": requests.ReadTimeout,
}


def test_fault_errors_cover_every_kind() -> None:
    assert sorted(FAULT_ERRORS) == sorted(FAULT_KINDS)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_faults(kind: str) -> None:
    fault = find(faults(), lambda f: f.kind == kind)
    assert fault == Fault(kind)
    # what it draws is usable: served, the client's request fails the way the fault says
    with serve(fault) as exchange, pytest.raises(FAULT_ERRORS[kind]):
        requests.get("https://api.bing.microsoft.com/v7.0/images/search", params={"q": "x"})
    assert len(exchange.requests) == 1
