"""基础信息: a list and a detail page for every entity of every pack in force, the JSON API over
the same queries, and the sync API peer systems push records to. Each entity is its own
permission resource (`Entity.<pack>.<name>`: can_read, can_reveal), checked on every request."""
from __future__ import annotations

from flask import abort, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe

from lowcode import audit, intake
from lowcode.entities import access, catalogue, present, query, sync
from lowcode.entities.spec import Entity
from lowcode.extensions import db
from lowcode.views.intake import CallerApi, calling_client


def readable() -> list[Entity]:
    """The entities in force the caller may read (the 基础信息 menu)."""
    return access.readable_among(catalogue.in_force().values())


def _find(pack: str, name: str) -> Entity:
    entity = catalogue.find(pack, name) or abort(404)
    if not access.allowed(entity):
        abort(403)
    return entity


def _reveal(entity: Entity, record) -> None:
    audit.record("reveal_personal", entity.resource, str(record[entity.key])[:64],
                 f"查看{entity.title}「{record[entity.key]}」的完整个人信息")
    db.session.commit()


class EntitiesView(BaseView):
    route_base = "/entities"
    # Path variables start with "_", which no field name may: a list's filters are its fields'
    # names, and the pager's links merge them with the path variables.
    default_view = "index"
    base_permissions: list[str] = []   # every entity is checked against its own resource

    @expose("/")
    def index(self):
        return self.render_template("entities/index.html", entities=readable())

    @expose("/<_pack>/<_entity>/")
    def listing(self, _pack: str, _entity: str):
        entity = _find(_pack, _entity)
        try:
            page, errors = query.page(entity, request.args), {}
        except query.QueryInvalid as invalid:
            page, errors = None, invalid.errors
        columns = _columns(entity)
        rows = _cells(entity, columns, page.rows) if page else []
        return self.render_template("entities/list.html", entity=entity, columns=columns, page=page, rows=rows,
                                    errors=errors, filters=[f for f in entity.fields if f.search])

    @expose("/<_pack>/<_entity>/<_key>")
    def detail(self, _pack: str, _entity: str, _key: str):
        return self._detail(_find(_pack, _entity), _key, revealed=False)

    @expose("/<_pack>/<_entity>/<_key>/reveal", methods=["POST"])
    def reveal(self, _pack: str, _entity: str, _key: str):
        entity = _find(_pack, _entity)
        if not access.allowed(entity, access.REVEAL):
            abort(403)
        return self._detail(entity, _key, revealed=True)

    def _detail(self, entity: Entity, key: str, revealed: bool):
        record = query.one(entity, key) or abort(404)
        if revealed:
            _reveal(entity, record)
        related = [(other, field, _cells(other, _columns(other, 6), rows), total)
                   for other, field, rows, total in query.related(entity, record)]
        return self.render_template(
            "entities/detail.html", entity=entity, record=record, revealed=revealed,
            cells=_cells(entity, list(entity.fields), [record], revealed, link_key=False)[0], related=related,
            related_columns={other.name: _columns(other, 6) for other, *_ in related},
            can_reveal=any(f.personal for f in entity.fields) and access.allowed(entity, access.REVEAL))


def _cells(entity: Entity, fields: list, rows: list, reveal: bool = False, link_key: bool = True) -> list[list[dict]]:
    return present.cells(entity, fields, rows, query.openable_refs(entity, fields, rows), reveal, link_key)


def _columns(entity: Entity, limit: int | None = None):
    """The key first, then the fields marked `list`."""
    key = entity.field(entity.key)
    return ([key] + [f for f in entity.fields if f.list and f is not key])[:limit]


class EntityApi(CallerApi):
    """Reads check the caller's permission on each entity's own resource; the sync is a caller API."""

    resource_name = "entities"
    allow_browser_login = True
    openapi_spec_tag = "基础信息"

    def _entity(self, pack: str, name: str):
        entity = catalogue.find(pack, name)
        if entity is None:
            return None, self.response_404()
        if not access.allowed(entity):
            return None, self.response(403, message="没有查看该类基础信息的权限")
        return entity, None

    @expose("/<pack>/<name>", methods=["GET"])
    @safe
    def get_list(self, pack: str, name: str):
        """Records of one entity in my scope: filters, sorting, pages
        ---
        get:
          description: 过滤参数即实体定义中 search 字段的字段名（个人信息字段精确匹配其盲索引）；sort 为可排序字段，desc=1|0；page、page_size（20、50、100）。个人信息字段脱敏。
          parameters:
          - {in: path, name: pack, required: true, schema: {type: string}}
          - {in: path, name: name, required: true, schema: {type: string}}
          - {in: query, name: sort, schema: {type: string}}
          - {in: query, name: desc, schema: {type: string, enum: ["1", "0"]}}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, enum: [20, 50, 100]}}
          responses:
            200: {description: 一页记录与总数（count 最多数到 500，more 为 true 表示还有更多）}
            400: {description: 过滤参数错误（按字段）}
            403: {description: 没有该实体的查看权限}
            404: {description: 没有这个实体}
        """
        entity, refusal = self._entity(pack, name)
        if refusal is not None:
            return refusal
        try:
            page = query.page(entity, request.args)
        except query.QueryInvalid as invalid:
            return self.response_400(message=invalid.errors)
        return self.response(200, count=page.total, more=page.more, page=page.page, pages=page.pages, sort=page.sort,
                             result=[present.record(entity, row) for row in page.rows])

    @expose("/<pack>/<name>/<key>", methods=["GET"])
    @safe
    def get(self, pack: str, name: str, key: str):
        """One record by its business key, with the records that refer to it
        ---
        get:
          description: reveal=1 时返回个人信息原文（需要 can_reveal 权限，记入审计）。
          parameters:
          - {in: path, name: pack, required: true, schema: {type: string}}
          - {in: path, name: name, required: true, schema: {type: string}}
          - {in: path, name: key, required: true, schema: {type: string}}
          - {in: query, name: reveal, schema: {type: string, enum: ["1"]}}
          responses:
            200: {description: 记录与引用它的记录（各前 10 条及总数）}
            403: {description: 没有查看或查看原文的权限}
            404: {description: 不存在或不在本人数据范围内}
        """
        entity, refusal = self._entity(pack, name)
        if refusal is not None:
            return refusal
        revealed = request.args.get("reveal") == "1"
        if revealed and not access.allowed(entity, access.REVEAL):
            return self.response(403, message="没有查看个人信息原文的权限")
        record = query.one(entity, key)
        if record is None:
            return self.response_404()
        if revealed:
            _reveal(entity, record)
        return self.response(200, result=present.record(entity, record, reveal=revealed), related=[
            {"entity": other.name, "field": field.name, "count": total,
             "records": [present.record(other, row) for row in rows]}
            for other, field, rows, total in query.related(entity, record)])

    @expose("/<pack>/<name>", methods=["POST"])
    def sync(self, pack: str, name: str):
        """基础信息同步: upsert a batch {"items": [...]} of up to 10,000 records by business key
        ---
        post:
          description: 整批先原样加密存储，再逐条校验（字段、类型、取值、行政区划、被引用记录是否存在），合格的按业务主键新增或更新；逐条答复 accepted（业务主键）或 rejected（字段错误）。重复发送同一批结果相同。
          parameters:
          - {in: path, name: pack, required: true, schema: {type: string}}
          - {in: path, name: name, required: true, schema: {type: string}}
          - ApiKey
          - Signature
          responses:
            200: {description: 逐条处理结果}
            400: {description: 请求体无法处理，未存储任何内容}
            401: {description: API key 无效，或签名缺失、伪造、过期、重放}
            404: {description: 没有这个实体}
        """
        client, refusal = calling_client(self)
        if refusal is not None:
            return refusal
        entity = catalogue.find(pack, name)
        if entity is None:
            return self.response_404()
        try:
            result = sync.receive(client, entity, request.get_data())
        except intake.BatchRefused as refused:
            return self.response_400(message=str(refused))
        return self.response(200, **result)
