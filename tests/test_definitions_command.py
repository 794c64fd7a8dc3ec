"""validate_definitions_command: the body of `lowcode validate-definitions [PATH]`."""
from pathlib import Path

from lowcode.definitions import validate_definitions_command, validate_path

ROOT = Path(__file__).resolve().parents[1]
BROKEN_TREE = Path(__file__).parent / "fixtures" / "definitions" / "broken_tree"


def test_a_broken_tree_prints_every_error_and_returns_1(capsys):
    assert validate_definitions_command(BROKEN_TREE) == 1
    assert capsys.readouterr().out.splitlines() == [
        "demo/notes.json#: 文件未在 pack.json 的 contents 中登记，不会被加载",
        "demo/pack.json#/depends/0: 依赖的定义包 base 不存在",
        'demo/roles.json#/roles/0/permissions/0/actions/1: 取值 "delete" 不符合要求：操作须写作 can_xxx 或 menu_access',
        'demo/task_levels.json#/task_levels/1/color: 取值 "orange" 不符合要求：颜色须写作 #RRGGBB',
        "demo/task_levels.json#/task_levels/1/reminder_before_hours: 提前提醒 72 小时必须短于反馈时限 72 小时",
        "定义校验未通过：5 个错误，涉及 4 个文件。",
    ]


def test_one_pack_of_a_tree_can_be_validated_alone(capsys):
    assert validate_definitions_command(BROKEN_TREE / "demo") == 1
    assert [str(error) for error in validate_path(BROKEN_TREE / "demo")] == capsys.readouterr().out.splitlines()[:-1]


def test_the_real_tree_passes_and_returns_0(capsys):
    assert validate_definitions_command(ROOT / "definitions") == 0
    [summary] = capsys.readouterr().out.splitlines()
    assert summary.startswith("定义校验通过：")
    assert "core、nmv" in summary and summary.endswith("没有错误。")


def test_a_missing_path_is_an_error(tmp_path, capsys):
    assert validate_definitions_command(tmp_path / "nowhere") == 1
    assert f"{tmp_path / 'nowhere'}#: 目录不存在" in capsys.readouterr().out
