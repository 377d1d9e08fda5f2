"""Small builders for test data; each takes overrides as keyword arguments."""

import itertools
from decimal import Decimal

from django.contrib.auth import get_user_model

from tracker.accounts.models import Membership
from tracker.targets.models import Plan, ProgressEntry, Section, Target, Unit

_seq = itertools.count(1)


def make_plan(year=2022, **kw):
    plan, _ = Plan.objects.get_or_create(year=year, defaults={"title": f"{year}年工作要点", **kw})
    return plan


def make_section(plan=None, number=1, **kw):
    plan = plan or make_plan()
    section, _ = Section.objects.get_or_create(
        plan=plan, number=number, defaults={"name": f"第{number}部分", "name_en": f"Part {number}", **kw}
    )
    return section


def make_unit(code=None, **kw):
    code = code or f"unit-{next(_seq)}"
    kw.setdefault("name", code)
    return Unit.objects.create(code=code, **kw)


def make_target(kind=Target.Kind.CUMULATIVE, **kw):
    n = next(_seq)
    plan = kw.pop("plan", None) or make_plan()
    section = kw.pop("section", None) or make_section(plan)
    lead_unit = kw.pop("lead_unit", None) or make_unit()
    defaults = {
        Target.Kind.GROWTH: {"measure": "%", "target_value": Decimal("8"), "tolerance": Decimal("0.5")},
        Target.Kind.MARGIN: {"measure": "百分点", "target_value": Decimal("0.5"), "comparator_name": "全省"},
        Target.Kind.CUMULATIVE: {"measure": "家", "target_value": Decimal("80")},
        Target.Kind.MILESTONE: {"deadline": "2022-12-31"},
        Target.Kind.RECURRING: {"measure": "次", "target_value": Decimal("4"), "frequency": "quarter"},
        Target.Kind.QUALITATIVE: {},
    }[kind]
    fields = {"code": f"T{n:04d}", "name": f"目标{n}", "name_en": f"Target {n}", "kind": kind, **defaults, **kw}
    return Target.objects.create(plan=plan, section=section, lead_unit=lead_unit, **fields)


def make_user(username=None, unit=None, role=Membership.Role.CLERK, **kw):
    username = username or f"user{next(_seq)}"
    kw.setdefault("email", f"{username}@example.com")
    user = get_user_model().objects.create_user(username=username, password=kw.pop("password", "pw-Secret-123"), **kw)
    user.is_staff = True
    user.save()
    if unit is not None:
        Membership.objects.create(user=user, unit=unit, role=role)
    return user


def make_entry(target, month, value=None, year=2022, **kw):
    return ProgressEntry.objects.create(target=target, year=year, month=month, value=value, **kw)
