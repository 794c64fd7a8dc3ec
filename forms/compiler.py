"""Compiling a form's JSON Schema and UI schema into the field tree, enforcing the subset.

Whatever the engine could not render, decode, evaluate in the browser or explain in Chinese is a
SubsetProblem naming the file (its URI) and the JSON pointer where it is written. A form with any
problem is refused whole (SubsetError): it is never half rendered.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import unquote, urldefrag, urljoin

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.exceptions import NoSuchResource

from .fields import TESTABLE_KINDS, Condition, Field, Fragment, Option, Section
from .formats import FORMATS

KEYWORDS = {
    "$schema", "$defs", "$ref", "type", "title", "description", "default", "readOnly", "format", "enum", "oneOf",
    "minimum", "maximum", "properties", "required", "if", "then", "else", "dependentRequired", "dependentSchemas",
    "items", "uniqueItems", "minItems", "maxItems", "x-accept", "x-max-size-mb", "examples", "x-personal",
}
TYPE_NAMES = {"object": "对象", "array": "数组", "string": "字符串", "number": "数字", "integer": "整数", "boolean": "布尔"}
ONLY_FOR = {
    **dict.fromkeys(("properties", "required", "if", "then", "else", "dependentRequired", "dependentSchemas"),
                    {"object"}),
    **dict.fromkeys(("items", "minItems", "maxItems", "uniqueItems"), {"array"}),
    **dict.fromkeys(("minimum", "maximum"), {"number", "integer"}),
    **dict.fromkeys(("format", "x-accept", "x-max-size-mb", "x-personal"), {"string"}),
    "examples": {"string", "number", "integer"},
    **dict.fromkeys(("enum", "oneOf"), {"string", "number", "integer"}),
}
SCHEMA_MAPS = {"properties", "dependentSchemas"}   # name → schema
SUBSCHEMAS = {"if", "then", "else", "items"}
TEST_KEYWORDS = {"const", "enum", "minimum", "maximum", "contains"}
FRAGMENT_KEYWORDS = {"required", "properties"}
# ui:widget → the kinds it suits; the first widget of a kind is its default.
WIDGETS = {
    "text": ("input", "textarea", "date"), "number": ("input",), "integer": ("input",), "boolean": ("radio",),
    "choice": ("radio", "select"), "choices": ("checkboxes",), "attachment": ("file", "camera", "signature"),
    "attachments": ("file", "camera"), "object": ("object",), "group": ("group",),
}
KIND_NAMES = {
    "text": "文本", "number": "数字", "integer": "整数", "boolean": "布尔", "choice": "单选", "choices": "多选",
    "attachment": "单个附件", "attachments": "多个附件", "object": "分节", "group": "可重复分组",
}
RADIO_MAX_OPTIONS = 4     # more options than this default to a select
DEFAULT_MAX_SIZE_MB = 20
MAX_REF_CHAIN = 16
MIME = re.compile(r"[a-z]+/[a-z0-9.+*-]+")


@dataclass(frozen=True)
class SubsetProblem:
    uri: str
    pointer: str
    reason: str

    def __str__(self) -> str:
        return f"{self.uri}#{self.pointer}: {self.reason}"


class SubsetError(ValueError):
    def __init__(self, problems: list[SubsetProblem]):
        super().__init__("表单超出支持的 JSON Schema 子集：" + "；".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class _At:
    """Where a schema node is written: the file's URI and the path inside it."""

    uri: str
    parts: tuple = ()

    def __truediv__(self, part) -> _At:
        return _At(self.uri, (*self.parts, part))

    @property
    def pointer(self) -> str:
        return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in self.parts)


def compile_tree(uri: str, registry: Registry, ui: dict) -> tuple[Field | None, list[SubsetProblem]]:
    """The field tree of the form at `uri` (its $ref resolved in `registry`), and its problems."""
    compiler = _Compiler(registry)
    root = compiler.field({"$ref": uri}, _At(uri), "", ui)
    if root is not None and root.kind != "object":
        compiler.problem(_At(uri), "表单顶层须为 object")
    return root, compiler.problems


def inlined_schema(uri: str, registry: Registry) -> dict:
    """The schema of a form that compiled without problems, with every $ref replaced by what it
    stands for: its validator then never looks a reference up."""
    return _Compiler(registry).inline({"$ref": uri}, _At(uri))


class _Compiler:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.problems: list[SubsetProblem] = []
        self.open: set[_At] = set()   # nodes being compiled: meeting one again is a cycle
        self.targets: dict[tuple[str, str], tuple[dict, _At]] = {}   # shared definitions recur often

    def problem(self, at: _At, reason: str) -> None:
        self.problems.append(SubsetProblem(at.uri, at.pointer, reason))

    # ------------------------------------------------------------------ $ref

    def resolve(self, node, at: _At) -> tuple[dict, _At] | None:
        """The node a $ref chain stands for; sibling keywords (e.g. a new title) win."""
        for _ in range(MAX_REF_CHAIN):
            if not isinstance(node, dict):
                self.problem(at, "字段定义须为 JSON 对象")
                return None
            if "$ref" not in node:
                return node, at
            target = self._target(node["$ref"], at)
            if target is None:
                return None
            found, at = target
            node = {**found, **{key: value for key, value in node.items() if key != "$ref"}}
        self.problem(at, "$ref 引用链过长或成环")
        return None

    def _target(self, ref, at: _At) -> tuple[dict, _At] | None:
        if not isinstance(ref, str):
            self.problem(at / "$ref", "$ref 须为字符串")
            return None
        if (at.uri, ref) not in self.targets:
            found = self._lookup(ref, at)
            if found is None:
                return None
            self.targets[at.uri, ref] = found
        return self.targets[at.uri, ref]

    def _lookup(self, ref: str, at: _At) -> tuple[dict, _At] | None:
        uri, fragment = urldefrag(urljoin(at.uri, ref))
        try:
            node = self.registry.contents(uri)
        except NoSuchResource:
            self.problem(at / "$ref", f"引用 {ref} 无法解析：找不到 {uri}")
            return None
        parts = tuple(unquote(part).replace("~1", "/").replace("~0", "~") for part in fragment.split("/")[1:])
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            self.problem(at / "$ref", f"引用 {ref} 无法解析：目标不存在")
            return None
        return node, _At(uri, parts)

    def inline(self, node, at: _At):
        """`node` with every $ref replaced by what it stands for; only called on a compiled form,
        whose references all resolve and never loop."""
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self.inline(*self.resolve(node, at))
        inlined = {}
        for keyword, value in node.items():
            if keyword in SCHEMA_MAPS:
                inlined[keyword] = {name: self.inline(schema, at / keyword / name) for name, schema in value.items()}
            elif keyword in SUBSCHEMAS:
                inlined[keyword] = self.inline(value, at / keyword)
            elif keyword == "oneOf":
                inlined[keyword] = [self.inline(item, at / keyword / index) for index, item in enumerate(value)]
            elif keyword not in ("$defs", "$schema"):
                inlined[keyword] = value
        return inlined

    # ------------------------------------------------------------------ fields

    def field(self, node, at: _At, name: str, ui, conditional: bool = False, titled: bool = True) -> Field | None:
        resolved = self.resolve(node, at)
        if resolved is None:
            return None
        node, at = resolved
        if at in self.open:
            self.problem(at, "引用成环：字段不能包含自身")
            return None
        self.open.add(at)
        try:
            return self._field(node, at, name, ui if isinstance(ui, dict) else {}, conditional, titled)
        finally:
            self.open.discard(at)

    def _field(self, node: dict, at: _At, name: str, ui: dict, conditional: bool, titled: bool) -> Field | None:
        for keyword in node:
            if keyword not in KEYWORDS:
                self.problem(at / keyword, f"不支持的关键字 {keyword}：不在表单引擎的 JSON Schema 子集中")
        kind_type = node.get("type")
        if kind_type not in TYPE_NAMES:
            self.problem(at / "type" if "type" in node else at,
                         "缺少 type，或 type 不是 object、array、string、number、integer、boolean 之一")
            return None
        for keyword, types in ONLY_FOR.items():
            if keyword in node and kind_type not in types:
                self.problem(at / keyword, f"{keyword} 不能用于{TYPE_NAMES[kind_type]}字段")
        title = node.get("title")
        if titled and not (isinstance(title, str) and title.strip()):
            self.problem(at, "缺少 title：它是控件的标签")
        common = {
            "name": name, "title": title if isinstance(title, str) else "", "conditional": conditional,
            "description": _text(node.get("description")), "help": _text(ui.get("ui:help")),
            "placeholder": _text(ui.get("ui:placeholder")), "read_only": node.get("readOnly") is True,
            "default": node.get("default"), "examples": self._examples(node, at),
            "personal": node.get("x-personal") is True,
        }
        build = {"object": self._object, "array": self._array}.get(kind_type, self._scalar)
        built = build(node, at, ui, common)
        return None if built is None else self._with_widget(built, ui, at)

    def _examples(self, node: dict, at: _At) -> tuple:
        examples = node.get("examples", [])
        if not (isinstance(examples, list) and all(isinstance(e, (str, int, float)) for e in examples)):
            self.problem(at / "examples", "examples 应为取值示例的数组（供演示与测试数据使用）")
            return ()
        return tuple(examples)

    def _with_widget(self, built: dict, ui: dict, at: _At) -> Field:
        kind, widget = built["kind"], ui.get("ui:widget")
        allowed = WIDGETS[kind]
        if widget is None:
            widget = "select" if kind == "choice" and len(built["options"]) > RADIO_MAX_OPTIONS else allowed[0]
        elif widget not in allowed or (widget == "date" and built.get("format") != "date"):
            self.problem(at, f"控件 {widget} 不能用于{KIND_NAMES[kind]}字段")
        # A date picker is the native <input type="date"> that every date field gets anyway.
        return Field(**built, widget="input" if widget == "date" else widget)

    def _scalar(self, node: dict, at: _At, ui: dict, common: dict) -> dict | None:
        kind_type = node["type"]
        built = {**common, "value_type": kind_type}
        if kind_type == "boolean":
            return {**built, "kind": "boolean", "options": (Option(True, "是"), Option(False, "否"))}
        if "enum" in node or "oneOf" in node:
            return {**built, "kind": "choice", "options": self._options(node, at, kind_type)}
        if kind_type in ("number", "integer"):
            return {**built, "kind": kind_type, "minimum": self._number(node, at, "minimum"),
                    "maximum": self._number(node, at, "maximum")}
        fmt = node.get("format", "")
        if fmt and fmt not in FORMATS:
            self.problem(at / "format", f"不支持的 format {fmt}：只支持 {'、'.join(FORMATS)}")
        if fmt == "attachment":
            return {**built, "kind": "attachment", "format": fmt, **self._attachment_limits(node, at)}
        for keyword in ("x-accept", "x-max-size-mb"):
            if keyword in node:
                self.problem(at / keyword, f"{keyword} 只能用于 format 为 attachment 的字段")
        return {**built, "kind": "text", "format": fmt}

    def _options(self, node: dict, at: _At, kind_type: str) -> tuple[Option, ...]:
        if "enum" in node and "oneOf" in node:
            self.problem(at / "oneOf", "enum 与 oneOf 只能写一个")
        if "enum" in node:
            values = node["enum"] if isinstance(node["enum"], list) else []
            options = [Option(value, value if isinstance(value, str) else json.dumps(value)) for value in values]
            where = at / "enum"
        else:
            entries = node["oneOf"] if isinstance(node["oneOf"], list) else []
            options = []
            for index, entry in enumerate(entries):
                if isinstance(entry, dict) and set(entry) == {"const", "title"} and isinstance(entry["title"], str):
                    options.append(Option(entry["const"], entry["title"]))
                else:
                    self.problem(at / "oneOf" / index, "oneOf 的每一项须恰好写 const 与 title")
            where = at / "oneOf"
        if not options:
            self.problem(where, "选项不能为空")
        if len({json.dumps(option.value) for option in options}) != len(options):
            self.problem(where, "选项取值重复")
        for option in options:
            if not _fits(option.value, kind_type):
                self.problem(where, f"选项 {json.dumps(option.value, ensure_ascii=False)} 不是{TYPE_NAMES[kind_type]}")
        return tuple(options)

    def _number(self, node: dict, at: _At, keyword: str) -> float | None:
        value = node.get(keyword)
        if value is not None and not _fits(value, "number"):
            self.problem(at / keyword, f"{keyword} 须为数字")
            return None
        return value

    def _attachment_limits(self, node: dict, at: _At) -> dict:
        accept = node.get("x-accept")
        if not (isinstance(accept, list) and accept and all(isinstance(m, str) and MIME.fullmatch(m) for m in accept)):
            self.problem(at / "x-accept" if "x-accept" in node else at, "附件须以 x-accept 列出允许的 MIME 类型，如 image/jpeg")
            accept = []
        size = node.get("x-max-size-mb", DEFAULT_MAX_SIZE_MB)
        if not (_fits(size, "number") and size > 0):
            self.problem(at / "x-max-size-mb", "x-max-size-mb 须为正数")
            size = DEFAULT_MAX_SIZE_MB
        return {"accept": tuple(accept), "max_size_mb": size}

    def _array(self, node: dict, at: _At, ui: dict, common: dict) -> dict | None:
        bounds = {"min_items": node.get("minItems", 0), "max_items": node.get("maxItems")}
        for keyword, value in (("minItems", bounds["min_items"]), ("maxItems", bounds["max_items"])):
            if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                self.problem(at / keyword, f"{keyword} 须为非负整数")
                bounds = {"min_items": 0, "max_items": None}
        if "items" not in node:
            self.problem(at, "数组须有 items")
            return None
        item = self.field(node["items"], at / "items", "", ui.get("items", {}), titled=False)
        if item is None:
            return None
        built = {**common, **bounds, "value_type": item.value_type}
        if item.kind == "object":
            return {**built, "kind": "group", "item": item}
        if item.kind == "attachment":
            return {**built, "kind": "attachments", "format": "attachment", "accept": item.accept,
                    "max_size_mb": item.max_size_mb}
        if item.kind == "choice" and item.value_type == "string":
            return {**built, "kind": "choices", "options": item.options}
        self.problem(at / "items", "数组元素只能是对象（可重复分组）、字符串枚举（复选框组）或附件")
        return None

    # ------------------------------------------------------------------ objects and conditions

    def _object(self, node: dict, at: _At, ui: dict, common: dict) -> dict | None:
        properties = node.get("properties")
        if not isinstance(properties, dict):
            self.problem(at / "properties" if "properties" in node else at, "对象须以 properties 声明字段")
            return None
        fragments = self._fragments(node, at)
        base_required = self._names(node.get("required", []), at / "required")
        mentioned = {name for _, fragment, _ in fragments for name in _mentioned(fragment)}
        conditional = mentioned - set(base_required)
        declared = {name: (schema, at / "properties" / name) for name, schema in properties.items()}
        for _, fragment, fragment_at in fragments:
            for name, schema in fragment.get("properties", {}).items():
                declared.setdefault(name, (schema, fragment_at / "properties" / name))
        order = [name for name in ui.get("ui:order", []) if name in declared]
        order += [name for name in declared if name not in order]
        children = tuple(child for child in (
            self.field(*declared[name], name, ui.get(name, {}), conditional=name in conditional) for name in order
        ) if child is not None)
        fields = {child.name: child for child in children}
        self._check_declared(base_required, at / "required", declared)
        for _, fragment, fragment_at in fragments:
            self._check_declared(fragment["required"], fragment_at / "required", declared)
        dependent_required = self._dependent_required(node, at, declared)
        conditions = self._conditions(node, at, fragments, fields, conditional)
        return {**common, "kind": "object", "value_type": "object", "children": children,
                "required": tuple(base_required), "conditions": conditions,
                "dependent_required": dependent_required, "sections": self._sections(ui, declared),
                "columns": ui.get("ui:columns", 0) if ui.get("ui:columns") in (1, 2, 3, 4) else 0}

    def _fragments(self, node: dict, at: _At) -> list[tuple[str, dict, _At]]:
        """then, else and each dependentSchemas entry, checked to hold only required and properties."""
        if ("then" in node or "else" in node) and "if" not in node:
            self.problem(at, "then、else 须与 if 一起使用")
        found = [(key, node[key], at / key) for key in ("then", "else") if key in node]
        dependent = node.get("dependentSchemas", {})
        found += [("dependentSchemas", fragment, at / "dependentSchemas" / key)
                  for key, fragment in (dependent.items() if isinstance(dependent, dict) else [])]
        checked = []
        for kind, fragment, fragment_at in found:
            if not isinstance(fragment, dict):
                self.problem(fragment_at, "条件分支须为 JSON 对象")
                continue
            for keyword in fragment:
                if keyword not in FRAGMENT_KEYWORDS:
                    self.problem(fragment_at / keyword, "条件分支（then、else、dependentSchemas）只能写 required 与 properties")
            if not isinstance(fragment.get("properties", {}), dict):
                self.problem(fragment_at / "properties", "properties 须为对象")
                fragment = {**fragment, "properties": {}}
            fragment = {**fragment, "required": self._names(fragment.get("required", []), fragment_at / "required")}
            checked.append((kind, fragment, fragment_at))
        return checked

    def _conditions(self, node: dict, at: _At, fragments: list, fields: dict[str, Field],
                    conditional: set[str]) -> tuple[Condition, ...]:
        def branch(fragment: dict) -> Fragment:
            return Fragment(show=tuple(name for name in _mentioned(fragment) if name in conditional),
                            require=tuple(fragment.get("required", [])))

        branches = {kind: fragment for kind, fragment, _ in fragments if kind in ("then", "else")}
        conditions = []
        if "if" in node:
            test = node["if"]
            self._check_test(test, at / "if", fields)
            conditions.append(Condition(then=branch(branches.get("then", {})), otherwise=branch(branches.get("else", {})),
                                        test=test, checker=Draft202012Validator(test if isinstance(test, dict) else {})))
        for kind, fragment, fragment_at in fragments:
            if kind == "dependentSchemas":
                key = fragment_at.parts[-1]
                self._check_tested(key, fragment_at, fields)
                conditions.append(Condition(then=branch(fragment), present=key))
        return tuple(conditions)

    def _check_test(self, test, at: _At, fields: dict[str, Field]) -> None:
        if not isinstance(test, dict):
            self.problem(at, "if 须为 JSON 对象")
            return
        for keyword in test:
            if keyword not in FRAGMENT_KEYWORDS:
                self.problem(at / keyword, "if 只能写 properties 与 required")
        for index, name in enumerate(self._names(test.get("required", []), at / "required")):
            self._check_tested(name, at / "required" / index, fields)
        properties = test.get("properties", {})
        for name, rule in (properties.items() if isinstance(properties, dict) else []):
            self._check_tested(name, at / "properties" / name, fields)
            if not (isinstance(rule, dict) and rule):
                self.problem(at / "properties" / name, "条件须写 const、enum、minimum、maximum 或 contains")
                continue
            for keyword, value in rule.items():
                if keyword not in TEST_KEYWORDS:
                    self.problem(at / "properties" / name / keyword, "条件只能用 const、enum、minimum、maximum、contains")
                elif keyword == "contains" and not (isinstance(value, dict) and set(value) == {"const"}):
                    self.problem(at / "properties" / name / keyword, "contains 只能写 {\"const\": 值}")
                elif keyword in ("minimum", "maximum") and not _fits(value, "number"):
                    self.problem(at / "properties" / name / keyword, f"{keyword} 须为数字")
                elif keyword == "enum" and not (isinstance(value, list) and value):
                    self.problem(at / "properties" / name / keyword, "enum 须为非空数组")

    def _check_tested(self, name: str, at: _At, fields: dict[str, Field]) -> None:
        child = fields.get(name)
        if child is None:
            self.problem(at, f"条件中的字段 {name} 未在本对象中声明")
        elif child.conditional:
            self.problem(at, f"条件只能判断始终显示的字段：{name} 本身只在条件成立时显示")
        elif child.kind not in TESTABLE_KINDS:
            self.problem(at, f"条件不能判断{KIND_NAMES[child.kind]} {name}")

    def _dependent_required(self, node: dict, at: _At, declared: dict) -> tuple:
        dependent = node.get("dependentRequired", {})
        pairs = []
        for key, names in (dependent.items() if isinstance(dependent, dict) else []):
            names = self._names(names, at / "dependentRequired" / key)
            self._check_declared([key, *names], at / "dependentRequired" / key, declared)
            pairs.append((key, tuple(names)))
        return tuple(pairs)

    def _names(self, names, at: _At) -> list[str]:
        if isinstance(names, list) and all(isinstance(name, str) for name in names):
            return names
        self.problem(at, "须为字段名数组")
        return []

    def _check_declared(self, names: list[str], at: _At, declared) -> None:
        for name in names:
            if name not in declared:
                self.problem(at, f"字段 {name} 未在本对象中声明")

    def _sections(self, ui: dict, declared: dict) -> tuple[Section, ...]:
        sections = ui.get("ui:sections", [])
        return tuple(Section(str(section.get("title", "")), tuple(n for n in section.get("fields", []) if n in declared))
                     for section in (sections if isinstance(sections, list) else []) if isinstance(section, dict))


def _mentioned(fragment: dict) -> list[str]:
    names = list(fragment.get("required", []))
    return names + [name for name in fragment.get("properties", {}) if name not in names]


def _fits(value, kind_type: str) -> bool:
    if kind_type == "string":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return kind_type == "number" or float(value).is_integer()


def _text(value) -> str:
    return value if isinstance(value, str) else ""
