"""The registers (企业库、项目库): credit codes, industries, lists, projects, history, and the targets that take
their figures from a register (frozen once approved)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.registers import creditcode, figures
from tracker.registers.models import Firm, Industry, Listing, Project, ProjectUpdate, RegisterFigure
from tracker.services import review
from tracker.targets.models import ProgressEntry

Role = Membership.Role
TODAY = datetime.date(2022, 7, 10)

# Published codes (business licences shown on public registers): Huawei, Tencent, and firms in Xiamen.
PUBLISHED = ["914403001922038216", "91440300708461136T", "91350200776049653A", "91350213678251743X",
             "9135021359498494XQ", "123502001549897397", "91440101MA5CJQ4N59"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_it_accepts_published_credit_codes(code):
    assert creditcode.problem(code) is None
    assert creditcode.check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code,why", [
    ("914403001922038217", "should be 6"),  # one character changed
    ("91440300708461136", "18 characters"),
    ("91440300708461136I", "without I"),  # I is not in the alphabet
    ("9144O300708461136T", "without I"),  # letter O for zero
    ("91AB0300708461136T", "administrative division"),
    # Early pilot codes that do not follow the standard's check (reported as such by other implementations).
    ("91350100M0001TGQXM", "should be"),
])
def test_it_refuses_a_wrong_credit_code_saying_why(code, why):
    with translation.override("en"):
        assert why in str(creditcode.problem(code))
    with translation.override("zh-hans"):
        assert "统一社会信用代码" in str(creditcode.problem(code)) or "校验码" in str(creditcode.problem(code))
    with pytest.raises(ValidationError):
        creditcode.validate_credit_code(code)


def test_it_weighs_characters_as_the_standard_does():
    assert creditcode.WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def test_it_normalises_pasted_codes():
    assert creditcode.normalise(" 9144 0300708461136t ") == "91440300708461136T"


@pytest.mark.django_db
def test_it_ships_the_97_divisions_of_gbt_4754_2017():
    assert Industry.objects.count() == 97
    assert str(Industry.objects.get(code="27")) == "C27 医药制造业"
    assert Industry.objects.get(code="15").name == "酒、饮料和精制茶制造业"


def make_firm(unit, code, name="企业", **kw):
    return Firm.objects.create(name=name, credit_code=code, unit=unit, **kw)


def codes(n, prefix="91341600MA2"):
    """n valid codes (check character computed)."""
    out = []
    for i in range(n):
        first = f"{prefix}{i:06d}"[:17]
        out.append(first + creditcode.check_character(first))
    return out


@pytest.mark.django_db
class TestLists:
    def test_it_checks_a_listings_state_and_dates(self):
        unit = make_unit("qiaocheng")
        firm = make_firm(unit, PUBLISHED[0])
        bad = Listing(firm=firm, kind=Listing.Kind.CULTIVATION, joined_on=datetime.date(2022, 1, 5))
        with pytest.raises(ValidationError) as caught:
            bad.full_clean()
        assert "expected_month" in caught.value.message_dict
        removed = Listing(firm=firm, kind=Listing.Kind.CULTIVATION, state=Listing.State.REMOVED,
                          joined_on=datetime.date(2022, 1, 5), left_on=datetime.date(2022, 3, 1))
        with pytest.raises(ValidationError) as caught:
            removed.full_clean()
        assert "reason" in caught.value.message_dict
        specialised = Listing(firm=firm, kind=Listing.Kind.SPECIALISED, joined_on=datetime.date(2022, 1, 5))
        with pytest.raises(ValidationError) as caught:
            specialised.full_clean()
        assert {"level", "recognised_year"} <= set(caught.value.message_dict)
        entered = Listing(firm=firm, kind=Listing.Kind.MONITORED, state=Listing.State.ENTERED,
                          joined_on=datetime.date(2022, 1, 5), entered_month="2022-03")
        with pytest.raises(ValidationError) as caught:
            entered.full_clean()
        assert "state" in caught.value.message_dict

    def test_it_checks_a_projects_stage_dates(self):
        unit = make_unit("mengcheng")
        project = Project(name="项目", unit=unit, kind=Project.Kind.NEW, total_investment=Decimal("2"),
                          stage=Project.Stage.SUSPENDED, signed_on=datetime.date(2022, 3, 1),
                          started_on=datetime.date(2022, 2, 1))
        with pytest.raises(ValidationError) as caught:
            project.full_clean()
        assert {"suspended_on", "suspended_reason", "started_on"} <= set(caught.value.message_dict)


@pytest.fixture
def county_world():
    city = make_unit("city", name="市经信局")
    county = make_unit("guoyang", name="涡阳县", parent=city, kind="county")
    other = make_unit("lixin", name="利辛县", parent=city, kind="county")
    plan = make_plan(2022)
    total = make_target(code="NEW-ABOVE", plan=plan, lead_unit=city, target_value=Decimal("80"))
    part = make_target(code="NEW-ABOVE-GY", plan=plan, lead_unit=county, parent=total, target_value=Decimal("20"))
    RegisterFigure.objects.create(target=total, aggregation=RegisterFigure.Aggregation.ENTERED)
    RegisterFigure.objects.create(target=part, aggregation=RegisterFigure.Aggregation.ENTERED, unit=county)
    firm_codes = codes(6)
    for n, (unit, month) in enumerate([(county, "2022-02"), (county, "2022-05"), (other, "2022-05"),
                                       (other, "2022-07"), (county, "2021-12"), (county, "")]):
        firm = make_firm(unit, firm_codes[n], name=f"示例企业{n}")
        state = Listing.State.ENTERED if month else Listing.State.ACTIVE
        Listing.objects.create(firm=firm, kind=Listing.Kind.CULTIVATION, state=state, entered_month=month,
                               expected_month="" if month else "2022-09", joined_on=datetime.date(2021, 6, 1))
    return city, county, other, total, part


def values(target):
    return {e.month: e.value for e in ProgressEntry.objects.filter(target=target)}


@pytest.mark.django_db
class TestFigures:
    def test_it_counts_firms_entering_the_list_this_year_up_to_each_month(self, county_world):
        _city, county, _other, total, part = county_world
        figures.refresh(today=TODAY)
        assert values(total) == {1: 0, 2: 1, 3: 1, 4: 1, 5: 3, 6: 3, 7: 4}
        assert values(part) == {1: 0, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 2}
        assert Change.objects.filter(source="register", model="targets.progressentry").count() == 14

    def test_it_writes_nothing_when_the_register_did_not_change(self, county_world):
        figures.refresh(today=TODAY)
        before = Change.objects.count()
        result = figures.refresh(today=TODAY)
        assert result.ok and not result.created and not result.changed
        assert Change.objects.count() == before

    def test_it_freezes_an_approved_month(self, county_world):
        _city, county, _other, total, part = county_world
        figures.refresh(today=TODAY)
        reviewer = make_user("gy_reviewer", unit=county, role=Role.REVIEWER)
        clerk = make_user("gy_clerk", unit=county, role=Role.CLERK)
        entry = ProgressEntry.objects.get(target=part, month=5)
        review.submit(clerk, entry)
        review.approve(reviewer, ProgressEntry.objects.get(pk=entry.pk))
        listing = Listing.objects.get(firm__name="示例企业5")
        listing.state, listing.entered_month = Listing.State.ENTERED, "2022-04"
        listing.save()
        figures.refresh(today=TODAY)
        assert values(part) == {1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3}  # May approved at 2: stays 2
        assert ProgressEntry.objects.get(target=part, month=5).state == ProgressEntry.State.APPROVED

    def test_it_counts_projects_and_sums_completed_investment(self):
        county = make_unit("qiaocheng", kind="county")
        plan = make_plan(2022)
        signed = make_target(code="SIGNED", plan=plan, lead_unit=county, target_value=Decimal("10"))
        invest = make_target(code="INVEST", plan=plan, lead_unit=county, target_value=Decimal("30"),
                             measure="亿元")
        RegisterFigure.objects.create(target=signed, aggregation=RegisterFigure.Aggregation.SIGNED,
                                      min_investment=Decimal("1"))
        RegisterFigure.objects.create(target=invest, aggregation=RegisterFigure.Aggregation.INVESTMENT)
        big = Project.objects.create(name="大项目", unit=county, kind=Project.Kind.NEW, total_investment=Decimal("5"),
                                     signed_on=datetime.date(2022, 2, 10))
        small = Project.objects.create(name="小项目", unit=county, kind=Project.Kind.RENOVATION,
                                       total_investment=Decimal("0.5"), signed_on=datetime.date(2022, 3, 10))
        Project.objects.create(name="旧项目", unit=county, kind=Project.Kind.NEW, total_investment=Decimal("3"),
                               signed_on=datetime.date(2021, 11, 1))
        ProjectUpdate.objects.create(project=big, year=2022, month=3, stage="started", completed_ytd=Decimal("1.5"))
        ProjectUpdate.objects.create(project=big, year=2022, month=5, stage="building", completed_ytd=Decimal("2.5"))
        ProjectUpdate.objects.create(project=small, year=2022, month=4, stage="started", completed_ytd=Decimal("0.2"))
        figures.refresh(today=datetime.date(2022, 6, 3))
        assert values(signed) == {1: 0, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1}
        assert values(invest) == {1: 0, 2: 0, 3: Decimal("1.5"), 4: Decimal("1.7"), 5: Decimal("2.7"),
                                  6: Decimal("2.7")}
        assert list(figures.rows_behind(signed.register_figure, 2022, 6)) == [big]

    def test_it_counts_firms_in_a_list_at_the_end_of_each_month(self):
        county = make_unit("lixin", kind="county")
        target = make_target(code="SPECIAL", plan=make_plan(2022), lead_unit=county, target_value=Decimal("5"))
        RegisterFigure.objects.create(target=target, aggregation=RegisterFigure.Aggregation.IN_LIST,
                                      list_kind=Listing.Kind.SPECIALISED, level=Listing.Level.PROVINCE)
        a, b, c = (make_firm(county, code, name=f"企业{n}") for n, code in enumerate(codes(3)))
        for firm, joined, left in [(a, datetime.date(2021, 5, 1), None), (b, datetime.date(2022, 3, 15), None),
                                   (c, datetime.date(2021, 5, 1), datetime.date(2022, 2, 20))]:
            Listing.objects.create(firm=firm, kind=Listing.Kind.SPECIALISED, level=Listing.Level.PROVINCE,
                                   recognised_year=joined.year, joined_on=joined, left_on=left,
                                   state=Listing.State.REMOVED if left else Listing.State.ACTIVE,
                                   reason="迁出" if left else "")
        figures.refresh(today=datetime.date(2022, 4, 2))
        assert values(target) == {1: 2, 2: 1, 3: 2, 4: 2}

    def test_it_takes_a_register_figure_only_for_a_cumulative_target(self):
        target = make_target(kind="growth", code="GROWTH")
        figure = RegisterFigure(target=target, aggregation=RegisterFigure.Aggregation.SIGNED)
        with pytest.raises(ValidationError):
            figure.full_clean()


@pytest.mark.django_db
def test_it_keeps_the_history_of_a_firms_lists_in_the_admin(client):
    county = make_unit("guoyang", kind="county")
    clerk = make_user("gy_clerk", unit=county, role=Role.CLERK)
    client.force_login(clerk)
    code = PUBLISHED[1]
    response = client.post(reverse("admin:registers_firm_add"), {
        "name": "示例酒业有限公司", "credit_code": code, "unit": county.pk,
        "industry": Industry.objects.get(code="15").pk,
        "size": "small", "contact_person": "", "contact_phone": "", "address": "", "note": "",
        "listings-TOTAL_FORMS": "1", "listings-INITIAL_FORMS": "0",
        "listings-0-kind": "cultivation", "listings-0-state": "active", "listings-0-joined_on": "2022-01-10",
        "listings-0-expected_month": "2022-09",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    firm = Firm.objects.get(credit_code=code)
    assert Change.objects.filter(model="registers.listing", unit_id=county.pk).count() == 1
    history = client.get(reverse("admin:registers_firm_history", args=[firm.pk]))
    assert history.status_code == 200 and "2022-09" in history.content.decode()
    wrong = client.post(reverse("admin:registers_firm_add"), {
        "name": "错", "credit_code": code[:17] + "0", "unit": county.pk, "listings-TOTAL_FORMS": "0",
        "listings-INITIAL_FORMS": "0"})
    assert "check character" in wrong.content.decode() or "校验" in wrong.content.decode()


def page_rows(response):
    return [row for row in response.context["rows"]]


@pytest.mark.django_db
class TestPages:
    def test_it_opens_the_list_behind_a_register_figure_from_report_and_target_page(self, client, county_world):
        city, county, other, total, part = county_world
        figures.refresh(today=TODAY)
        leader = make_user("leader", unit=city, role=Role.LEADER)
        client.force_login(leader)
        url = reverse("registers:figure_rows", args=[total.pk, "2022-05"])
        report = client.get(reverse("reports:report", args=["2022", "05"]))
        assert url in report.content.decode()
        target_page = client.get(reverse("reports:target", args=["NEW-ABOVE"]), {"period": "2022-05"})
        assert url in target_page.content.decode()
        rows = client.get(url)
        assert [r[1] for r in page_rows(rows)] == ["示例企业0", "示例企业1", "示例企业2"]
        csv = client.get(url, {"_export": "csv"})
        assert csv["Content-Type"].startswith("text/csv") and "示例企业2" in csv.content.decode("utf-8-sig")
        xlsx = client.get(url, {"_export": "xlsx"})
        assert xlsx.status_code == 200 and "spreadsheetml" in xlsx["Content-Type"]

    def test_it_keeps_a_countys_clerk_to_the_countys_rows(self, client, county_world):
        city, county, other, total, part = county_world
        clerk = make_user("gy_clerk", unit=county, role=Role.CLERK)
        client.force_login(clerk)
        assert client.get(reverse("registers:figure_rows", args=[total.pk, "2022-05"])).status_code == 404
        own = client.get(reverse("registers:figure_rows", args=[part.pk, "2022-05"]))
        assert [r[1] for r in page_rows(own)] == ["示例企业0", "示例企业1"]
        assert client.get(reverse("registers:expected"), {"unit": other.pk}).status_code == 404
        assert client.get(reverse("registers:figure_rows", args=[part.pk, "2022-13"])).status_code == 400

    def test_it_lists_firms_expected_this_quarter_open_items_and_projects_behind(self, client, county_world):
        city, county, other, total, part = county_world
        project = Project.objects.create(name="示例项目", unit=county, kind="new", total_investment=Decimal("3"),
                                         signed_on=datetime.date(2022, 1, 5), planned_start="2022-04")
        Project.objects.create(name="示例已开工", unit=county, kind="new", total_investment=Decimal("3"),
                               stage="started", signed_on=datetime.date(2022, 1, 5),
                               started_on=datetime.date(2022, 3, 5), planned_start="2022-04")
        project.coordinations.create(raised_on=datetime.date(2022, 5, 1), request="用地指标", handler="规划科")
        project.coordinations.create(raised_on=datetime.date(2022, 4, 1), request="已解决", handler="规划科",
                                     solved_on=datetime.date(2022, 4, 9))
        client.force_login(make_user("leader", unit=city, role=Role.LEADER))
        expected = client.get(reverse("registers:expected"), {"period": "2022-08"})
        assert [r[1] for r in page_rows(expected)] == ["示例企业5"]
        # Months as people read them, not as keys: 预计入规月份 2022年X月, the planned month in the reason too.
        assert all("年" in r[4] and "月" in r[4] and "-" not in r[4] for r in page_rows(expected))
        assert page_rows(client.get(reverse("registers:expected"), {"period": "2022-05"})) == []
        items = client.get(reverse("registers:open_items"), {"handler": "规划科"})
        assert [r[2] for r in page_rows(items)] == ["用地指标"]
        behind = client.get(reverse("registers:behind"), {"period": "2022-05"})
        assert [r[1] for r in page_rows(behind)] == ["示例项目"]
        assert "计划2022年4月开工" in page_rows(behind)[0][-1]
        assert page_rows(client.get(reverse("registers:behind"), {"period": "2022-03"})) == []

    @pytest.mark.parametrize("name", ["registers:open_items", "registers:behind", "registers:expected"])
    def test_it_runs_the_same_queries_whatever_the_rows(self, client, county_world, django_assert_max_num_queries,
                                                         name):
        city, county, other, total, part = county_world
        client.force_login(make_user("leader", unit=city, role=Role.LEADER))

        def grow(n, start):
            for i, code in enumerate(codes(n, prefix=f"91341600MB{start}")):
                firm = make_firm(county, code, name=f"示例{start}-{i}")
                Listing.objects.create(firm=firm, kind="cultivation", joined_on=datetime.date(2022, 1, 1),
                                       expected_month="2022-07")
                project = Project.objects.create(name=f"示例项目{start}-{i}", unit=county, firm=firm, kind="new",
                                                 total_investment=2, signed_on=datetime.date(2022, 1, 3),
                                                 planned_start="2022-03")
                project.coordinations.create(raised_on=datetime.date(2022, 2, 1), request="协调", handler=f"科{i}")

        grow(2, 1)
        with django_assert_max_num_queries(12) as small:
            client.get(reverse(name), {"period": "2022-08"})
        grow(30, 2)
        with django_assert_max_num_queries(len(small.captured_queries)):
            response = client.get(reverse(name), {"period": "2022-08"})
        assert len(response.context["rows"]) >= 30


@pytest.mark.django_db
def test_it_ships_demo_registers_that_pass_every_check_and_load_twice():
    from django.core.management import call_command

    call_command("loaddata", "bozhou_2022", "demo", "registers_demo", verbosity=0)
    call_command("loaddata", "registers_demo", verbosity=0)
    firms = list(Firm.objects.all())
    assert len(firms) >= 200 and Project.objects.count() >= 200
    assert {f.unit.code for f in firms} == {"qiaocheng", "guoyang", "mengcheng", "lixin"}
    for row in [*firms, *Listing.objects.all(), *Project.objects.all()]:
        assert "示例" in str(row)
        row.full_clean()
    first = figures.refresh(today=TODAY)
    assert first.ok and len(first.created) == 3 * 7
    assert figures.refresh(today=TODAY).created == []


@pytest.mark.django_db
def test_it_names_the_registers_problems_in_the_bulletin_for_the_units_one_sees(client, county_world):
    import io

    from docx import Document

    city, county, other, total, part = county_world
    project = Project.objects.create(name="示例项目", unit=other, kind="new", total_investment=Decimal("3"),
                                     signed_on=datetime.date(2022, 1, 5), planned_start="2022-03")
    project.coordinations.create(raised_on=datetime.date(2022, 3, 1), request="用地", handler="规划科")

    def bulletin(user):
        client.force_login(user)
        response = client.get(reverse("reports:report", args=["2022", "08"]), {"_export": "docx"})
        return " ".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)

    with translation.override("zh-hans"):
        text = bulletin(make_user("leader", unit=city, role=Role.LEADER))
        assert "利辛县" in text and "1 个协调事项未解决" in text and "1 个项目未按计划推进" in text
        assert "涡阳县" in text and "1 家预计" in text  # 示例企业5, expected 2022-09, not entered
        clerk_text = bulletin(make_user("gy_clerk", unit=county, role=Role.CLERK))
        assert "利辛县" not in clerk_text and "涡阳县" in clerk_text


@pytest.mark.django_db
def test_it_shows_the_months_in_the_admin_without_a_way_round_the_scheduling_screen(client):
    county = make_unit("guoyang", kind="county")
    client.force_login(make_user("gy_admin_clerk", unit=county, role=Role.CLERK))
    project = Project.objects.create(name="示例技改项目", unit=county, kind=Project.Kind.RENOVATION,
                                     total_investment=Decimal("2"), stage=Project.Stage.BUILDING,
                                     started_on=datetime.date(2022, 3, 1))
    month = ProjectUpdate.objects.create(project=project, year=2022, month=5, stage=Project.Stage.BUILDING,
                                         completed_ytd=Decimal("0.5"))
    url = reverse("admin:registers_project_change", args=[project.pk])
    page = client.get(url)
    (updates,) = [f for f in page.context["inline_admin_formsets"] if f.opts.model is ProjectUpdate]
    assert not updates.has_change_permission and not updates.has_add_permission
    assert "0.5" in page.content.decode()
    # A crafted form with the inline's fields is ignored: the month is written only by the screen.
    form = page.context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items()
            if name in form.fields and not isinstance(value, list)}
    data.update({"updates-TOTAL_FORMS": "1", "updates-INITIAL_FORMS": "1", "updates-0-id": month.pk,
                 "updates-0-project": project.pk, "updates-0-completed_ytd": "9", "updates-0-stage": "building",
                 "updates-0-year": "2022", "updates-0-month": "5",
                 "coordinations-TOTAL_FORMS": "0", "coordinations-INITIAL_FORMS": "0"})
    response = client.post(url, data)
    assert response.status_code == 302, [(f.formset.prefix, f.formset.errors, f.formset.non_form_errors())
                                          for f in response.context["inline_admin_formsets"]]  # saved, month ignored
    month.refresh_from_db()
    assert month.completed_ytd == Decimal("0.5")
