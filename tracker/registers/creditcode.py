"""The 统一社会信用代码 (unified social credit identifier) of GB 32100-2015.

18 characters from the alphabet 0-9 A-H J-N P-R T-U W-Y (no I, O, S, V, Z): registration authority (1),
kind of organisation (1), the registering office's administrative division (6, digits), the organisation's
own code (9), and a check character over the first 17. The character at position i (1-based) weighs
3^(i-1) mod 31; the check character is the one whose value is 31 - (sum mod 31), 31 counting as 0.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
SHAPE = re.compile(rf"^[{ALPHABET}]{{18}}$")
DIVISION = re.compile(r"^\d{6}$")


def check_character(first17):
    total = sum(ALPHABET.index(ch) * weight for ch, weight in zip(first17[:17], WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise(code):
    """Upper case without blanks (people paste codes with spaces or in lower case)."""
    return re.sub(r"\s+", "", code or "").upper()


def problem(code):
    """Why `code` is not a valid credit code, or None."""
    if len(code) != 18:
        return _("A unified social credit code has 18 characters; this one has %(n)s.") % {"n": len(code)}
    if not SHAPE.match(code):
        return _("A unified social credit code uses only digits and the capital letters A–Y without I, O, S, V "
                 "and Z.")
    if not DIVISION.match(code[2:8]):
        return _("Characters 3 to 8 of a unified social credit code are the administrative division, six digits.")
    expected = check_character(code[:17])
    if code[17] != expected:
        return _("The check character of this code should be %(expected)s, not %(found)s: a character is "
                 "mistyped.") % {"expected": expected, "found": code[17]}
    return None


def validate_credit_code(value):
    message = problem(value)
    if message:
        raise ValidationError(message, code="credit_code")
