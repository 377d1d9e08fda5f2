"""Numbers as text: the one place that turns a Decimal into what a screen, a reason or an export shows.

- `plain_number`: a stored figure exactly, without trailing zeros (12.5000 -> "12.5"); forms, history, CSV.
- `fmt_number`: a computed figure rounded for reading (33.3333 -> "33.33", 80.0000 -> "80").
- `fmt_rate`: a growth rate or a number of points as published (one decimal, two if needed).
- `fmt_quantity`: a count or amount as a bureau writes it for its measure: whole things (家, 个, 次, 项, 户, 台)
  as whole numbers, money (亿元, 万元) to two decimals, rates and points as `fmt_rate`.
- `fmt_percent`: a share (0.375) as a percentage to one decimal ("37.5").
"""

from decimal import ROUND_HALF_UP, Decimal

Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")


def to_decimal(value):
    """A Decimal for any number (None stays None); floats go through their text, never their binary value."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def quantize(value, places=Q2):
    """Rounded half up to `places` (a Decimal such as Q2); None stays None."""
    return None if value is None else value.quantize(places, rounding=ROUND_HALF_UP)


def plain_number(value):
    """Decimal('12.5000') -> '12.5', without exponent notation; None -> ''."""
    if value is None:
        return ""
    return format(to_decimal(value).normalize(), "f")


def plain_decimal(value):
    """Decimal('12.5000') -> Decimal('12.5'): shown without trailing zeros, still compared as a number."""
    return None if value is None else Decimal(plain_number(value))


def fmt_number(value, places=None):
    """Plain text for a number: no trailing zeros beyond `places` (default two), thousands left alone."""
    if value is None:
        return ""
    value = to_decimal(value)
    if places is not None:
        return f"{quantize(value, Decimal(1).scaleb(-places)):f}"
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    return f"{quantize(value, Q2):f}".rstrip("0").rstrip(".")


def fmt_rate(value):
    """A growth rate or a number of points as published: one decimal, more if needed."""
    value = to_decimal(value)
    if value == quantize(value, Decimal("0.1")):
        return fmt_number(value, 1)
    return fmt_number(value, 2)


# Measures of things counted one by one: an expectation of 33.33 firms is written 33.
WHOLE_MEASURES = frozenset({"家", "个", "次", "项", "户", "台"})
MONEY_MEASURES = frozenset({"亿元", "万元"})
RATE_MEASURES = frozenset({"%", "百分点"})


def places_for(measure):
    """Decimal places a figure of this measure is written with (None: as few as needed, at most two)."""
    if measure in WHOLE_MEASURES:
        return 0
    if measure in MONEY_MEASURES:
        return 2
    if measure in RATE_MEASURES:
        return 1
    return None


def fmt_quantity(value, measure):
    if value is None:
        return ""
    if measure in RATE_MEASURES:
        return fmt_rate(value)
    return fmt_number(value, places_for(measure))


def fmt_percent(share):
    """0.375 -> '37.5' (a share written as a percentage to one decimal); None -> ''."""
    return "" if share is None else fmt_number(to_decimal(share) * 100, 1)
