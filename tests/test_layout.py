"""The repository layout: the standard-library `platform` stays reachable, arrows point into platform/."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = {"bpmn": set(), "forms": set(), "dashboards": set(), "connectors": set(), "pda_renderer": {"forms"}}
OURS = {"lowcode", "bpmn", "forms", "dashboards", "connectors", "pda_renderer"}


def run_from_root(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_platform_folder_does_not_shadow_the_standard_library():
    assert not (ROOT / "platform" / "__init__.py").exists()
    result = run_from_root("-c", "import platform; print(platform.system())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in {"Linux", "Darwin", "Windows"}


def test_pytest_starts_from_the_repository_root():
    result = run_from_root("-m", "pytest", "--version")
    assert result.returncode == 0, result.stderr
    assert "pytest" in (result.stdout + result.stderr)


def test_design_card_folders_exist():
    for folder in ["platform", "definitions", "bpmn", "forms", "dashboards", "connectors", "pda_renderer",
                   "tests", "perf"]:
        assert (ROOT / folder).is_dir(), folder
    assert (ROOT / "README.md").is_file()


def imported_packages(folder: Path) -> set[str]:
    found = set()
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_libraries_never_import_the_application():
    for library, allowed in LIBRARIES.items():
        ours = imported_packages(ROOT / library) & OURS - {library}
        assert ours <= allowed, f"{library}/ imports {sorted(ours - allowed)}"
