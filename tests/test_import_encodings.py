"""Japanese and Traditional-Chinese files that happen to decode as GB18030 are refused with the encoding named;
real Simplified-Chinese GB18030 files, rare characters and all, still import exactly."""

import json
import re
from pathlib import Path

import pytest
from django.utils import translation

from tests.import_helpers import csv_bytes
from tracker.imports.charset import foreign_encoding
from tracker.imports.parsing import ImportFileError, parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Progress notes as a Japanese office would write them.
JAPANESE = [
    "今月の進捗：新規誘致企業は3社、計画どおり進んでいます。",
    "課題：人手不足のため、工場の建設工事が約2週間遅れています。",
    "工業生産額は前年同期比5.2%増となり、目標をやや上回りました。",
    "来月は設備投資の補助金申請を受け付ける予定です。",
    "東京都千代田区の本社と協議中。",
]
# The same kind of notes in Traditional Chinese (Taiwan / Hong Kong usage).
TRADITIONAL = [
    "本月新增規模以上工業企業三家，進度符合預期。",
    "存在問題：部分項目用地指標不足，資金到位較慢。",
    "工業增加值年增率為百分之五點二，略高於全省平均。",
    "已完成招商引資簽約項目十二項，總投資額新臺幣十五億元。",
    "數位經濟核心產業營收持續成長，臺北市與高雄市領先。",
]
# Typical Simplified-Chinese targets and notes, with the rarer characters real files contain
# (〇 in dates, ㎡, GBK-only characters in names such as 堃 and 镕).
SIMPLIFIED = [
    "新增规上工业企业", "规上工业增加值增速", "工业互联网平台", "亳州市谯城区", "涡阳县、蒙城县、利辛县",
    "按计划推进，进展顺利。", "存在问题：部分项目用地指标不足，资金到位较慢。",
    "完成固定资产投资12.5亿元，同比增长9.6%。",
    "二〇二二年", "建设标准化厂房5万㎡", "“专精特新”企业①②③", "联系人：王堃", "朱镕基", "4月新增4家",
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def notes_file(notes, encoding):
    return csv_bytes([[f"T{i}", "2022-03", "1", "", note] for i, note in enumerate(notes, 1)], encoding=encoding)


def refusal(data):
    with pytest.raises(ImportFileError) as exc:
        parse(data)
    return str(exc.value)


@pytest.mark.parametrize("encoding, name", [("cp932", "Shift-JIS"), ("shift_jis", "Shift-JIS"),
                                            ("euc_jp", "EUC-JP")])
def test_it_refuses_japanese_text_that_decodes_as_gb18030(encoding, name):
    data = notes_file(JAPANESE, encoding)
    data.decode("gb18030")  # the bytes do decode: only their meaning tells
    assert refusal(data) == (
        f"The file looks like {name} text, not Simplified Chinese (GB18030); read as GB18030 it would come out "
        "garbled. Save it as CSV UTF-8 and upload it again.")


@pytest.mark.parametrize("encoding", ["cp950", "big5"])
def test_it_refuses_traditional_chinese_big5_text_that_decodes_as_gb18030(encoding):
    data = notes_file(TRADITIONAL, encoding)
    data.decode("gb18030")
    assert "looks like Big5 text" in refusal(data)


@pytest.mark.parametrize("note", JAPANESE + ["完了"])
def test_it_refuses_a_single_japanese_note(note):
    data = notes_file([note], "cp932")
    data.decode("gb18030")
    assert "looks like Shift-JIS text" in refusal(data)


@pytest.mark.parametrize("note", TRADITIONAL)
def test_it_refuses_a_single_traditional_note(note):
    assert "looks like Big5 text" in refusal(notes_file([note], "cp950"))


def test_it_reads_typical_simplified_chinese_in_gb18030_exactly():
    parsed = parse(notes_file(SIMPLIFIED, "gb18030"))
    assert parsed.problems == []
    assert [r.note for r in parsed.rows] == SIMPLIFIED


@pytest.mark.parametrize("note", SIMPLIFIED)
def test_it_reads_each_simplified_note_alone_in_a_file(note):
    (row,) = parse(notes_file([note], "gb18030")).rows
    assert row.note == note


def chinese_texts_of_the_fixtures():
    texts = set()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and re.search(r"[\u4e00-\u9fff]", value):
            texts.add(value)

    for path in sorted(FIXTURES.glob("*.json")):
        walk(json.loads(path.read_text("utf-8")))
    return sorted(texts)


def test_every_chinese_text_of_the_plan_fixtures_passes_as_gb18030_alone_and_together():
    texts = chinese_texts_of_the_fixtures()
    assert len(texts) > 150
    for text in texts:
        data = text.encode("gb18030")
        assert foreign_encoding(data, data.decode("gb18030")) is None, text
    data = "\n".join(texts).encode("gb18030")
    assert foreign_encoding(data, data.decode("gb18030")) is None


def test_the_same_plan_texts_saved_as_big5_are_refused():
    # Traditional Big5 cannot hold most simplified characters; the texts it can hold, as Big5, are refused.
    encodable = []
    for text in chinese_texts_of_the_fixtures():
        try:
            encodable.append(text.encode("cp950"))
        except UnicodeEncodeError:
            continue
    assert encodable
    data = b"\n".join(encodable)
    assert foreign_encoding(data, data.decode("gb18030")) == "Big5"


def test_utf8_japanese_and_traditional_text_is_read_as_it_is():
    # Text saved as UTF-8 is never ambiguous: it is read as written, whatever the language.
    parsed = parse(notes_file(JAPANESE + TRADITIONAL, "utf-8"))
    assert [r.note for r in parsed.rows] == JAPANESE + TRADITIONAL


def test_a_gb18030_reading_of_mostly_unusual_characters_is_refused_even_without_a_better_reading():
    # Korean needs GB18030's four-byte sequences, which no Japanese or Big5 encoding reads; no Chinese office
    # writes it that way, and the file is safer saved as UTF-8.
    data = notes_file(["이번 달 신규 기업 유치는 계획대로 진행되고 있습니다"], "gb18030")
    assert refusal(data) == ("Read as GB18030 the file's text is mostly unusual characters, so it is probably in "
                             "another encoding. Save it as CSV UTF-8 and upload it again.")
