from django import template

from tracker.targets.numbers import fmt_number

register = template.Library()


@register.filter
def num(value):
    """A figure without trailing zeros (80.0000 -> 80, 33.3333 -> 33.33); blank for None."""
    return fmt_number(value)
