"""The OpenAPI description of emnify's dialect under /api/v1/: a placeholder.

The engineer writing the emnify dialect fills this module on their branch; their file replaces
this one when the branches merge. Until then the schema describes Particle's dialect alone.
"""

from typing import Any

EMNIFY_PATHS: dict[str, Any] = {}
EMNIFY_COMPONENTS: dict[str, Any] = {}
