"""`in` on integer columns that ignores numbers outside the column's range.

Django already does this for `exact`, `lt`, `gt` and friends: `pk=10**30` simply
matches nothing. `pk__in=[10**30]` still reaches the database, where SQLite
raises OverflowError; a tampered admin form (a many-to-many choice, a list's
selected rows) would then give a server error instead of "not a valid choice".
"""

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [
                value for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)
