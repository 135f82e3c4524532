"""A rule's scope as SQL over the alias `s` (the SIMs table): every SIM of the product, those a filter
of the SIMs page selects, those in a device with a tag, or in a device model (TAC)."""

from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import QueryDict

from devices.models import Device
from rules.kinds import ScopeKind
from rules.models import Rule


def scope_sql(rule: Rule, *, among: str = "") -> tuple[str, list]:
    """A condition on `s` (with its parameters); `among` (a subquery of SIM ids) narrows a filter's
    query to the SIMs a pass looks at, so the filter never reads the product's other SIMs."""
    if rule.scope_kind == ScopeKind.FILTER:
        from sims.views import selection_for

        selection = selection_for(rule.product, QueryDict(rule.scope_value.lstrip("?")))
        sims = selection.queryset
        if among:
            sims = sims.filter(pk__in=RawSQL(among, []))
        sql, params = sims.order_by().values("pk").query.sql_with_params()
        return f"s.id IN ({sql})", list(params)
    devices = Device._meta.db_table
    if rule.scope_kind == ScopeKind.TAG:
        if connection.vendor == "postgresql":
            tagged = "d.tags @> jsonb_build_array(%s::text)"
        else:
            tagged = "EXISTS (SELECT 1 FROM json_each(d.tags) WHERE json_each.value = %s)"
        return f"s.device_id IN (SELECT d.id FROM {devices} d WHERE d.product_id = %s AND {tagged})", [rule.product_id, rule.scope_value]
    if rule.scope_kind == ScopeKind.TAC:
        return (
            f"s.device_id IN (SELECT d.id FROM {devices} d WHERE d.product_id = %s AND d.imei LIKE %s)",
            [rule.product_id, rule.scope_value + "%"],
        )
    return "true", []
