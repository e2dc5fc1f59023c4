"""The API instance: ``/api/``, its OpenAPI document at ``/api/openapi.json`` and docs at ``/api/docs``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Router
from ninja.openapi.schema import OpenAPISchema
from ninja.renderers import JSONRenderer

from .auth import AUTH
from .document import complete_document
from .errors import NotFound, install_error_handlers
from .routers import directory, inbox, letters, registers, search, tokens, verify, workflow

API_VERSION = "1.0.0"


class ThaiJSONRenderer(JSONRenderer):
    """JSON in UTF-8 as written (Thai stays readable rather than ``\\u0e..`` escapes)."""

    json_dumps_params = {"ensure_ascii": False}


class SarabanAPI(NinjaAPI):
    """ninja's API, its OpenAPI document completed (``document.py``: links, multipart part types)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        """The OpenAPI document, completed."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        complete_document(schema)
        return schema


api = SarabanAPI(
    title="Saraban API",
    version=API_VERSION,
    description=(
        "ระบบสารบรรณอิเล็กทรอนิกส์ Saraban: หนังสือ ขั้นตอนการเสนอ/ลงนาม/ออกเลข/ส่ง หนังสือเข้า ทะเบียน และทำเนียบ\n\n"
        "Letters, the workflow, the inbox, the registers and the directory. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `saraban api_token create --user U --name N`) "
        "or a signed-in browser session (writes then need the `X-CSRFToken` header). Every error is "
        '`{"code", "message_th", "message_en", "problems": [...]}` (a request body over 2.5 MB: 413). '
        "Ids are 1 to 2^63 − 1."
    ),
    auth=AUTH,
    renderer=ThaiJSONRenderer(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)

for module in (letters, workflow, inbox, registers, search, directory, tokens, verify):
    api.add_router("", module.router)

# Last: any other path under /api/ answers the JSON 404, not the web pages' HTML one.
unknown = Router(auth=None)


@unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False
)
def no_such_route(request: HttpRequest, rest: str) -> None:
    """Every path the API does not know."""
    raise NotFound()


api.add_router("", unknown)
