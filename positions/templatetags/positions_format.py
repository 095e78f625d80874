from django import template
from django.utils.html import format_html, format_html_join

from exchanges.decimals import decimal_string
from positions import formatting

register = template.Library()


@register.filter
def plain(value):
    """A Decimal as the API writes it: no exponent, no trailing zeros. Empty for None."""
    return "" if value is None else decimal_string(value)


@register.simple_tag
def board_cell(row: dict, field: str):
    """One cell of a board row, as the board page's script draws it too (`renderCell`)."""
    text = row.get(field, "")
    content = format_html('<a href="{}">{}</a>', row["url"], text) if field == "symbol" and row.get("url") else text
    badge = row.get("badge", {}).get(field)
    if badge:
        content = format_html('<span class="badge">{}</span> {}', badge, content)
    attributes = [("data-field", field)]
    if field in row["css"]:
        attributes.append(("class", row["css"][field]))
    if field in row["exact"]:
        attributes += [("title", row["exact"][field]), ("data-exact", row["exact"][field])]
    return format_html("<td{}>{}</td>", format_html_join("", ' {}="{}"', attributes), content)


@register.simple_tag
def number_cell(shown: formatting.Shown, css: str = "num"):
    """A table cell with a number as the pages write it, and its exact value on hover."""
    if not shown.exact:
        return format_html('<td class="{}">{}</td>', css, shown.text)
    return format_html('<td class="{}" title="{}" data-exact="{}">{}</td>', css, shown.exact, shown.exact, shown.text)


@register.simple_tag
def number(shown: formatting.Shown):
    """A number as the pages write it, in a span with its exact value on hover."""
    if not shown.exact:
        return shown.text
    return format_html('<span title="{}" data-exact="{}">{}</span>', shown.exact, shown.exact, shown.text)
