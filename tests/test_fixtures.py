"""The shipped fixtures: `bozhou_2022` (the seed article's plan, nothing invented) and `demo` (invented)."""

import io
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from tracker.accounts import scoping
from tracker.accounts.models import Membership, Profile
from tracker.targets.models import (
    MonthlyPlanPoint,
    Plan,
    ProgressEntry,
    RecordedResult,
    Section,
    SeriesValue,
    Target,
    Unit,
)

pytestmark = pytest.mark.django_db

User = get_user_model()
DEMO_PASSWORD = "demo-pass-2022"
FIXTURE_APPS = ["targets", "accounts", "auth.user"]


def load(*names):
    call_command("loaddata", *names, verbosity=0)


def dump():
    out = io.StringIO()
    # The data stamps count writes (even of unchanged rows): bookkeeping, not data.
    call_command("dumpdata", *FIXTURE_APPS, exclude=["targets.datastamp"], format="json", indent=0, stdout=out)
    return out.getvalue()


@pytest.fixture
def plan():
    load("bozhou_2022")
    return Plan.objects.get(year=2022)


@pytest.fixture
def demo(plan):
    load("demo")
    return plan


def target(code):
    return Target.objects.get(code=code)


# --- bozhou_2022 -------------------------------------------------------------

def test_it_loads_the_plan_with_its_source(plan):
    assert plan.title == "亳州市经济和信息化局2022年工作要点"
    assert plan.title_en
    assert "真抓实干 安徽亳州工业经济运行质效双优" in plan.source
    assert "中国工业报" in plan.source
    assert "2022-02-23" in plan.source
    assert "infoCode=NW202202232285768668" in plan.source
    assert list(plan.sections.values_list("number", "name")) == [
        (1, "加强工业经济运行调度，在提升发展质量上下功夫"),
        (2, "加强项目调度，在推进产业发展上下功夫"),
        (3, "加强创新驱动发展，在促进企业转型升级上下功夫"),
        (4, "强化为企服务，在专精特新企业发展上下功夫"),
        (5, "抓好问题整改，在推动绿色安全发展上下功夫"),
    ]


def test_it_loads_the_bureau_and_the_counties(plan):
    assert list(Unit.objects.order_by("pk").values_list("code", "name", "kind", "parent")) == [
        ("bozhou-jxj", "亳州市经济和信息化局", "bureau", None),
        ("qiaocheng", "谯城区", "county", None),
        ("guoyang", "涡阳县", "county", None),
        ("mengcheng", "蒙城县", "county", None),
        ("lixin", "利辛县", "county", None),
    ]


def test_it_has_the_expected_number_of_targets_per_kind(plan):
    assert Counter(plan.targets.values_list("kind", flat=True)) == {
        "growth": 2, "margin": 2, "cumulative": 4, "recurring": 2, "milestone": 5, "qualitative": 24,
    }
    assert Counter(plan.targets.values_list("section__number", flat=True)) == {1: 8, 2: 8, 3: 4, 4: 10, 5: 9}


def test_it_numbers_targets_by_section_and_order(plan):
    for t in plan.targets.all():
        assert t.code == f"BZ22-{t.section.number}-{t.order:02d}"


def test_it_holds_the_key_quantified_targets(plan):
    # code: (kind, target, measure, tolerance, 1-2月 combined, baseline, baseline period, comparator, frequency)
    expected = {
        "BZ22-1-02": ("recurring", "12", "次", "0", False, None, "", "", "month"),
        "BZ22-1-04": ("margin", "0.5", "百分点", "0", True, "9.6", "2021年1~11月",
                      "全省规模以上工业增加值累计增速", ""),
        "BZ22-1-05": ("cumulative", "80", "家", "4", True, None, "", "", ""),
        "BZ22-2-03": ("growth", "8", "%", "0.5", True, "4.9", "2021年1~11月", "", ""),
        "BZ22-2-04": ("growth", "10", "%", "0.5", True, "18.2", "2021年1~11月", "", ""),
        "BZ22-3-02": ("cumulative", "2", "个", "0", False, None, "", "", ""),
        "BZ22-3-03": ("cumulative", "1", "个", "0", False, None, "", "", ""),
        "BZ22-4-05": ("recurring", "4", "次", "0", False, None, "", "", "quarter"),
        "BZ22-4-07": ("milestone", "1", "亿元", "0", False, None, "", "", ""),
        "BZ22-4-08": ("cumulative", "145", "家", "0", False, None, "", "", ""),
        "BZ22-4-10": ("margin", "0.5", "百分点", "0", True, None, "", "全省民营经济增加值增速", ""),
    }
    for code, (kind, value, measure, tol, combined, baseline, period, comparator, freq) in expected.items():
        t = target(code)
        assert (t.kind, t.target_value, t.measure, t.tolerance, t.combined_jan_feb) == (
            kind, Decimal(value), measure, Decimal(tol), combined), code
        assert t.baseline_value == (Decimal(baseline) if baseline else None), code
        assert (t.baseline_period, t.comparator_name, t.frequency) == (period, comparator, freq), code
    assert target("BZ22-4-07").name == "设立规模为1亿元的市级民营经济（中小企业）发展专项基金"
    assert target("BZ22-1-04").description == (
        "确保全年规模以上工业增加值高于全省0.5个百分点，新增规模工业企业80家左右。")


def test_it_applies_the_tolerance_rule_only_to_about_targets(plan):
    with_tolerance = {t.code: t.tolerance for t in plan.targets.exclude(tolerance=0)}
    assert with_tolerance == {"BZ22-1-05": Decimal("4"), "BZ22-2-03": Decimal("0.5"), "BZ22-2-04": Decimal("0.5")}
    assert all("左右" in target(code).name for code in with_tolerance)
    assert not plan.targets.exclude(code__in=with_tolerance).filter(name__contains="左右").exists()


def test_it_makes_the_milestones_and_qualitative_tasks_yearly(plan):
    milestones = plan.targets.filter(kind="milestone")
    assert sorted(milestones.values_list("code", flat=True)) == [
        "BZ22-1-06", "BZ22-4-06", "BZ22-4-07", "BZ22-5-04", "BZ22-5-05"]
    assert set(plan.targets.values_list("deadline", flat=True)) == {date(2022, 12, 31)}
    qualitative = set(plan.targets.filter(kind="qualitative").values_list("name", flat=True))
    assert {"深入推进“华夏酒城”建设", "深入开展“四送一服”", "加大企业家培训力度",
            "推进工业企业安全生产专项整治三年行动", "严格落实日常节能监察、专项节能监察"} <= qualitative


def test_it_makes_every_target_valid_and_led_by_the_bureau(plan):
    bureau = Unit.objects.get(code="bozhou-jxj")
    for t in plan.targets.all():
        t.full_clean()
        assert t.lead_unit == bureau
        assert t.name_en.strip() and t.description.strip(), t.code
        assert t.parent is None and t.responsible_person is None


def test_it_gives_every_section_targets_and_results(plan):
    for section in plan.sections.all():
        assert section.name_en
        assert section.targets.exists(), section
        assert section.results.exists(), section


def test_it_records_every_2021_figure_as_a_result(plan):
    assert RecordedResult.objects.count() == 48
    values = {r.name: (r.value, r.measure) for r in plan.results.all()}
    expected = {
        "规模工业增加值累计增速": ("9.6", "%"),
        "规模工业增加值增速全省位次": ("10", ""),
        "规模工业增加值增速皖北位次": ("2", ""),
        "新增规模以上工业企业": ("91", "家"),
        "规模以上工业企业总数": ("665", "家"),
        "工业投资同比增长": ("4.9", "%"),
        "技改投资同比增长": ("18.2", "%"),
        "新签约亿元以上工业项目": ("205", "个"),
        "新落地亿元以上工业项目": ("121", "个"),
        "录入省“双招双引”平台的装备制造产业项目": ("30", "个"),
        "上述装备制造产业项目计划总投资": ("158.1", "亿元"),
        "累计推广应用工业机器人（台/套）": ("399", "台"),
        "获批省级智能工厂": ("2", "家"),
        "获批数字化车间": ("7", "个"),
        "认定登云企业": ("1275", "家"),
        "2021年新增登云企业": ("429", "家"),
        "认定市级“专精特新”企业": ("27", "户"),
        "新增国家级专精特新“小巨人”企业": ("3", "户"),
        "新增省级“专精特新”中小企业": ("10", "家"),
        "银企对接实现融资": ("6.32", "亿元"),
        "经信系统排查一般隐患": ("3516", "个"),
        "一般隐患整改率": ("99.5", "%"),
        "现有砖瓦窑厂": ("50", "家"),
        "砖瓦窑厂监督检查": ("54", "次"),
        "通过市级绿色工厂认定的企业": ("9", "家"),
        "古井贡酒企业级互联网平台市财政资金支持": ("50", "万元"),
        "古井白酒行业工业互联网平台省财政奖补": ("700", "万元"),
    }
    for name, (value, measure) in expected.items():
        assert values[name] == (Decimal(value), measure), name
    growth = plan.results.get(code="BZ21-1-01")
    assert (growth.year, growth.through_month, growth.period_label) == (2021, 11, "2021年1~11月")
    for r in plan.results.all():
        r.full_clean()
        assert r.year == 2021 and r.name_en.strip() and r.note.strip(), r.code


def test_it_loads_twice_without_changing_anything(plan):
    before = dump()
    load("bozhou_2022")
    assert dump() == before


# --- demo --------------------------------------------------------------------

DEMO_ACCOUNTS = [
    ("admin", "admin", "bozhou-jxj"),
    ("leader", "leader", "bozhou-jxj"),
    ("bureau_clerk", "clerk", "bozhou-jxj"),
    ("bureau_reviewer", "reviewer", "bozhou-jxj"),
    ("yunxing_clerk", "clerk", "demo-yunxing"),
    ("yunxing_reviewer", "reviewer", "demo-yunxing"),
    ("zhongxiao_clerk", "clerk", "demo-zhongxiao"),
    ("zhongxiao_reviewer", "reviewer", "demo-zhongxiao"),
    ("qiaocheng_clerk", "clerk", "qiaocheng"),
    ("qiaocheng_reviewer", "reviewer", "qiaocheng"),
    ("guoyang_clerk", "clerk", "guoyang"),
    ("guoyang_reviewer", "reviewer", "guoyang"),
    ("mengcheng_clerk", "clerk", "mengcheng"),
    ("mengcheng_reviewer", "reviewer", "mengcheng"),
    ("lixin_clerk", "clerk", "lixin"),
    ("lixin_reviewer", "reviewer", "lixin"),
]


def test_demo_creates_accounts_with_their_roles(demo):
    memberships = Membership.objects.values_list("user__username", "role", "unit__code")
    assert sorted(memberships) == sorted(DEMO_ACCOUNTS)
    for user in User.objects.all():
        assert user.is_staff and user.is_active, user
        assert user.email == f"{user.username}@example.com"
        assert user.is_superuser == (user.username == "admin")
        assert "示例" in user.first_name or "demo" in user.first_name
        assert user.password.startswith("pbkdf2_sha256$")
    languages = dict(Profile.objects.values_list("user__username", "language"))
    assert languages.pop("guoyang_clerk") == "en"
    assert set(languages.values()) == {"zh-hans"} and len(languages) == 15


def test_demo_accounts_log_in_with_the_demo_password(demo, settings):
    # Test settings use the fast MD5 hasher only; the fixture stores real PBKDF2 hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    # One public password, one stored hash: checking a few users checks them all.
    assert User.objects.values("password").distinct().count() == 1
    request = RequestFactory().post("/")  # axes' backend looks at every login's request
    for username in ("admin", "leader", "guoyang_clerk"):
        assert authenticate(request, username=username, password=DEMO_PASSWORD) == User.objects.get(username=username)
    assert authenticate(request, username="leader", password="wrong-password") is None


def test_demo_marks_every_invented_row(demo):
    for unit in Unit.objects.filter(pk__gte=1000):
        assert "示例" in unit.name and "demo" in unit.name_en and unit.kind == "section"
        assert unit.parent.code == "bozhou-jxj"
    demo_targets = Target.objects.filter(pk__gte=1000)
    assert demo_targets.count() == 6
    for t in demo_targets:
        assert t.code.startswith("DEMO-") and "示例" in t.name and "demo" in t.name_en, t.code
        assert "示例数据" in t.description
        t.full_clean()
    for entry in ProgressEntry.objects.select_related("target__plan"):
        assert "示例" in entry.note, entry
        entry.full_clean()
    # The article's own targets stay as the article has them.
    assert Target.objects.filter(code__startswith="BZ22-").count() == 39
    assert not Target.objects.filter(code__startswith="BZ22-", name__contains="示例").exists()


def test_demo_splits_the_80_firm_target_among_the_counties(demo):
    parent = target("BZ22-1-05")
    children = {t.lead_unit.code: t.target_value for t in parent.children.select_related("lead_unit")}
    assert children == {"qiaocheng": 30, "guoyang": 18, "mengcheng": 17, "lixin": 15}
    assert sum(children.values()) == parent.target_value
    qiaocheng = target("DEMO-1-05-QC")
    assert list(qiaocheng.plan_points.values_list("month", "value")) == [
        (2, 12), (3, 13), (4, 14), (5, 15), (6, 17), (9, 22), (12, 30)]


def test_demo_gives_every_clerk_and_reviewer_their_own_targets(demo):
    for username, role, unit_code in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        visible = scoping.visible_targets(user)
        if role in ("clerk", "reviewer"):
            own = Target.objects.filter(lead_unit__code=unit_code)
            assert own.exists(), username
            assert set(visible) == set(Target.objects.filter(lead_unit__in=scoping.visible_units(user)))
            assert set(own) <= set(visible)
        else:
            assert visible.count() == Target.objects.count(), username
    county_clerk = User.objects.get(username="lixin_clerk")
    assert list(scoping.visible_targets(county_clerk).values_list("code", flat=True)) == ["DEMO-1-05-LX"]


def test_demo_entries_mix_states_and_leave_months_missing(demo):
    entries = ProgressEntry.objects.all()
    assert Counter(entries.values_list("state", flat=True)) == {
        "approved": 13, "submitted": 6, "draft": 4, "returned": 1}
    assert set(entries.values_list("year", flat=True)) == {2022}
    assert set(entries.values_list("month", flat=True)) == {2, 3, 4, 5}
    months = {}
    for code, month in entries.values_list("target__code", "month"):
        months.setdefault(code, set()).add(month)
    assert months["DEMO-1-05-QC"] == {2, 3, 4, 5}
    assert months["DEMO-1-05-GY"] == {2, 3}
    assert months["DEMO-1-05-MC"] == {2}
    assert "DEMO-1-05-LX" not in months
    assert entries.filter(is_late=True).count() == 1
    for entry in entries.select_related("target__lead_unit", "entered_by", "reviewed_by"):
        assert entry.entered_by.memberships.filter(unit=entry.target.lead_unit, role="clerk").exists()
        if entry.state in ("approved", "returned"):
            assert entry.reviewed_by.memberships.filter(unit=entry.target.lead_unit, role="reviewer").exists()
            assert entry.reviewed_at > entry.submitted_at
        else:
            assert entry.reviewed_by is None
    margin = ProgressEntry.objects.get(target__code="BZ22-1-04", month=2)
    # The province's figure lives in the indicator series (entered once a month), not on the entry.
    assert (margin.value, margin.comparator) == (Decimal("10.8"), None)
    assert SeriesValue.objects.get(indicator__code="gyzjz", region__code="anhui", year=2022, month=2).value == \
        Decimal("9.9")


def test_it_loads_both_fixtures_twice_without_changing_anything(demo):
    counts = {m: m.objects.count() for m in (Unit, Plan, Section, Target, RecordedResult, MonthlyPlanPoint,
                                             ProgressEntry, User, Membership, Profile)}
    before = dump()
    load("bozhou_2022", "demo")
    assert {m: m.objects.count() for m in counts} == counts
    assert dump() == before


def test_it_leaves_room_for_new_rows_after_loading(demo):
    # On PostgreSQL loaddata must reset the id sequences past the fixtures' explicit keys.
    unit = Unit.objects.create(code="new-unit", name="新单位")
    user = User.objects.create_user("newcomer", password="x-Secret-123")
    new = Target.objects.create(plan=demo, section=demo.sections.get(number=1), code="NEW-1", name="新目标",
                                kind="qualitative", lead_unit=unit)
    assert unit.pk > 1002 and user.pk > 1016 and new.pk > 1006


def test_every_quantified_target_names_its_statistic_for_the_reasons(demo):
    quantified = Target.objects.exclude(kind__in=[Target.Kind.MILESTONE, Target.Kind.QUALITATIVE])
    assert quantified.count() == 16
    assert not quantified.filter(indicator="").exists() and not quantified.filter(indicator_en="").exists()
    assert target("BZ22-2-03").indicator == "工业投资"


def test_the_report_words_the_demo_investment_figure_by_its_statistic(demo):
    from tracker.targets.status import assess_period

    investment = target("BZ22-2-03")
    result = assess_period(Target.objects.filter(pk=investment.pk), 2022, 5, today=date(2022, 7, 1))[investment.pk]
    assert result.reason_zh == "1—5月工业投资增长6.8%，低于目标1.2个百分点"
