"""The pytest layer: options, the marker, the fixture, the verdict hook and the report.

Hooks and fixtures only; the work is done by the domain modules. vcrpy is imported (through
``replay``) only when a marked test first runs, so ``pytest --help`` stays fast.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Generator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from pytest_visioncontract.cassettes import write_atomic
from pytest_visioncontract.catalog import Registry, load_registry
from pytest_visioncontract.errors import VisionContractError
from pytest_visioncontract.scrubbing import (
    Rules,
    Scrubber,
    credentials_from_environment,
    leaks_in_bytes,
)
from pytest_visioncontract.selection import (
    MARKER,
    SIGNATURE,
    Case,
    PropertyCase,
    VisionError,
    expand,
    parse_marker,
)

if TYPE_CHECKING:
    from pytest_visioncontract.exchange import Exchange
    from pytest_visioncontract.replay import Server

FIXTURE = "vision_error"
RECORD_MODES = ("none", "once", "new_episodes", "all")
CASSETTE_MARKER_HELP = (
    "vision_cassette(name=None): record (--vision-record) or replay the test's HTTP traffic in a "
    "scrubbed vcrpy cassette; request the vision_cassette fixture."
)
BAD_RECORD_MODE = "vision_record: expected one of none, once, new_episodes, all; got {got!r}"
MARKER_HELP = (
    f"{SIGNATURE}: run the test once for every documented error of the provider that fits the "
    "filters, serve it to the client code, and judge whether the client handled it."
)
MARKER_WITHOUT_FIXTURE = (
    f"{MARKER}: {{name}} is marked but does not request the {FIXTURE!r} fixture; "
    f"add {FIXTURE} to its arguments: def {{name}}({FIXTURE}): ..."
)
FIXTURE_WITHOUT_MARKER = (
    f"{FIXTURE}: {{name}} requests the {FIXTURE!r} fixture but has no @pytest.mark.{MARKER} "
    f"marker; add one, e.g. @pytest.mark.{MARKER}('azure_face', operations=['detect'])"
)
BAD_FAIL_UNDER = "--vision-fail-under: expected a percentage from 0 to 100, got {got!r}"
BAD_REPORT_PATH = "{option}: cannot write to {path!r}: {problem}"

REGISTRY_KEY = pytest.StashKey[Registry]()
RULES_KEY = pytest.StashKey[Rules]()
EXCHANGE_KEY = pytest.StashKey["tuple[Case, Exchange]"]()
PROPERTY_KEY = pytest.StashKey["tuple[PropertyCase, Exchange, VisionError]"]()
VERDICT_KEY = pytest.StashKey[Any]()
RECORDS_KEY = pytest.StashKey["list[dict[str, Any]]"]()
DEFAULT_CAP = 50  # requests one case answers before it refuses (a client retrying forever)
DEFAULT_MAX_EXAMPLES = 50
RECORD_KEY = "visioncontract"
JUNIT_PREFIX = "vision."  # the case's properties in JUnit XML: vision.provider, ...
JUNIT_FIELDS = ("provider", "operation", "entry", "status", "code", "inner_code", "verdict")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("visioncontract", "contract tests for cloud vision errors")
    group.addoption(
        "--vision-report",
        metavar="PATH",
        default=None,
        help="write documented-error coverage as JSON to PATH",
    )
    group.addoption(
        "--vision-report-html",
        metavar="PATH",
        default=None,
        help="write documented-error coverage as a self-contained HTML page to PATH",
    )
    group.addoption(
        "--vision-fail-under",
        metavar="PCT",
        default=None,
        help="fail the session (exit 1) when the documented errors handled are below PCT%% "
        "of the documented errors of the providers the run served: an error counts as handled "
        "when every case of it that ran was handled; errors of those providers that no test "
        "ran count as not handled (default: ini vision_fail_under, else no minimum)",
    )
    group.addoption(
        "--vision-catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="load an extra provider catalog (JSON); repeatable",
    )
    group.addoption(
        "--vision-record",
        choices=RECORD_MODES,
        default=None,
        help="record cassettes of vision_cassette tests against live services "
        "(default: ini vision_record, else none = replay only, network blocked)",
    )
    parser.addini("vision_record", "default cassette record mode", default="none")
    parser.addini(
        "vision_cassette_dir", "folder of cassettes, beside each test file", default="cassettes"
    )
    parser.addini(
        "vision_scrub_names",
        "more header, query parameter and body field names whose values are credentials",
        type="linelist",
    )
    parser.addini(
        "vision_scrub_patterns",
        "regular expressions of credential shapes to scrub anywhere (and refuse if left)",
        type="linelist",
    )
    parser.addini("vision_scrub_headers", "like vision_scrub_names (headers)", type="linelist")
    parser.addini("vision_scrub_query", "like vision_scrub_names (query)", type="linelist")
    parser.addini(
        "vision_store_bodies",
        "keep request bodies as side files (by content hash) next to the cassettes",
        type="bool",
        default=False,
    )
    parser.addini("vision_fail_under", "minimum % of documented errors handled", default="")
    parser.addini(
        "vision_max_examples",
        f"examples per source='hypothesis' test (default {DEFAULT_MAX_EXAMPLES})",
        default=str(DEFAULT_MAX_EXAMPLES),
    )
    parser.addini(
        "vision_catalogs", "extra provider catalog files (JSON)", type="paths", default=[]
    )


def _fail_under(config: pytest.Config) -> float | None:
    raw = config.getoption("vision_fail_under") or config.getini("vision_fail_under") or None
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 100:
        raise pytest.UsageError(BAD_FAIL_UNDER.format(got=raw))
    return value


def _report_path(config: pytest.Config, option: str) -> Path | None:
    """The report file an option names, checked before any test runs: a folder, a missing or
    unwritable folder, or an existing file that is not one of the plugin's reports (a test
    module, say) is a usage error, and nothing is written over it."""
    from pytest_visioncontract.report import is_report

    raw = config.getoption(option)
    if not raw:
        return None
    path = Path(raw)
    name = "--" + option.replace("_", "-")
    if not path.parent.resolve().is_dir():
        problem = f"the folder {str(path.parent)!r} does not exist"
    elif path.is_dir():
        problem = "it is a folder; give a file name"
    elif path.exists() and not path.is_file():
        problem = "it is not a regular file"
    elif path.exists() and not is_report(path):
        problem = "it exists and is not a pytest-visioncontract report; nothing was written over it"
    elif not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = "permission denied"
    else:
        return path
    raise pytest.UsageError(BAD_REPORT_PATH.format(option=name, path=raw, problem=problem))


BAD_MAX_EXAMPLES = "vision_max_examples: expected a whole number from 1 to 10000, got {got!r}"


def _max_examples(config: pytest.Config) -> int:
    raw = config.getini("vision_max_examples")
    if not (raw.isdigit() and 1 <= int(raw) <= 10000):
        raise pytest.UsageError(BAD_MAX_EXAMPLES.format(got=raw))
    return int(raw)


def _hypothesis_seed(config: pytest.Config) -> int:
    """Hypothesis' own --hypothesis-seed when given, else one chosen for this session."""
    import random

    worker = getattr(config, "workerinput", None)
    if worker is not None and "visioncontract_seed" in worker:
        return int(worker["visioncontract_seed"])  # the controller's, so the header holds
    given = config.getoption("hypothesis_seed", None)
    if given is not None:
        try:
            return int(given)
        except ValueError:
            raise pytest.UsageError(
                f"--hypothesis-seed: expected a whole number, got {given!r}"
            ) from None
    return random.SystemRandom().randrange(2**32)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line("markers", CASSETTE_MARKER_HELP)
    mode = config.getoption("vision_record") or config.getini("vision_record")
    if mode not in RECORD_MODES:
        raise pytest.UsageError(BAD_RECORD_MODE.format(got=mode))
    try:
        config.getini("vision_store_bodies")
    except (ValueError, pytest.UsageError) as exc:  # pytest 9 raises the latter
        got = str(exc).removeprefix("invalid truth value ")
        raise pytest.UsageError(f"vision_store_bodies: expected true or false, got {got}") from None
    extra = [str(p) for p in config.getini("vision_catalogs")]
    extra += config.getoption("vision_catalog")
    try:
        config.stash[REGISTRY_KEY] = load_registry(tuple(extra))
        config.stash[RULES_KEY] = Rules.build(
            config.stash[REGISTRY_KEY].all(),
            names=[
                *config.getini("vision_scrub_names"),
                *config.getini("vision_scrub_headers"),
                *config.getini("vision_scrub_query"),
            ],
            patterns=config.getini("vision_scrub_patterns"),
        )
    except VisionContractError as exc:
        raise pytest.UsageError(str(exc)) from None
    session = VisionSession(
        config,
        fail_under=_fail_under(config),
        json_path=_report_path(config, "vision_report"),
        html_path=_report_path(config, "vision_report_html"),
    )
    config.pluginmanager.register(session, "visioncontract-session")


def pytest_report_header(config: pytest.Config) -> list[str]:
    registry = config.stash[REGISTRY_KEY]
    catalogs = ", ".join(f"{c.provider} ({len(c.servable_entries)})" for c in registry.all())
    lines = [f"visioncontract: documented errors per catalog: {catalogs}"]
    session: VisionSession | None = config.pluginmanager.get_plugin("visioncontract-session")
    if session is not None:
        extras = []
        extras.append(
            f"hypothesis seed {session.hypothesis_seed} "
            f"(--hypothesis-seed={session.hypothesis_seed} to reproduce), "
            f"max_examples {session.max_examples}"
        )
        if session.fail_under is not None:
            extras.append(f"fail under {session.fail_under:g}%")
        if session.json_path:
            extras.append(f"JSON report {session.json_path}")
        if session.html_path:
            extras.append(f"HTML report {session.html_path}")
        if extras:
            lines.append("visioncontract: " + ", ".join(extras))
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    markers = list(metafunc.definition.iter_markers(MARKER))
    if not markers:
        return
    if len(markers) > 1:
        pytest.fail(
            f"{metafunc.definition.nodeid}: {MARKER} is given {len(markers)} times (on the test, "
            "its class or its module); give one: one provider per test, or split the test",
            pytrace=False,
        )
    marker = markers[0]
    if FIXTURE not in metafunc.fixturenames:
        pytest.fail(MARKER_WITHOUT_FIXTURE.format(name=metafunc.function.__name__), pytrace=False)
    registry = metafunc.config.stash[REGISTRY_KEY]
    try:
        selection = parse_marker(marker.args, marker.kwargs, registry)
        if selection.source == "cassettes":
            from pytest_visioncontract.cassettes import recorded_cases

            folder = metafunc.definition.path.parent / metafunc.config.getini("vision_cassette_dir")
            cases: Sequence[Any] = recorded_cases(selection, registry, folder)
        else:
            cases = expand(selection, registry)
    except (VisionContractError, ValueError) as exc:
        problem = str(exc)
    else:
        metafunc.parametrize(FIXTURE, cases, ids=[c.label for c in cases], indirect=True)
        return
    pytest.fail(f"{metafunc.definition.nodeid}: {problem}", pytrace=False)


def _server(config: pytest.Config) -> Server:
    session: VisionSession = config.pluginmanager.getplugin("visioncontract-session")
    return session.server


@pytest.fixture
def vision_error(request: pytest.FixtureRequest) -> Generator[VisionError, None, None]:
    """The documented error this run of the test is served (see @pytest.mark.vision_errors)."""
    case = getattr(request, "param", None)
    if not isinstance(case, (Case, PropertyCase)):
        pytest.fail(FIXTURE_WITHOUT_MARKER.format(name=request.node.name), pytrace=False)
    from pytest_visioncontract.exchange import Exchange, virtual_sleep
    from pytest_visioncontract.verdict import unexpected_request

    if isinstance(case, PropertyCase):  # each example sets its own case and script
        first = expand_first(case)
        exchange = Exchange(
            route=case.catalog.operation_for,
            accepts=first.accepts,
            script=first.script(),
            unmatched_message=lambda r: unexpected_request(view.case, r),
            cap=DEFAULT_CAP,
        )
        view = VisionError(first, exchange)
        request.node.stash[PROPERTY_KEY] = (case, exchange, view)
    else:
        exchange = Exchange(
            route=case.catalog.operation_for,
            accepts=case.accepts,
            script=case.script(),
            unmatched_message=lambda r: unexpected_request(case, r),
            cap=case.retry.cap if case.retry else DEFAULT_CAP,
        )
        view = VisionError(case, exchange)
        request.node.stash[EXCHANGE_KEY] = (case, exchange)
    with _server(request.config).serving(exchange), virtual_sleep(exchange):
        yield view


@pytest.fixture
def vision_cassette(request: pytest.FixtureRequest) -> Generator[Any, None, None]:
    """The test's traffic in a scrubbed cassette: recorded with --vision-record, else replayed."""
    from pytest_visioncontract.recording import SafePersister, vcr_config

    config = request.config
    name = _cassette_name(request.node.get_closest_marker("vision_cassette")) or request.node.name
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    folder = request.path.parent / config.getini("vision_cassette_dir") / request.path.stem
    for place in (folder.parent, folder, folder / "bodies"):
        if place.exists() and not place.is_dir():
            pytest.fail(
                f"pytest-visioncontract: the cassette folder {place} is a file; move it away "
                "or set the ini vision_cassette_dir to another folder",
                pytrace=False,
            )
    scrubber = Scrubber(
        config.stash[RULES_KEY],
        bodies_dir=folder / "bodies" if config.getini("vision_store_bodies") else None,
    )
    mode = config.getoption("vision_record") or config.getini("vision_record")
    secrets = credentials_from_environment()
    named = leaks_in_bytes(name.encode(), "its file name", config.stash[RULES_KEY], secrets)
    if mode != "none" and named:  # a parametrized id can carry a credential into the name
        pytest.fail(
            f"pytest-visioncontract: refused to record this test's cassette in {folder}: "
            f"{named[0].description}. Nothing was written; name the cassette: "
            "@pytest.mark.vision_cassette('name')",
            pytrace=False,
        )
    persister = SafePersister(config.stash[REGISTRY_KEY], secrets, scrubber)
    context = vcr_config(mode, persister).use_cassette(str(folder / f"{name}.yaml"))
    problem = None
    try:
        cassette = context.__enter__()
    except VisionContractError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    try:
        yield cassette
    finally:
        context.__exit__(None, None, None)
        if persister.refusal is not None:
            pytest.fail(persister.refusal, pytrace=False)


BAD_CASSETTE_MARKER = (
    "vision_cassette: takes one cassette name, vision_cassette('name') or "
    "vision_cassette(name='name'), a non-empty string; got {got}"
)


def _cassette_name(marker: pytest.Mark | None) -> str | None:
    """The name a vision_cassette marker gives, checked: one non-empty string, nothing else."""
    if marker is None:
        return None
    extra = [k for k in marker.kwargs if k != "name"]
    given = [*marker.args, *([marker.kwargs["name"]] if "name" in marker.kwargs else [])]
    if not extra and len(given) <= 1 and all(isinstance(g, str) and g.strip() for g in given):
        return given[0] if given else None
    shown = ", ".join(
        [repr(a) for a in marker.args] + [f"{k}={v!r}" for k, v in marker.kwargs.items()]
    )
    pytest.fail(BAD_CASSETTE_MARKER.format(got=f"vision_cassette({shown})"), pytrace=False)


def expand_first(case: PropertyCase) -> Case:
    """A placeholder case for a property's fixture value until the first example is drawn."""
    from pytest_visioncontract.selection import wanted_entries
    from pytest_visioncontract.wire import render

    entry = wanted_entries(case.selection, case.catalog)[0]
    return Case(case.selection, case.catalog, entry, "any", render(case.catalog, entry))


def _is_user_assertion(item: pytest.Function, exc: BaseException) -> bool:
    """An AssertionError raised in the test's own file (its body or its helpers), not the client."""
    if not isinstance(exc, AssertionError):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename == str(item.path)


_PASS_THROUGH = (
    pytest.skip.Exception,
    pytest.fail.Exception,
    pytest.xfail.Exception,
    pytest.exit.Exception,
    KeyboardInterrupt,
)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    served = pyfuncitem.stash.get(EXCHANGE_KEY, None)
    if served is None:
        return (yield)
    from pytest_visioncontract.verdict import NOT_EXERCISED, UNHANDLED, Verdict, judge

    case, exchange = served
    try:
        result = yield
    except _PASS_THROUGH:
        raise
    except BaseException as exc:
        if _is_user_assertion(pyfuncitem, exc) and not exchange.unmatched:
            outcome = UNHANDLED if exchange.requests else NOT_EXERCISED
            pyfuncitem.stash[VERDICT_KEY] = Verdict(outcome, None, "the test's assertion failed")
            raise
        verdict = judge(case, exchange, exc)
    else:
        verdict = judge(case, exchange, None)
    pyfuncitem.stash[VERDICT_KEY] = verdict
    if verdict.message is not None and verdict.outcome != "handled":
        pytest.fail(verdict.message, pytrace=False)
    return result if verdict.exception is None else True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "call":
        verdict = item.stash.get(VERDICT_KEY, None)
        served = item.stash.get(EXCHANGE_KEY, None)
        if verdict is not None and served is not None:
            from pytest_visioncontract.report import record

            one = record(served[0], verdict, item.nodeid)
            report.user_properties.append((RECORD_KEY, one))
            # JUnit XML reads properties from the teardown report, made from the item's: set them
            # there (replacing an earlier attempt's, under pytest-rerunfailures)
            item.user_properties[:] = [
                p for p in item.user_properties if not str(p[0]).startswith(JUNIT_PREFIX)
            ] + [
                (JUNIT_PREFIX + key, str(one[key]))
                for key in JUNIT_FIELDS
                if one.get(key) is not None
            ]
        for one in item.stash.get(RECORDS_KEY, []):
            report.user_properties.append((RECORD_KEY, one))
    return report


ASYNC_WITHOUT_RUNNER = (
    f"{MARKER}: {{name}} is an async def test and no plugin runs it: mark it "
    "@pytest.mark.asyncio (pytest-asyncio, or its asyncio_mode = auto) or @pytest.mark.anyio "
    "(anyio)"
)


class _Property:
    """Stands in for a ``source="hypothesis"`` test function while it is called.

    ``hypothesis.inner_test`` is the test function, as on a Hypothesis ``@given`` test, so an
    async plugin that supports Hypothesis replaces it with a synchronous call of the coroutine
    (anyio's plugin does, in its test runner and event loop). Calling the stand-in runs the
    property: every example calls ``hypothesis.inner_test`` with the test's arguments.
    """

    def __init__(
        self,
        session: VisionSession,
        item: pytest.Function,
        prop: tuple[PropertyCase, Exchange, VisionError],
        test: Any,
    ) -> None:
        self.hypothesis = SimpleNamespace(inner_test=test)
        self._session = session
        self._item = item
        self._prop = prop

    def __call__(self, **testargs: Any) -> None:
        test = self.hypothesis.inner_test
        if inspect.iscoroutinefunction(test):
            pytest.fail(ASYNC_WITHOUT_RUNNER.format(name=self._item.name), pytrace=False)
        from pytest_visioncontract.strategies import run_property

        case, exchange, view = self._prop
        failure, records = run_property(
            self._item,
            case,
            exchange,
            view,
            call=lambda: test(**testargs),
            seed=self._session.hypothesis_seed,
            max_examples=case.selection.max_examples or self._session.max_examples,
            pass_through=_PASS_THROUGH,
            is_user_assertion=_is_user_assertion,
        )
        self._item.stash[RECORDS_KEY] = records
        if failure is not None:
            pytest.fail(failure, pytrace=False)


class VisionSession:
    """Per-session state: the vcrpy server, the collected records, the report files."""

    def __init__(
        self,
        config: pytest.Config,
        *,
        fail_under: float | None,
        json_path: Path | None,
        html_path: Path | None,
    ) -> None:
        self.config = config
        self.fail_under = fail_under
        self.json_path = json_path
        self.html_path = html_path
        # each test's records, by node id: a test run again (pytest-rerunfailures) counts once,
        # with its last attempt's verdict
        self.by_test: dict[str, list[dict[str, Any]]] = {}
        self.fail_under_message: str | None = None
        self._server: Server | None = None
        self.max_examples = _max_examples(config)
        self.hypothesis_seed = _hypothesis_seed(config)

    @property
    def server(self) -> Server:
        if self._server is None:
            from pytest_visioncontract.replay import Server

            self._server = Server()
        return self._server

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            # Keep vcrpy's patches on across consecutive marked tests; drop them before others.
            leaving = nextitem is None or nextitem.get_closest_marker(MARKER) is None
            if leaving and self._server is not None and self._server.active:
                self._server.deactivate()

    @pytest.hookimpl(wrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, object, object]:
        """Run a ``source="hypothesis"`` test as a property over drawn responses.

        The test function is swapped for a :class:`_Property` for the call: pytest's own
        ``pytest_pyfunc_call`` then runs the property, and an async plugin that runs Hypothesis
        tests (anyio's turns ``obj.hypothesis.inner_test`` into a synchronous call in its test
        runner) makes each example's coroutine run where the plugin runs coroutine tests.
        pytest-asyncio has already made ``obj`` synchronous (in its event loop) by then.
        """
        prop = pyfuncitem.stash.get(PROPERTY_KEY, None)
        if prop is None:
            return (yield)
        original = pyfuncitem.obj
        pyfuncitem.obj = _Property(self, pyfuncitem, prop, original)
        try:
            return (yield)
        finally:
            pyfuncitem.obj = original

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: workers draw with the controller's seed."""
        node.workerinput["visioncontract_seed"] = self.hypothesis_seed

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        records = [
            value
            for key, value in report.user_properties
            if key == RECORD_KEY and isinstance(value, dict)
        ]
        if records or report.nodeid in self.by_test:
            self.by_test.pop(report.nodeid, None)  # the last attempt goes last, too
            self.by_test[report.nodeid] = records

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r for records in self.by_test.values() for r in records]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput") or not self.records:
            return
        from pytest_visioncontract import report

        registry = self.config.stash[REGISTRY_KEY]
        coverage = report.summarize(self.records, registry)
        if self.json_path:
            write_atomic(self.json_path, report.as_json(coverage))
        if self.html_path:
            write_atomic(self.html_path, report.as_html(coverage, registry))
        if self.fail_under is not None:
            pct = report.total_handled_pct(coverage)
            if pct < self.fail_under:
                self.fail_under_message = (
                    f"FAIL: documented errors handled {pct:.1f}% is below "
                    f"--vision-fail-under {self.fail_under:g}%"
                )
                if session.exitstatus == pytest.ExitCode.OK:
                    session.exitstatus = pytest.ExitCode.TESTS_FAILED
            else:
                self.fail_under_message = (
                    f"documented errors handled {pct:.1f}% (required {self.fail_under:g}%)"
                )

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.records:
            return
        from pytest_visioncontract import report

        coverage = report.summarize(self.records, self.config.stash[REGISTRY_KEY])
        terminalreporter.write_sep("=", "vision contract: documented errors")
        for line in report.terminal_lines(coverage):
            terminalreporter.write_line(line)
        for path in (self.json_path, self.html_path):
            if path:
                terminalreporter.write_line(f"report written to {path}")
        if self.fail_under_message:
            terminalreporter.write_line(self.fail_under_message)

    def pytest_unconfigure(self) -> None:
        if self._server is not None:
            self._server.deactivate()
