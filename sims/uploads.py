"""Uploads refused at their size limit while they arrive, not after.

Django's own handlers keep an upload in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE and spool the
rest to a temporary file, whatever its size: a view that checks `upload.size` has already let a
1 GB body be written to disk (and, with `upload.read()`, into memory). `limit_upload` puts a
handler in front of them that refuses a body whose declared length is over the limit before
reading any of it, and stops reading one whose file data goes over it (a client may lie about
the length): at most the limit ever reaches the disk.

The handler must be in place before anything reads request.POST, and CsrfViewMiddleware does
(it looks for the token field): so the view is exempted from the middleware and checks CSRF
itself afterwards, as Django's documentation on upload handlers advises.
"""

from collections.abc import Callable
from functools import wraps

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt, csrf_protect

# The rest of a multipart body besides the file: boundaries, part headers, the CSRF token.
FORM_OVERHEAD = 64 * 1024


class LimitedUploadHandler(FileUploadHandler):
    """Lets through at most `limit` bytes of files in one request; `too_large` says it refused."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False
        self._received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.limit + FORM_OVERHEAD:
            self.too_large = True
            return QueryDict(encoding=encoding), MultiValueDict()  # parsed as empty: nothing is read
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # Counted over all the files of the request: a hundred files just under the limit are over it.
        self._received += len(raw_data)
        if self._received > self.limit:
            self.too_large = True
            # Stop reading; the files received so far are closed and dropped, the rest is never read.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def limit_upload(limit: Callable[[], int], refuse: Callable[[HttpRequest], HttpResponse]):
    """A view whose uploads are cut at `limit()` bytes; an upload over it gets `refuse(request)` (413).

    The 413 comes before the CSRF check: it changes nothing, and the token may be in the part of
    the body that was never read. Everything else is checked for CSRF as before.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        protected = csrf_protect(view)

        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            handler = LimitedUploadHandler(request, limit())
            request.upload_handlers.insert(0, handler)
            request.FILES  # noqa: B018 - parse now, through the handler
            if handler.too_large:
                return refuse(request)
            return protected(request, *args, **kwargs)

        return wrapper

    return decorator
