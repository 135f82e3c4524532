"""The OpenAPI 3.1 document of both dialects, served at /api/schema/ and read by the docs page.

Each dialect describes itself in its own module (api/schema_particle.py, api/schema_emnify.py);
this one joins them, refusing a path or component name that both claim.
"""

from copy import deepcopy
from typing import Any

from api.schema_emnify import EMNIFY_COMPONENTS, EMNIFY_PATHS
from api.schema_particle import PARTICLE_COMPONENTS, PARTICLE_PATHS
from api.schema_rules import RULES_COMPONENTS, RULES_PATHS, RULES_TAG

VERSION = "1.0.0"
DESCRIPTION = """\
SIM Console speaks two existing SIM APIs, so their clients work when pointed at it:

- **Particle's** under `/v1/` (particle-api-js), with a bearer API token from the Tokens page;
- **emnify's** under `/api/v1/` (emnify-sdk), with an application token from the same page,
  exchanged for a short-lived bearer token at `POST /api/v1/authenticate`.

A token acts for one product, or for its creator's own SIMs, with the scopes chosen when it was
made, for as long as its creator stays in the product. Every change made through the API goes
through the same rules as the console's buttons and is recorded as a SIM event naming the token.
Requests are rate-limited per token: 10,000 in each 5 minutes by default (Particle's own limit; emnify's
are lower), so scripts written for either API are not refused. Every answer to a request with a live
token carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (the Unix time the
window closes); over the limit, a 429 in the dialect's error shape adds `Retry-After` in seconds.
"""


def _merged(name: str, *parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        clash = sorted(set(merged) & set(part))
        if clash:
            raise ValueError(f"Both dialects define the {name} {', '.join(clash)}: rename one.")
        merged.update(deepcopy(part))
    return merged


def openapi_document() -> dict[str, Any]:
    """A fresh document each call (it is small), so a caller may change its copy."""
    components: dict[str, Any] = {}
    parts = (PARTICLE_COMPONENTS, RULES_COMPONENTS, EMNIFY_COMPONENTS)
    for kind in sorted(set().union(*parts)):
        components[kind] = _merged(kind, *(part.get(kind, {}) for part in parts))
    tags = [
        {"name": "Particle: a product's SIMs", "description": "Particle's SIM API for the SIMs of the token's product."},
        {"name": "Particle: my own SIMs", "description": "Particle's SIM API for a developer's own SIMs (a token made for \"My own SIMs\")."},
        {"name": RULES_TAG, "description": "The product's rules (as on its Rules page), their firings and their waiting approvals, in Particle's style."},
    ]
    known = {tag["name"] for tag in tags}
    for item in EMNIFY_PATHS.values():
        for operation in item.values():
            for tag in operation.get("tags", []) if isinstance(operation, dict) else []:
                if tag not in known:
                    tags.append({"name": tag})
                    known.add(tag)
    return {
        "openapi": "3.1.0",
        "info": {"title": "SIM Console API", "version": VERSION, "description": DESCRIPTION},
        "tags": tags,
        "paths": _merged("path", PARTICLE_PATHS, RULES_PATHS, EMNIFY_PATHS),
        "components": components,
    }
