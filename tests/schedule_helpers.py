"""Reading and posting back the scheduling screens' forms in tests."""

from tracker.registers.creditcode import check_character


def post_data(page, **changes):
    """The screen's form as displayed, with changes {field name: value}."""
    data = {}
    for row in page.context["rows"]:
        form = row[3]
        if form is None:  # a read-only row
            continue
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            data[form.add_prefix(name)] = "" if value is None else ("on" if value is True else value)
            if value is False:
                data.pop(form.add_prefix(name))
    data.update(changes)
    return data


def form_of(response, subject):
    return next(row[3] for row in response.context["rows"] if row[0].pk == subject.pk)


def credit_code(n, prefix="91341621MA2"):
    """A valid 统一社会信用代码 numbered n."""
    first = f"{prefix}{n:06d}"[:17]
    return first + check_character(first)
