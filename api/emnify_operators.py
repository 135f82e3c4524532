"""emnify's operator list, GET /api/v1/operator (emnify-sdk 0.5.3: `client.operator.get_operators()`), where
a script finds the ids an endpoint's operator blacklist takes. emnify lists every network it roams on; SIM
Console lists the networks it knows of for the token: those its SIMs are on now (their connectivity,
"Telekom.de 262-01") and those in its product's endpoints' blacklists. An operator's id is its MCC and MNC
as one number, 26201 for 262-01 (api/emnify_endpoints.py)."""

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from api.auth import ApiError, Caller
from api.emnify_endpoints import operator_json
from api.models import BlacklistedOperator, Scope
from api.emnify import emnify_view
from sims.models import SimConnectivity

NETWORK = re.compile(r"^(?P<name>.*?)\s*(?P<mcc>[2-7][0-9]{2})-(?P<mnc>[0-9]{2,3})$")


def list_operators(request: HttpRequest, caller: Caller) -> HttpResponse:
    if request.GET:
        raise ApiError(400, f"Unknown parameter {', '.join(sorted(request.GET))}: the operator list takes none.")
    product_id = caller.token.product_id
    networks = SimConnectivity.objects.filter(product_id=product_id) if product_id else SimConnectivity.objects.filter(sim__owner_user=caller.token.user_id)
    operators: dict[int, dict[str, Any]] = {}
    for text, country in networks.exclude(operator="").order_by().values_list("operator", "country").distinct():
        found = NETWORK.match(text)
        if found is None:
            continue  # a network named without its MCC-MNC has no emnify id
        operator = operator_json(int(found["mcc"] + found["mnc"]))
        operator["name"] = found["name"] or operator["name"]
        operator["country"]["iso_code"] = country.lower() or None
        operators.setdefault(operator["id"], operator)
    if product_id:
        for operator_id in BlacklistedOperator.objects.filter(device__product=product_id).order_by().values_list("operator_id", flat=True).distinct():
            operators.setdefault(operator_id, operator_json(operator_id) | {"country": {"mcc": str(operator_id)[:3], "iso_code": None}})
    return JsonResponse([operators[key] for key in sorted(operators)], safe=False)


operators_endpoint = emnify_view(GET=(Scope.SIMS_LIST, list_operators))
