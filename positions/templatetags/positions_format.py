from django import template

from api.types import decimal_string

register = template.Library()


@register.filter
def plain(value):
    """A Decimal as the API writes it: no exponent, no trailing zeros. Empty for None."""
    return "" if value is None else decimal_string(value)
