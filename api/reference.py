"""The docs page's reading of the OpenAPI document: operations grouped by tag, with their
parameters, body fields, responses and auth resolved from $refs into plain rows for the template."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

METHODS = ("get", "head", "post", "put", "patch", "delete")


@dataclass
class Row:
    name: str
    where: str
    type: str
    required: bool
    description: SafeString


@dataclass
class Answer:
    status: str
    description: SafeString
    example: str  # indented JSON for a success, one line for an error

    @property
    def success(self) -> bool:
        return self.status.startswith("2")


@dataclass
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: SafeString
    auth: list[str]
    scopes: list[str]
    parameters: list[Row]
    body_fields: list[Row]
    body_types: list[str]
    body_example: str
    answers: list[Answer]


@dataclass
class Section:
    name: str
    anchor: str
    description: SafeString
    operations: list[Operation] = field(default_factory=list)


def inline_markdown(text: str) -> SafeString:
    """The little Markdown the descriptions use: `code`, **strong**, paragraphs and - lists."""
    if not text.strip():
        return mark_safe("")
    html: str = escape(text)
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    html = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)
    blocks = []
    for block in re.split(r"\n\s*\n", html.strip()):
        lines = [line.strip() for line in block.splitlines()]
        if lines[0].startswith("- "):
            items: list[list[str]] = []
            for line in lines:
                if line.startswith("- "):
                    items.append([line.removeprefix("- ")])
                else:
                    items[-1].append(line)
            blocks.append("<ul>" + "".join(f"<li>{' '.join(item)}</li>" for item in items) + "</ul>")
        else:
            blocks.append(" ".join(lines))
    if len(blocks) == 1 and not blocks[0].startswith("<ul>"):
        return mark_safe(blocks[0])  # noqa: S308 - escaped above
    return mark_safe("".join(b if b.startswith("<ul>") else f"<p>{b}</p>" for b in blocks))  # noqa: S308


class Reader:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def type_of(self, schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            return schema["$ref"].rsplit("/", 1)[-1]
        schema = self.resolve(schema)
        if "const" in schema:
            return json.dumps(schema["const"])
        if "enum" in schema:
            return " | ".join(json.dumps(value) for value in schema["enum"])
        kinds = schema.get("type", "any")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        words = []
        for kind in kinds:
            if kind == "array":
                words.append(f"array of {self.type_of(schema.get('items', {}))}")
            elif kind in ("string", "integer", "number") and schema.get("format"):
                words.append(f"{kind} ({schema['format']})")
            else:
                words.append(kind)
        return " or ".join(words)

    def limits(self, schema: dict[str, Any]) -> str:
        schema = self.resolve(schema)
        notes = []
        for key, word in (("minimum", "min"), ("maximum", "max"), ("minItems", "min items"), ("maxItems", "max items"),
                          ("pattern", "pattern"), ("default", "default")):
            if key in schema:
                notes.append(f"{word} `{schema[key]}`")
        return "; ".join(notes)

    def example_of(self, schema: dict[str, Any], depth: int = 0) -> Any:
        """The schema's own example, else one made from its properties."""
        schema = self.resolve(schema)
        if "example" in schema:
            return schema["example"]
        if "examples" in schema and schema["examples"]:
            return schema["examples"][0]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
        if depth > 4:
            return None
        if kind == "object" or "properties" in schema:
            return {name: self.example_of(prop, depth + 1) for name, prop in schema.get("properties", {}).items()}
        if kind == "array":
            return [self.example_of(schema.get("items", {}), depth + 1)]
        return {"string": "…", "integer": 0, "number": 0, "boolean": True}.get(kind or "")

    def body_rows(self, schema: dict[str, Any]) -> list[Row]:
        schema = self.resolve(schema)
        required = set(schema.get("required", []))
        rows = []
        for name, prop in schema.get("properties", {}).items():
            resolved = self.resolve(prop)
            words = " ".join(part for part in (resolved.get("description", ""), self.limits(prop)) if part)
            rows.append(Row(name, "body", self.type_of(prop), name in required, inline_markdown(words)))
        return rows

    def parameter_row(self, parameter: dict[str, Any]) -> Row:
        parameter = self.resolve(parameter)
        schema = parameter.get("schema", {})
        words = " ".join(part for part in (parameter.get("description", ""), self.limits(schema)) if part)
        return Row(parameter["name"], parameter["in"], self.type_of(schema), bool(parameter.get("required")), inline_markdown(words))

    def answer(self, status: str, response: dict[str, Any]) -> Answer:
        response = self.resolve(response)
        media = response.get("content", {}).get("application/json")
        example = ""
        if media is not None:
            value = media["example"] if "example" in media else self.example_of(media.get("schema", {}))
            example = json.dumps(value, indent=2 if status.startswith("2") else None, ensure_ascii=False)
        return Answer(status, inline_markdown(response.get("description", "")), example)

    def operation(self, path: str, method: str, item: dict[str, Any], op: dict[str, Any]) -> Operation:
        parameters = [self.parameter_row(p) for p in [*item.get("parameters", []), *op.get("parameters", [])]]
        body_fields: list[Row] = []
        body_types: list[str] = []
        body_example = ""
        if "requestBody" in op:
            body = self.resolve(op["requestBody"])
            body_types = list(body.get("content", {}))
            media: dict[str, Any] = next(iter(body.get("content", {}).values()), {})
            schema = media.get("schema", {})
            body_fields = self.body_rows(schema)
            body_example = json.dumps(self.example_of(schema), indent=2, ensure_ascii=False)
        security = op.get("security", self.document.get("security", []))
        auth = list(dict.fromkeys(name for requirement in security for name in requirement))
        scopes = list(dict.fromkeys(scope for requirement in security for values in requirement.values() for scope in values))
        return Operation(
            anchor=op.get("operationId") or f"{method}-{path}",
            method=method.upper(),
            path=path,
            summary=op.get("summary", ""),
            description=inline_markdown(op.get("description", "")),
            auth=auth,
            scopes=scopes,
            parameters=parameters,
            body_fields=body_fields,
            body_types=body_types,
            body_example=body_example,
            answers=[self.answer(status, response) for status, response in sorted(op.get("responses", {}).items())],
        )

    def sections(self) -> list[Section]:
        sections = {
            tag["name"]: Section(tag["name"], _slug(tag["name"]), inline_markdown(tag.get("description", "")))
            for tag in self.document.get("tags", [])
        }
        for path, item in self.document.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    op = item[method]
                    tag = (op.get("tags") or ["Other"])[0]
                    section = sections.setdefault(tag, Section(tag, _slug(tag), mark_safe("")))
                    section.operations.append(self.operation(path, method, item, op))
        return [section for section in sections.values() if section.operations]

    def security_schemes(self) -> list[tuple[str, str, SafeString]]:
        schemes = self.document.get("components", {}).get("securitySchemes", {})
        rows = []
        for name, scheme in schemes.items():
            if scheme["type"] == "http":
                how = f"HTTP {scheme.get('scheme', '')}".strip()
                how = "Authorization: Bearer header" if scheme.get("scheme") == "bearer" else how
            elif scheme["type"] == "apiKey":
                how = f"{scheme['name']} in the {scheme['in']}"
            else:
                how = scheme["type"]
            rows.append((name, how, inline_markdown(scheme.get("description", ""))))
        return rows


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
