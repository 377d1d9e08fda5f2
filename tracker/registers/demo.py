"""Invented registers (示例) for the four counties: firms, their lists, projects, their months and coordination
items, and three demo targets that take their figures from them.

`fixture()` returns Django fixture rows with fixed primary keys (loading twice changes nothing);
`fixtures/registers_demo.json` is its output (`python -m tracker.registers.demo > fixtures/registers_demo.json`).
The same generator feeds bench/registers.py at scale. Deterministic: a seeded random generator.
"""

import json
import random
import sys
from datetime import date, timedelta

from tracker.registers.creditcode import check_character

# The counties of bozhou_2022 (unit pk, division code of GB/T 2260, short name).
COUNTIES = [(2, "341602", "谯城"), (3, "341621", "涡阳"), (4, "341622", "蒙城"), (5, "341623", "利辛")]
# Bozhou's leading industries first (liquor, medicine), then others.
INDUSTRIES = ["15", "27", "27", "15", "13", "14", "30", "33", "34", "38", "29", "17", "18", "21", "39"]
WORDS = ["古井", "药都", "华佗", "涡河", "庄周", "曹操", "林泉", "天润", "康美", "金牛",
         "润丰", "瑞祥", "恒达", "宏图", "安康", "鼎盛", "兴旺", "惠民", "科达", "绿源"]
TRADES = {"15": "酒业", "27": "药业", "13": "食品", "14": "食品", "30": "建材", "33": "金属制品", "34": "机械",
          "38": "电气", "29": "塑业", "17": "纺织", "18": "服饰", "21": "家具", "39": "电子"}
HANDLERS = ["市经信局项目科", "市自然资源局", "市生态环境局", "县经信局", "供电公司", "市发改委"]
REQUESTS = ["用地指标落实", "环评批复加快", "电力增容", "融资对接", "施工许可办理", "招工用工"]


def credit_code(division, serial):
    first = f"91{division}MA2{serial:06d}"[:17]
    return first + check_character(first)


def rows(firm_count=300, project_count=200, year=2022, months=5, seed=2022, pk_start=1, demo=True):
    """(firms, listings, projects, updates, coordinations) as dicts of model fields with pks."""
    rnd = random.Random(seed)
    mark = "（示例）" if demo else ""
    firms, listings, projects, updates, items = [], [], [], [], []
    for n in range(firm_count):
        pk = pk_start + n
        unit, division, place = COUNTIES[n % len(COUNTIES)]
        industry = INDUSTRIES[rnd.randrange(len(INDUSTRIES))]
        name = f"亳州{place}{WORDS[rnd.randrange(len(WORDS))]}{TRADES[industry]}有限公司{pk}{mark}"
        firms.append({"pk": pk, "name": name, "credit_code": credit_code(division, pk), "unit": unit,
                      "industry": [industry], "size": rnd.choice(["small", "small", "micro", "medium"]),
                      "contact_person": f"联系人{pk}", "contact_phone": f"0558-{5500000 + pk}",
                      "address": "", "note": "示例数据" if demo else ""})
        joined = date(year - 1, 1 + n % 12, 1 + n % 27)
        share = n % 10
        if share < 4:  # 入规培育库: 40% of firms
            state = ["entered", "active", "active", "removed"][n % 4]
            expected = f"{year:04d}-{1 + rnd.randrange(12):02d}"
            entered = f"{year:04d}-{1 + rnd.randrange(months):02d}" if state == "entered" else ""
            listings.append({"firm": pk, "kind": "cultivation", "state": state, "joined_on": joined.isoformat(),
                             "expected_month": "" if state != "active" else expected, "entered_month": entered,
                             "left_on": date(year, 3, 1).isoformat() if state == "removed" else None,
                             "reason": "营业收入下滑，暂不具备入规条件" if state == "removed" else ""})
        if share in (4, 5) or n % 13 == 0:
            level = ["city", "city", "province", "national"][n % 4]
            listings.append({"firm": pk, "kind": "specialised", "state": "active", "joined_on": joined.isoformat(),
                             "level": level, "recognised_year": year - 1 + n % 2})
        if n % 17 == 0:
            listings.append({"firm": pk, "kind": "listing_plan", "state": "active", "joined_on": joined.isoformat()})
        if n % 9 == 0:
            listings.append({"firm": pk, "kind": "monitored", "state": "active", "joined_on": joined.isoformat()})
    for n in range(project_count):
        pk = pk_start + n
        firm = firms[rnd.randrange(len(firms))]
        total = rnd.choice(["0.6", "1.2", "2.5", "3", "5", "8", "12", "20"])
        signed = date(year, 1, 1) + timedelta(days=rnd.randrange(months * 30))
        if n % 5 == 0:
            signed = date(year - 1, 1 + n % 12, 10)
        stage_no = rnd.randrange(5)
        stage = ["signed", "started", "building", "completed", "producing"][stage_no]
        dates = {"signed_on": signed}
        for step, name in enumerate(["started_on", "completed_on", "producing_on"], start=1):
            threshold = {1: 1, 2: 3, 3: 4}[step]
            if stage_no >= threshold:
                dates[name] = dates.get("started_on", signed) + timedelta(days=20 * step)
        if n % 23 == 0:
            stage = "suspended"
            dates["suspended_on"] = signed + timedelta(days=40)
        planned_start = (signed + timedelta(days=45)).strftime("%Y-%m")
        projects.append({
            "pk": pk, "name": f"{firm['name'].replace(mark, '')}年产项目{pk}{mark}", "unit": firm["unit"],
            "firm": firm["pk"], "kind": ["new", "renovation", "expansion"][n % 3], "total_investment": total,
            "in_province_list": n % 3 == 1, "stage": stage,
            **{k: v.isoformat() for k, v in dates.items()},
            "suspended_reason": "资金未到位，暂缓建设" if stage == "suspended" else "",
            "planned_start": planned_start, "planned_production": f"{year:04d}-{min(12, 6 + n % 7):02d}",
        })
        if stage_no >= 1 and stage != "suspended":
            done = 0
            for month in range(1, months + 1):
                done += float(total) * rnd.choice([0.02, 0.04, 0.06])
                updates.append({"project": pk, "year": year, "month": month, "stage": stage,
                                "completed_ytd": f"{done:.4f}", "progress": f"{month}月按计划推进",
                                "problems": "用工紧张" if n % 11 == 0 else ""})
        if n % 5 == 1:
            raised = date(year, 1 + n % months, 1 + n % 27)
            solved = raised + timedelta(days=15) if n % 3 == 0 else None
            items.append({"project": pk, "raised_on": raised.isoformat(), "request": REQUESTS[n % len(REQUESTS)],
                          "handler": HANDLERS[n % len(HANDLERS)], "solved_on": solved and solved.isoformat(),
                          "outcome": "已协调解决" if solved else ""})
    return firms, listings, projects, updates, items


# Demo targets of bozhou_2022's plan (pk 1) taking their figures from the registers.
DEMO_TARGETS = [
    (1101, 1, "DEMO-R-1", "新增入规企业（示例，取自企业库）", "家", "80", {"aggregation": "entered"}),
    (1102, 2, "DEMO-R-2", "新签约亿元以上工业项目（示例，取自项目库）", "个", "205",
     {"aggregation": "signed", "min_investment": "1"}),
    (1103, 2, "DEMO-R-3", "重点项目完成投资（示例，取自项目库）", "亿元", "300", {"aggregation": "investment"}),
]


STAMP = "2022-06-01T09:00:00+08:00"  # updated_at (auto_now is not applied when a fixture loads)


def fixture():
    firms, listings, projects, updates, items = rows()
    for row in firms + projects + updates:
        row["updated_at"] = STAMP
    out = []
    for firm in firms:
        out.append({"model": "registers.firm", "pk": firm.pop("pk"), "fields": firm})
    for pk, listing in enumerate(listings, start=1):
        out.append({"model": "registers.listing", "pk": pk, "fields": listing})
    for project in projects:
        out.append({"model": "registers.project", "pk": project.pop("pk"), "fields": project})
    for pk, update in enumerate(updates, start=1):
        out.append({"model": "registers.projectupdate", "pk": pk, "fields": update})
    for pk, item in enumerate(items, start=1):
        out.append({"model": "registers.coordination", "pk": pk, "fields": item})
    for pk, section, code, name, measure, value, figure in DEMO_TARGETS:
        out.append({"model": "targets.target", "pk": pk, "fields": {
            "plan": 1, "section": section, "code": code, "name": name, "name_en": "", "kind": "cumulative",
            "description": "示例数据：取自示例企业库、项目库的目标，不是文章内容。", "measure": measure,
            "target_value": value, "lead_unit": 1, "deadline": "2022-12-31", "order": 200 + pk % 100,
            "combined_jan_feb": False}})
        out.append({"model": "registers.registerfigure", "pk": pk, "fields": {"target": pk, **figure}})
    return out


if __name__ == "__main__":
    json.dump(fixture(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
