"""OpenAPI post-processing: document the error responses every endpoint can give."""

ERROR_BODY = {
    "type": "object",
    "description": "Each invalid parameter (or `detail`) with what is wrong with it.",
    "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
}
DETAIL_BODY = {"type": "object", "properties": {"detail": {"type": "string"}}}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def document_error_responses(result, generator, request, public):
    """400 for bad parameters, 404 for unknown records, 429 (with Retry-After) when throttled."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if operation.get("parameters"):
                responses.setdefault(
                    "400", {"description": "A parameter is invalid.", "content": _json(ERROR_BODY)}
                )
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            if "{" in path or "page" in names:
                responses.setdefault(
                    "404",
                    {
                        "description": "No published record with this id, or no such page.",
                        "content": _json(DETAIL_BODY),
                    },
                )
            responses.setdefault(
                "429",
                {
                    "description": "Too many requests from this client; retry after the given seconds.",
                    "headers": {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                    },
                    "content": _json(DETAIL_BODY),
                },
            )
    return result
