"""OpenAPI descriptions of the request bodies. Bodies are parsed by :mod:`payload` (orjson + NumPy), not by
pydantic, so that a 1,000-row matrix costs one ``np.asarray`` and errors can name the row and column."""

from __future__ import annotations

from typing import Any

NUMBER = {"type": "number"}
ROWS = {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 1, "items": NUMBER},
        "description": "Rows of numbers, all of the same length.", "example": [[0.1, 1.2], [0.3, -0.4], [5.0, 9.0]]}
PARAMS = {"type": "object", "additionalProperties": True, "description": "Constructor parameters.", "example": {}}
NAMES = {"type": "array", "items": {"type": "string"}, "description": "One name per column."}
ERROR = {"type": "object", "required": ["code", "message"],
         "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}


def obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


DETECT_JSON = obj({
    "detector": {"type": "string", "default": "ecod", "description": "Detector name (see /v1/detectors)."},
    "params": PARAMS,
    "data": ROWS,
    "feature_names": NAMES,
    "labels": {"type": "array", "items": {"type": "integer", "enum": [0, 1]},
               "description": "Optional 0/1 ground truth: adds ROC-AUC and average precision."},
    "top": {"type": "integer", "minimum": 0, "default": 10},
}, ["data"])
DETECT_FORM = obj({
    "file": {"type": "string", "format": "binary", "description": "A numeric CSV with a header row."},
    "detector": {"type": "string", "default": "ecod"},
    "params": {"type": "string", "description": "Detector parameters as a JSON object."},
    "labels": {"type": "string", "description": "Name of a 0/1 label column of the CSV."},
    "top": {"type": "integer", "minimum": 0, "default": 10},
}, ["file"])
MODEL_CREATE = obj({
    "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"},
    "detector": {"type": "string", "default": "ecod"},
    "params": PARAMS,
    "data": ROWS,
    "feature_names": NAMES,
}, ["name", "data"])
SCORE = obj({"data": ROWS}, ["data"])
DRIFT = obj({
    "test": {"type": "string", "default": "ks", "description": "Drift test name (see /v1/plugins)."},
    "params": PARAMS,
    "reference": ROWS,
    "current": ROWS,
    "feature_names": NAMES,
}, ["reference", "current"])
EXPLAIN = obj({
    "model": {"type": "string", "description": "A registered model; else `detector` is fitted on `background` "
                                               "(or on `data`)."},
    "version": {"type": "integer", "minimum": 1},
    "detector": {"type": "string", "default": "ecod"},
    "params": PARAMS,
    "explainer": {"type": "string", "default": "permutation"},
    "explainer_params": PARAMS,
    "data": ROWS,
    "background": ROWS,
    "feature_names": NAMES,
    "k": {"type": "integer", "minimum": 1, "default": 3, "description": "Features listed per row."},
}, ["data"])


def body(schema: dict[str, Any], form: dict[str, Any] | None = None) -> dict[str, Any]:
    """``openapi_extra`` for a route whose body is ``schema`` (JSON) and optionally ``form`` (multipart)."""
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if form is not None:
        content["multipart/form-data"] = {"schema": form}
    return {"requestBody": {"required": True, "content": content}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route documents (all share the JSON error body)."""
    text = {400: "Malformed JSON or form", 401: "Missing, invalid or revoked API key",
            403: "The key's role does not allow this route", 404: "Unknown model or name",
            409: "The model cannot be loaded here", 413: "Request body too large",
            422: "Invalid input (names the field, row and column)", 504: "The request timed out"}
    return {s: {"description": text[s], "content": {"application/json": {"schema": ERROR}}} for s in statuses}
