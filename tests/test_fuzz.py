"""Fuzz: bad input anywhere gives a form error, a redirect or a 4xx, never a server error.

Every URL pattern of the project (found by walking the URL resolver, so new
pages are covered without editing this file) is requested with good and bad
values in each of its parameters; every page's links and GET forms are
replayed with bad values in their query parameters; every form a page shows
is posted with bad values in its fields. All of it as a superuser, a clerk
and a leader of a small plan with a target of every kind (and anonymously).

Deterministic: a fixed seed picks the bounded sample of field mutations.
Each request runs inside a savepoint that is rolled back, and the client's
cookies are put back afterwards, so every request sees the same data and the
same logged-in session whatever ran before it.
"""

import logging
import random
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils.regex_helper import normalize

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership, Profile
from tracker.api.models import ApiToken
from tracker.imports.models import ImportBatch, RegisterImport
from tracker.registers.models import (
    Coordination,
    Firm,
    FirmUpdate,
    Listing,
    Project,
    ProjectUpdate,
    RegisterFigure,
    ScheduleMonth,
)
from tracker.releases.models import ReleaseBatch
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import (
    Indicator,
    MonthlyPlanPoint,
    PeerGroup,
    ProgressEntry,
    PublishedRank,
    RecordedResult,
    Region,
    SeriesValue,
    Target,
    Unit,
)

pytestmark = pytest.mark.django_db

SEED = 20220601
ADMIN = "/" + settings.ADMIN_URL
USERS = ("superuser", "clerk", "leader")
Role = Membership.Role

# Bad values for a URL path segment (already percent-encoded, as a browser would send them).
BAD_SEGMENTS = [
    "abc", "0", "-1", "99999999999999999999", "1e400", "2022-13", "0000-00", "%00", "a%00b", "%01",
    "%C2%B2", "%FF", "%20", "..", "x" * 3000,
]
# Bad values for a query parameter or a form field (sent as they are, the client encodes them).
HUGE, LONG = "1" + "0" * 30, "x" * 10000
BAD_VALUES = ["", "abc", "0", "-1", "-0.5", HUGE, "1e400", "NaN", "inf", "2022-13", "2022-02-30", "\x00",
              "a\x00b", "\x01", "²", LONG]
# Sent in every field of a form at once (the first error of one field must not hide another's crash);
# each form gets NUL (which PostgreSQL refuses) and a seeded choice of the others.
ALL_FIELDS_BAD = ["abc", "-1", HUGE, "1e400", "\x00", LONG]
ALL_FIELDS_BAD_PER_FORM = {"superuser": 2, "clerk": 2, "leader": 1}
# Per form: at most this many single-field mutations (never the slow LONG) and as many options swept.
FORM_MUTATIONS = {"superuser": 2, "clerk": 2, "leader": 1}
SINGLE_BAD = [value for value in BAD_VALUES if value is not LONG]
# Query parameters any page might read; a few of them per page, on top of those its links and forms use.
COMMON_QUERY_KEYS = ["q", "o", "p", "page", "period", "sort", "_export", "e", "all", "_popup", "_to_field",
                     "_changelist_filters", "next", "unit", "status"]
COMMON_KEYS_PER_PAGE = {"superuser": 1, "clerk": 0, "leader": 0}
# At most this many of a page's own query keys get a bad value (seeded sample).
OWN_KEYS_PER_PAGE = {"superuser": 2, "clerk": 2, "leader": 1}
# Options tried one by one in small selects (e.g. a list's actions, a target's kind).
MAX_OPTIONS_SWEPT = 8
# Each user tries one in this many bad URL paths (seeded sample), and POSTs to a third of those.
PATH_SAMPLE = {"superuser": 4, "clerk": 10, "leader": 10, "anonymous": 8}
# Not in the URL resolver: static files (WhiteNoise) and no page at all.
EXTRA_URLS = ["/static/reports/report.css", "/static/%00", "/static/..%2Fsettings.py", "/no-such-page/"]


@dataclass
class Failure:
    user: str
    method: str
    url: str
    payload: str
    status: int
    error: str

    def __str__(self):
        return f"{self.status} {self.method} {self.url[:200]} {self.payload[:200]} [{self.user}] {self.error}"


@dataclass
class World:
    good: dict
    clients: dict = field(default_factory=dict)
    cookies: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    requests: int = 0
    entry: ProgressEntry | None = None  # the clerk's draft
    unit: Unit | None = None  # the clerk's unit


def _short(data):
    if not data:
        return ""
    return repr({k: (v[:40] + f"…({len(v)})" if isinstance(v, str) and len(v) > 40 else v)
                 for k, v in data.items()})


def copied(cookies):
    jar = SimpleCookie()
    jar.update(cookies)
    return jar


def request(world, who, method, url, data=None):
    """One request in a savepoint that is rolled back; a status >= 500 is recorded with its exception."""
    client = world.clients[who]
    sid = transaction.savepoint_create()
    try:
        response = getattr(client, method)(url, data or {})
    finally:
        transaction.savepoint_rollback(sid)
        client.cookies = copied(world.cookies[who])
    world.requests += 1
    if response.streaming:
        # Read to the end: the client then closes the file without closing the test's database connection.
        b"".join(response.streaming_content)
    if response.status_code >= 500:
        exc = getattr(response, "exc_info", None)
        error = repr(exc[1])[:200] if exc else ""
        world.failures.append(Failure(who, method.upper(), url, _short(data), response.status_code, error))
    return response


def report(world):
    lines = "\n".join(str(f) for f in world.failures[:60])
    more = len(world.failures) - 60
    return f"{len(world.failures)} server errors in {world.requests} requests:\n{lines}" + (
        f"\n… and {more} more" if more > 0 else "")


# --- the world: a small plan plus one row of every model an admin page lists ---------------------


@pytest.fixture
def quiet_logs():
    """Thousands of 4xx warnings are noise here; server errors are reported by the test itself."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security", "tracker")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def small_plan():
    """A plan with a target of every kind (a sub-target in another unit), entries in every state.

    Small on purpose: the admin pages render every row and dropdown option, and the fuzz renders
    them hundreds of times. Returns the users by role and the clerk's draft entry.
    """
    plan = make_plan(2022)
    first, second = make_section(plan, 1), make_section(plan, 2)
    city = make_unit("city", name="市经信局", kind=Unit.Kind.BUREAU, email="city@example.com")
    county = make_unit("county", name="谯城区", kind=Unit.Kind.COUNTY, parent=city)
    other = make_unit("other", name="涡阳县", kind=Unit.Kind.COUNTY, parent=city)
    users = {
        "superuser": make_user("admin", unit=city, role=Role.ADMIN, is_superuser=True),
        "clerk": make_user("clerk", unit=county, role=Role.CLERK),
        "leader": make_user("leader", unit=city, role=Role.LEADER),
    }
    make_user("reviewer", unit=county, role=Role.REVIEWER)
    for user in users.values():
        Profile.objects.create(user=user, phone="0558-0000000")
    targets = {kind: make_target(kind=kind, plan=plan, section=first, lead_unit=county, code=f"K-{kind}")
               for kind in Target.Kind.values}
    cumulative = targets[Target.Kind.CUMULATIVE]
    Target.objects.filter(pk=targets[Target.Kind.MARGIN].pk).update(combined_jan_feb=True)
    child = make_target(plan=plan, section=second, lead_unit=other, parent=cumulative, code="K-child")
    MonthlyPlanPoint.objects.create(target=cumulative, month=6, value=Decimal("40"))
    RecordedResult.objects.create(plan=plan, section=first, code="R-1", name="2021年新增", value=Decimal("91"),
                                  measure="家", year=2021)
    State = ProgressEntry.State
    for month, state in [(2, State.RETURNED), (3, State.APPROVED), (4, State.SUBMITTED)]:
        make_entry(cumulative, month, Decimal(month * 5), state=state, entered_by=users["clerk"])
    make_entry(targets[Target.Kind.GROWTH], 5, Decimal("7.5"))
    make_entry(targets[Target.Kind.MARGIN], 5, Decimal("6"), comparator=Decimal("5"))
    make_entry(targets[Target.Kind.MILESTONE], 5, is_done=True, note="完成")
    make_entry(child, 5, Decimal("3"))
    draft = make_entry(cumulative, 5, Decimal("22"), note="进展", entered_by=users["clerk"],
                       evidence="evidence/2022/05/fuzz.pdf")
    # Indicator series: the province, the city (the bureau's region), a peer group, values and a published rank;
    # the growth target follows the series (the grid, the report's rank and province columns, the target page).
    province = Region.objects.create(code="province", name="安徽省", kind=Region.Kind.PROVINCE, aliases="全省")
    region = Region.objects.create(code="bz", name="亳州市", unit=city)
    group = PeerGroup.objects.create(code="all", name="全省", province=province)
    group.members.set([region])
    indicator = Indicator.objects.create(code="gytz", name="工业投资增速", aliases="工业投资")
    Target.objects.filter(pk=targets[Target.Kind.GROWTH].pk).update(
        series_indicator=indicator, series_region=region, comparator_region=province)
    SeriesValue.objects.create(indicator=indicator, region=province, year=2022, month=5, value=Decimal("0.2"))
    value = SeriesValue.objects.create(indicator=indicator, region=region, year=2022, month=5, value=Decimal("7.5"))
    PublishedRank.objects.create(value=value, group=group, rank=1)
    return users, draft


@pytest.fixture
def world(settings, tmp_path, quiet_logs):
    settings.MEDIA_ROOT = tmp_path
    evidence = tmp_path / "evidence" / "2022" / "05"
    evidence.mkdir(parents=True)
    (evidence / "fuzz.pdf").write_bytes(b"%PDF-1.4 fuzz")
    users, entry = small_plan()
    # History rows (the history list and pages), through the one write path.
    save_entries(users["superuser"], [EntryRow(entry.target, entry.year, entry.month, {"note": "fuzz"})], "admin")
    entry.refresh_from_db()
    for user in users.values():
        ImportBatch.objects.create(user=user, file_name="fuzz.csv", sha256="0" * 64, size=1, rows=[], problems=[])
        ReleaseBatch.objects.create(user=user, file_name="release.csv", sha256="0" * 64, size=1, year=2022, month=5)
    reminder = Reminder.objects.create(
        user=users["clerk"], recipient="c@example.com", kind=Reminder.Kind.choices[0][0], period="2022-05",
        day="2022-06-08", subject="s", status=Reminder.Status.FAILED)
    # A row for every admin that has a change page: robots, their deliveries, API tokens.
    webhook = Webhook.objects.create(user=users["clerk"], kind=Webhook.Kind.WECOM, url="http://127.0.0.1:9/hook")
    WebhookDelivery.objects.create(reminder=reminder, webhook=webhook, title="s")
    for user in users.values():
        ApiToken.objects.create(user=user, name="fuzz", prefix=f"fz{user.pk}", key_hash=f"{user.pk:064d}")
    AccessAttempt.objects.create(username="someone", ip_address="127.0.0.1", failures_since_start=1,
                                 user_agent="fuzz", get_data="", post_data="", http_accept="", path_info="/")
    unit = entry.target.lead_unit
    # The registers: a firm in a list, a project with a month and a coordination item, a register-backed target.
    firm = Firm.objects.create(name="示例企业", credit_code="914403001922038216", unit=unit)
    listing = Listing.objects.create(firm=firm, kind="cultivation", joined_on="2022-01-05", expected_month="2022-09")
    FirmUpdate.objects.create(listing=listing, year=2022, month=5, state="active", expected_month="2022-09")
    ScheduleMonth.objects.create(unit=unit, register="projects", year=2022, month=5, state="submitted")
    project = Project.objects.create(name="示例项目", unit=unit, firm=firm, kind="new", total_investment=2,
                                     signed_on="2022-01-05", planned_start="2022-03")
    ProjectUpdate.objects.create(project=project, year=2022, month=5, stage="signed", completed_ytd=1)
    Coordination.objects.create(project=project, raised_on="2022-05-03", request="用地", handler="规划科")
    RegisterFigure.objects.create(target=entry.target, aggregation="entered")
    for user in users.values():
        RegisterImport.objects.create(user=user, kind="firms", file_name="fuzz.csv", sha256="0" * 64)
    good = {
        "unit_code": unit.code, "period": "2022-05", "code": entry.target.code, "year": "2022", "month": "05",
        "target_id": str(entry.target.pk),
        "name": "evidence/2022/05/fuzz.pdf",
        "pk": str(ImportBatch.objects.filter(user=users["superuser"]).get().pk),
        "app_label": "targets", "format": "json", "content_type_id": str(ContentType.objects.get_for_model(Target).pk),
        "url": "nothing-here/",
    }
    world = World(good=good)
    for role, user in users.items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        world.clients[role], world.cookies[role] = client, copied(client.cookies)
    world.clients["anonymous"], world.cookies["anonymous"] = Client(raise_request_exception=False), SimpleCookie()
    world.entry, world.unit = entry, unit
    return world


# --- URL patterns ---------------------------------------------------------------------------------


def url_formats(patterns=None, prefix="", prefix_params=()):
    """('admin/targets/target/%(object_id)s/change/', ['object_id']) for every URL pattern."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        for fmt, params in normalize(pattern.pattern.regex.pattern):
            if isinstance(pattern, URLResolver):
                yield from url_formats(pattern.url_patterns, prefix + fmt, (*prefix_params, *params))
            else:
                yield prefix + fmt, [*prefix_params, *params]


def all_url_formats():
    seen, out = set(), []
    for fmt, params in url_formats():
        key = (fmt, tuple(sorted(set(params))))
        if key not in seen:
            seen.add(key)
            out.append((fmt, sorted(set(params))))
    return out


def admin_model(fmt):
    """The model of an admin URL such as 'admin/targets/target/...', else None."""
    parts = fmt[len(settings.ADMIN_URL):].split("/") if fmt.startswith(settings.ADMIN_URL) else []
    if len(parts) < 2 or "%" in parts[0] or "%" in parts[1]:
        return None
    from django.apps import apps

    try:
        return apps.get_model(parts[0], parts[1])
    except LookupError:
        return None


def good_value(world, fmt, name):
    if name in ("object_id", "id"):
        if fmt.startswith(settings.ADMIN_URL + "r/"):
            return str(world.entry.target.pk)
        model = admin_model(fmt)
        assert model is not None, f"no model for {fmt}"
        if model is ProgressEntry:
            return str(world.entry.pk)
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"the fuzz world has no {model._meta.label} row for {fmt}"
        return quote(str(obj.pk), safe="")
    assert name in world.good, f"add a good value for the URL parameter {name!r} (in {fmt}) to the fuzz world"
    return world.good[name]


def fill(fmt, values):
    return "/" + fmt % values


def good_urls(world):
    return [fill(fmt, {p: good_value(world, fmt, p) for p in params}) for fmt, params in all_url_formats()]


def bad_urls(world):
    for fmt, params in all_url_formats():
        good = {p: good_value(world, fmt, p) for p in params}
        for name in params:
            for bad in BAD_SEGMENTS:
                yield fill(fmt, {**good, name: bad})


def test_the_fuzz_walks_every_kind_of_page(world):
    urls = good_urls(world)
    wanted = [
        f"{ADMIN}targets/progressentry/entry/{world.unit.code}/2022-05/",
        f"{ADMIN}targets/progressentry/{world.entry.pk}/review/",
        f"{ADMIN}targets/progressentry/{world.entry.pk}/history/",
        f"{ADMIN}imports/importbatch/{world.good['pk']}/change/",
        f"{ADMIN}auth/user/add/",
        "/reports/2022-05/", "/reports/2022-05/completeness/", f"/targets/{world.entry.target.code}/",
        "/imports/", f"/imports/{world.good['pk']}/confirm/", "/evidence/evidence/2022/05/fuzz.pdf", "/healthz",
        "/i18n/setlang/",
    ]
    missing = [url for url in wanted if url not in urls]
    assert not missing, missing
    assert len(urls) > 100, len(urls)


def fuzz_paths(world, who):
    """A seeded sample of the bad URL paths, GET and (a third of them) POST."""
    bad = list(bad_urls(world))
    bad = random.Random(f"{SEED}-path-{who}").sample(bad, len(bad) // PATH_SAMPLE[who])
    for url in bad:
        request(world, who, "get", url)
    for url in random.Random(f"{SEED}-post-{who}").sample(bad, len(bad) // 3):
        request(world, who, "post", url, {"post": "yes"})


def fuzz_cookies(world):
    """A visitor whose session, CSRF, language or messages cookie is garbage."""
    names = [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, "messages"]
    for name in names:
        for value in ['"\\000\\000\\000\\000\\000\\000\\000\\000"', "x" * 4000, "abc", '"\\001"', "%00"]:
            client = Client(raise_request_exception=False)
            client.cookies[name] = value
            world.clients["cookie"], world.cookies["cookie"] = client, copied(client.cookies)
            for url in ("/", ADMIN, f"{ADMIN}login/"):
                request(world, "cookie", "get", url)
            request(world, "cookie", "post", f"{ADMIN}login/", {"username": "admin", "password": "x"})


# --- pages' links and forms ----------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: list = field(default_factory=list)  # [name, default value or None, [options], kind]
    files: list = field(default_factory=list)

    @property
    def names(self):
        return sorted({f[0] for f in self.fields if f[0] != "csrfmiddlewaretoken"})


class FormParser(HTMLParser):
    """The forms of a page (fields with their default values and options) and the query keys of its links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.link_queries = [], []
        self.form = self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and "?" in a.get("href", ""):
            self.link_queries.append(a["href"])
        if tag == "form":
            self.form = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        if tag == "option" and self.select is not None:
            value = a.get("value", "")
            self.select[2].append(value)
            if "selected" in a:
                self.select[1] = [*(self.select[1] or []), value]
            return
        name = a.get("name")
        if not name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self.form.files.append(name)
            elif kind in ("checkbox", "radio"):
                self.form.fields.append([name, [a.get("value", "on")] if "checked" in a else [],
                                         [a.get("value", "on")], kind])
            elif kind in ("submit", "image"):
                self.form.fields.append([name, [], [a.get("value", "")], "submit"])
            elif kind not in ("button", "reset"):
                self.form.fields.append([name, [a.get("value", "")], [], kind])
        elif tag == "button" and a.get("type", "submit") == "submit":
            self.form.fields.append([name, [], [a.get("value", "")], "submit"])
        elif tag == "select":
            self.select = [name, None, [], "select-multiple" if "multiple" in a else "select"]
            self.form.fields.append(self.select)
        elif tag == "textarea":
            self.textarea = [name, [""], [], "textarea"]
            self.form.fields.append(self.textarea)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select is not None:
            if self.select[1] is None:  # a browser sends the first option of a single select
                self.select[1] = self.select[2][:1] if self.select[3] == "select" else []
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1][0] += data


def baseline(form):
    """What a browser sends for the form unchanged (with its first submit button)."""
    data, submitted = {}, False
    for name, values, options, kind in form.fields:
        if kind == "submit":
            if not submitted:
                data[name], submitted = options[:1], True
            continue
        data.setdefault(name, []).extend(values)
    return {k: v[0] if len(v) == 1 else v for k, v in data.items() if v}


def mutations(form, who, rng, light=False):
    """Payloads: unchanged, every field bad at once, small selects swept, sampled single fields.

    `light`: an add form, whose unchanged state is mostly empty; its change form gets the full set.
    """
    base, names = baseline(form), form.names
    yield base
    others = [value for value in ALL_FIELDS_BAD if value != "\x00"]
    if light:
        for bad in ("\x00", rng.choice(others)):
            yield {**base, **dict.fromkeys(names, bad)}
        return
    if len(names) <= 1 and not form.files:
        yield {}
        return  # a confirmation ("post": "yes") or a single button: nothing more to vary
    for bad in ["\x00", *rng.sample(others, ALL_FIELDS_BAD_PER_FORM[who] - 1)]:
        files = {name: SimpleUploadedFile(f"f{bad[:20]}.csv", bad.encode()) for name in form.files}
        yield {**base, **dict.fromkeys(names, bad), **files}
    budget = min(FORM_MUTATIONS[who], 3 * len(names))
    # Every checkbox ticked (e.g. every row of a list for an action), each option of the small selects.
    ticked = {**base}
    for name, _values, options, kind in form.fields:
        if kind == "checkbox":
            ticked[name] = [*(v for v in _listed(ticked.get(name)) if v not in options), *options]
    sweeps = [(name, option) for name, _values, options, kind in form.fields
              if kind == "select" and 1 < len(options) <= MAX_OPTIONS_SWEPT for option in options]
    for name, option in rng.sample(sweeps, min(len(sweeps), budget)):
        yield {**ticked, name: option}
    pairs = [(name, bad) for name in names for bad in SINGLE_BAD]
    for name, bad in rng.sample(pairs, min(len(pairs), budget)):
        yield {**base, name: bad}


def _listed(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def page_forms(response):
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return None
    parser = FormParser()
    parser.feed(response.content.decode("utf-8", "replace"))
    return parser


def query_keys(url, parser):
    """The query parameters the page's own links and GET forms use."""
    keys = set()
    path = urlsplit(url).path
    for href in parser.link_queries:
        target = urlsplit(urljoin(url, href))
        if target.path == path:
            keys.update(k for k, _v in parse_qsl(target.query, keep_blank_values=True))
    for form in parser.forms:
        if form.method == "get" and urlsplit(urljoin(url, form.action)).path == path:
            keys.update(form.names)
    return sorted(keys)


def fuzz_query(world, who, url, parser, rng):
    """The page's own query keys with NUL, some with another bad value, all at once, and a key any page reads."""
    keys = query_keys(url, parser)
    for key in keys:  # NUL in every one (cheap: refused before any view runs)
        request(world, who, "get", url, {key: "a\x00b"})
    own = rng.sample(keys, min(len(keys), OWN_KEYS_PER_PAGE[who]))
    for key in [*own, *rng.sample(COMMON_QUERY_KEYS, COMMON_KEYS_PER_PAGE[who])]:
        request(world, who, "get", url, {key: rng.choice(BAD_VALUES)})
    if len(keys) > 1 and who == "superuser":
        request(world, who, "get", url, dict.fromkeys(keys, rng.choice(BAD_VALUES)))


def fuzz_form(world, who, url, form, rng, posted):
    action = urljoin(url, form.action or url)
    signature = (form.method, urlsplit(action).path, tuple(form.names))
    if not action.startswith("/") or signature in posted or (form.method == "get" and not form.files and
                                                                   urlsplit(action).path == urlsplit(url).path):
        return  # elsewhere, seen already, or a filter form (fuzz_query covers it)
    posted.add(signature)
    for data in mutations(form, who, rng, light=urlsplit(action).path.endswith("/add/")):
        request(world, who, form.method, action, data)


@pytest.mark.parametrize("who", USERS)
def test_it_gives_no_server_error_on_any_page_link_form_or_url_path(world, who):
    rng = random.Random(f"{SEED}-{who}")
    pages, posted = 0, set()
    for url in [*good_urls(world), *EXTRA_URLS]:
        parser = page_forms(request(world, who, "get", url))
        if parser is None:
            continue
        pages += 1
        fuzz_query(world, who, url, parser, rng)
        for form in parser.forms:
            fuzz_form(world, who, url, form, rng, posted)
    fuzz_paths(world, who)
    minimum = {"superuser": (50, 30), "clerk": (15, 8), "leader": (15, 4)}[who]
    assert (pages, len(posted)) >= minimum, (pages, len(posted))
    assert not world.failures, report(world)


def test_it_gives_no_server_error_to_anonymous_visitors_or_for_bad_cookies(world):
    for url in [*good_urls(world), *EXTRA_URLS]:
        request(world, "anonymous", "get", url)
    fuzz_paths(world, "anonymous")
    fuzz_cookies(world)
    assert world.requests > 300, world.requests
    assert not world.failures, report(world)
