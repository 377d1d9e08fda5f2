"""Telling a GB18030 file from Japanese or Traditional-Chinese text that merely decodes as GB18030.

GB18030 accepts almost any byte sequence, so a Shift-JIS or Big5 file "decodes"
without an error, into nonsense. Real Simplified-Chinese text is nearly all
GB2312 characters (the 6,763 common Hanzi, punctuation, full-width forms);
Shift-JIS read as GB18030 is nearly none of them, Big5 read as GB18030 about a
third, with private-use and rare characters in between.

So each reading of the bytes gets a score: the share of its non-ASCII
characters that are ordinary in that writing system. A file is refused when
another encoding reads the same bytes cleanly and clearly better (by
`MARGIN`), or when the GB18030 reading is mostly unusual characters. A few
rare characters (a name like 王堃 or 朱镕基) never tip a real Chinese file.
"""

from collections import Counter

# Punctuation and symbols used in Chinese, Japanese and Traditional-Chinese text alike
# (Latin-1 signs, general punctuation, ℃ №, Ⅰ Ⅱ, arrows, maths, ①, box drawing, ■ ★,
# CJK punctuation and 〇, ㈠ ㎡, full-width forms without the half-width katakana).
SYMBOL_RANGES = (
    (0x00A0, 0x00FF), (0x2000, 0x206F), (0x2100, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F),
    (0x25A0, 0x26FF), (0x3000, 0x303F), (0x3200, 0x33FF), (0xFF01, 0xFF60), (0xFFE0, 0xFFE6),
)
# How much better another reading must score before the file is refused as that encoding.
MARGIN = 0.3
# Fewer unusual characters than this never refuse a file (one rare name must not).
MIN_UNUSUAL = 2
# With no better reading, a GB18030 reading this poor (and with this many unusual characters) is refused too.
POOR_SCORE = 0.5
MIN_UNUSUAL_WHEN_POOR = 10


def _is_symbol(code):
    return any(low <= code <= high for low, high in SYMBOL_RANGES)


def _is_hanzi(code):
    return 0x4E00 <= code <= 0x9FFF


def _simplified_weight(char):
    """Common Simplified Chinese: GB2312 Hanzi and the shared symbols."""
    code = ord(char)
    if _is_symbol(code):
        return 1
    if _is_hanzi(code):
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            return 0
        return 1
    return 0  # kana, Greek, Cyrillic, Hangul, private use, GB18030's four-byte ranges ...


def _japanese_weight(char):
    """Kana, JIS level-1 kanji (level 2 half), the shared symbols; half-width katakana half."""
    code = ord(char)
    if _is_symbol(code) or 0x3040 <= code <= 0x30FF:
        return 1
    if 0xFF61 <= code <= 0xFF9F:
        return 0.5
    if _is_hanzi(code):
        try:
            encoded = char.encode("cp932")
        except UnicodeEncodeError:
            return 0
        return 1 if encoded < b"\x98\x9f" else 0.5  # Shift-JIS orders level-1 kanji first
    return 0


def _traditional_weight(char):
    """Big5's frequent characters and symbols (less frequent ones half)."""
    try:
        encoded = char.encode("cp950")
    except UnicodeEncodeError:
        return 0
    if len(encoded) != 2:
        return 0
    if b"\xa1\x40" <= encoded <= b"\xa3\xbf" or b"\xa4\x40" <= encoded <= b"\xc6\x7e":
        return 1
    if b"\xc9\x40" <= encoded <= b"\xf9\xd5":
        return 0.5
    return 0


# (codec, name shown to people, weight of a character in that reading)
ALTERNATIVES = (
    ("cp932", "Shift-JIS", _japanese_weight),
    ("euc_jp", "EUC-JP", _japanese_weight),
    ("cp950", "Big5", _traditional_weight),
    ("big5hkscs", "Big5-HKSCS", _traditional_weight),
)


def _weigh(text, weight):
    """(number of non-ASCII characters, how many of them are ordinary), counting each distinct character once."""
    counts = Counter(text)
    total = ordinary = 0
    for char, count in counts.items():
        if char >= "\x80":
            total += count
            ordinary += count * weight(char)
    return total, ordinary


def foreign_encoding(data, gb18030_text):
    """The name of the encoding `data` (bytes that decoded as GB18030) is really in, or None.

    Returns "Shift-JIS", "EUC-JP", "Big5", "Big5-HKSCS", or "" when the GB18030
    reading is implausible but no other reading is clearly right.
    """
    total, ordinary = _weigh(gb18030_text, _simplified_weight)
    unusual = total - ordinary
    if unusual < MIN_UNUSUAL:
        return None
    score = ordinary / total
    best_name, best_score = None, 0
    for codec, name, weight in ALTERNATIVES:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        alt_total, alt_ordinary = _weigh(text, weight)
        if alt_total and alt_ordinary / alt_total > best_score:  # on a tie the first (commonest) encoding wins
            best_name, best_score = name, alt_ordinary / alt_total
    if best_name and best_score >= score + MARGIN:
        return best_name
    if score < POOR_SCORE and unusual >= MIN_UNUSUAL_WHEN_POOR:
        return ""
    return None
