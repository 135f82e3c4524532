"""Endpoints for the carrier's machines, not for people: a bearer token, no session, no CSRF, JSON in and out."""

import hmac
import json
import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sims.network_events import ingest_network_events
from sims.network_events_push import rows_from_events_push
from sims.usage import ingest_usage
from sims.usage_push import PushError, rows_from_push

logger = logging.getLogger(__name__)
REALM = 'Bearer realm="carrier usage"'


def _configured(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Without CARRIER_PUSH_TOKEN the endpoint does not exist: 404 whatever the method, as for any unknown URL.

    Not 503: that says "try again later", and a carrier's push queue would retry for ever against a
    console that never enabled the push; a 404 is a permanent answer and tells a scanner nothing.
    """

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if not settings.CARRIER_PUSH_TOKEN:
            logger.warning("Carrier push refused: CARRIER_PUSH_TOKEN is not set, so the endpoint is off.")
            raise Http404("The carrier push is not enabled.")
        return view(request)

    return wrapper


@csrf_exempt
@_configured
@require_POST
def carrier_usage_push(request: HttpRequest) -> HttpResponse:
    """Ingest the pushed records; 200 with the counts and each rejected record's index and reason."""
    payload = _authorized_json(request, "records")
    if isinstance(payload, HttpResponse):
        return payload
    try:
        rows = rows_from_push(payload)
    except PushError as error:
        return _error(400, str(error), problems=error.problems, problem_count=error.problem_count)
    report = ingest_usage(rows)
    return JsonResponse(
        {
            "received": report.received,
            "ingested": report.ingested,
            "duplicates": report.duplicates,
            "rejected_count": report.rejected_count,
            "rejected": [
                {"index": rejected.line - 1, "record_id": rejected.record_id, "reason": rejected.reason}
                for rejected in report.rejected
            ],
            "paused": report.paused,
            "activated": report.activated,
        }
    )


@csrf_exempt
@_configured
@require_POST
def carrier_events_push(request: HttpRequest) -> HttpResponse:
    """Ingest pushed network events; 200 with the counts and each rejected event's index and reason.

    The same bearer token, size limit and error shapes as the usage push. The body:

        {"events": [{"event_id": "ev-1", "iccid": "8901...", "kind": "attach", "at": "2026-12-07T09:00:00Z",
                     "imei": "356938035643809", "operator": "Telekom.de 262-01", "country": "DE", "rat": "LTE-M",
                     "cell": "262-01-4411-20931", "cause": "", "bytes": 0}]}

    `kind` is one of attach, detach, session_start, session_end, location, auth_reject (with its
    `cause`); `bytes` is a session's data, on session_end. Pushing the same events again is harmless:
    each event id is stored once.
    """
    payload = _authorized_json(request, "events")
    if isinstance(payload, HttpResponse):
        return payload
    try:
        rows = rows_from_events_push(payload)
    except PushError as error:
        return _error(400, str(error), problems=error.problems, problem_count=error.problem_count)
    report = ingest_network_events(rows)
    return JsonResponse(
        {
            "received": report.received,
            "ingested": report.ingested,
            "duplicates": report.duplicates,
            "rejected_count": report.rejected_count,
            "rejected": [
                {"index": rejected.line - 1, "event_id": rejected.record_id, "reason": rejected.reason}
                for rejected in report.rejected
            ],
        }
    )


def _authorized_json(request: HttpRequest, what: str) -> object:
    """The decoded body of an authorized request within the size limit, or the error response."""
    unauthorized = _unauthorized(request)
    if unauthorized:
        return unauthorized
    limit = settings.CARRIER_PUSH_MAX_MB * 1024 * 1024
    body = _body_within(request, limit)
    if body is None:
        return _error(413, f"The body is over {settings.CARRIER_PUSH_MAX_MB} MB: push the {what} in smaller batches.")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: [[[[... nested thousands deep
        return _error(400, f"The body is not JSON ({str(error)[:120]}).")


def _unauthorized(request: HttpRequest) -> JsonResponse | None:
    """401 unless the request carries the push token (RFC 6750: invalid_token for a wrong one)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return _challenge('Send the carrier push token as "Authorization: Bearer <token>".', REALM)
    # Compared as bytes in constant time: how much of a guess matched must not show in the timing.
    if not hmac.compare_digest(given.strip().encode(), settings.CARRIER_PUSH_TOKEN.encode()):
        return _challenge("The token does not match this console's CARRIER_PUSH_TOKEN.", f'{REALM}, error="invalid_token"')
    return None


def _challenge(message: str, authenticate: str) -> JsonResponse:
    response = _error(401, message)
    response["WWW-Authenticate"] = authenticate
    return response


def _body_within(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` (refused on its declared length before reading it)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    # Not request.body: that stops at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), a limit for forms.
    body = request.read(limit + 1)
    return body if len(body) <= limit else None


def _error(status: int, message: str, **details) -> JsonResponse:
    return JsonResponse({"error": message, **details}, status=status)
