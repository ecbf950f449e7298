"""An OpenAPI 3.1 description of one provider service, generated from its data elements.

Consumers read what a service offers (each element's type, format, code list and
classification; each claim and the values it takes) in the form their tools know,
without a hand-written document that could drift from the registry.
"""

from __future__ import annotations

from typing import Any

from tongban.exchange.elements import DataElement, Registry, load_registry
from tongban.exchange.models import ExchangeProvider, ExchangeService
from tongban.exchange.protocol import PROTOCOL
from tongban.exchange.transport import ENDPOINT


def element_schema(element: DataElement, registry: Registry) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "title": element.name,
        "description": f"{element.name_en} ({element.code}); level {element.level}, "
        f"personal information: {element.personal}",
        "type": "integer" if element.type == "integer" else "string",
        "x-data-element": element.code,
    }
    if element.type == "date":
        schema["format"] = "date"
    if element.codelist:
        codes = registry.codelists[element.codelist].codes
        schema["enum"] = list(codes)
        schema["x-code-labels"] = dict(codes)
    if element.minimum is not None:
        schema["minimum"] = element.minimum
    if element.maximum is not None:
        schema["maximum"] = element.maximum
    return schema


def service_openapi(
    service: ExchangeService, provider: ExchangeProvider, node_id: str
) -> dict[str, Any]:
    registry = load_registry()
    records = {code: element_schema(registry.elements[code], registry) for code in service.elements}
    claims = {
        name: {
            "description": claim.get("label", name),
            "values": {
                code: element_schema(registry.elements[code], registry)
                for code in claim.get("equals", [])
            },
            "fixed": claim.get("fixed", {}),
            "until": claim.get("until", []),
        }
        for name, claim in service.claims.items()
    }
    request = {
        "type": "object",
        "required": ["body", "signature"],
        "properties": {
            "body": {
                "type": "object",
                "properties": {
                    "protocol": {"const": PROTOCOL},
                    "provider_node": {"const": node_id},
                    "service": {"const": service.code},
                    "elements": {"type": "array", "items": {"enum": list(service.elements)}},
                    "claim": {"enum": [*service.claims, None]},
                    "subject": {"type": "string", "description": "the lookup key (公民身份号码)"},
                },
            },
            "signature": {"$ref": "#/components/schemas/Signature"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{service.name}（{service.code}）",
            "version": "1",
            "description": f"{provider.name}；{service.description}".rstrip("；"),
            "x-provider": provider.code,
            "x-claims": claims,
        },
        "paths": {
            ENDPOINT: {
                "post": {
                    "operationId": service.code,
                    "summary": service.name,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request}},
                    },
                    "responses": {
                        "200": {
                            "description": "answered (signed, bound to the request hash)",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Response"}
                                }
                            },
                        },
                        "403": {"description": "refused: not authorized or no consent"},
                        "503": {"description": "the source is unavailable"},
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Record": {"type": "object", "properties": records},
                "Signature": {
                    "type": "object",
                    "properties": {
                        "algorithm": {"enum": ["ed25519", "sm2"]},
                        "key_id": {"type": "string"},
                        "value": {"type": "string", "contentEncoding": "base64"},
                    },
                },
                "Response": {
                    "type": "object",
                    "properties": {
                        "body": {
                            "type": "object",
                            "properties": {
                                "request_hash": {"type": "string"},
                                "status": {"enum": ["answered", "refused", "unavailable"]},
                                "claim_holds": {"type": ["boolean", "null"]},
                                "records": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Record"},
                                },
                            },
                        },
                        "signature": {"$ref": "#/components/schemas/Signature"},
                    },
                },
            }
        },
    }
