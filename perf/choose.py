"""Which warning type a benchmark measures: chosen from the definitions in force by what its
definition says, never named in code."""
from __future__ import annotations


def warning_type(**wanted):
    """(pack, code) of the first warning type (by code) whose definition has every `wanted` value;
    a value that is a dict matches those of its keys (e.g. clue_generation={"mode": "per_warning"})."""
    from lowcode import publishing

    def matches(content: dict) -> bool:
        return all({**content.get(key, {}), **value} == content.get(key) if isinstance(value, dict)
                   else content.get(key) == value for key, value in wanted.items())

    for code, pack in sorted(publishing.warning_packs().items()):
        if matches(pack.warning_types[code].content):
            return pack, code
    raise LookupError(f"没有满足条件的预警类型：{wanted}")
