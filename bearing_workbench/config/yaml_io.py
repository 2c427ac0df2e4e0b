"""Reading and writing the YAML files configs and presets live in (safe loader only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bearing_workbench.config.messages import ConfigError, FieldError

YAML_SUFFIXES = (".yaml", ".yml")


def is_path_like(source: str | Path) -> bool:
    """Whether `source` names a file rather than holding YAML text."""
    if isinstance(source, Path):
        return True
    if "\n" in source:
        return False
    return source.strip().lower().endswith(YAML_SUFFIXES) or Path(source).is_file()


def read_yaml(source: str | Path, name: str | None = None) -> tuple[Any, str | None]:
    """Parse YAML text or a YAML file with `yaml.safe_load`.

    Returns the parsed data and the file name (`name`, or None for text). A missing file or invalid
    YAML raises `ConfigError` naming the file; tags that build Python objects are refused.
    """
    text: str
    if is_path_like(source):
        name = name or str(source)
        if Path(source).is_dir():
            raise ConfigError([FieldError("", "is a folder; expected a YAML file")], source=name)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError([FieldError("", "file not found")], source=name) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([FieldError("", f"cannot be read: {exc}")], source=name) from None
    else:
        text = str(source)
    try:
        return yaml.safe_load(text), name
    except yaml.YAMLError as exc:
        raise ConfigError([FieldError("", _yaml_problem(exc))], source=name or "YAML text") from None
    except RecursionError:
        # PyYAML composes nested nodes recursively: thousands of '[' exhaust the stack.
        problem = "is nested too deeply to be a config (hundreds of levels of [ or {)"
        raise ConfigError([FieldError("", problem)], source=name or "YAML text") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid syntax"
        return f"not valid YAML{where}: {problem}"
    return f"not valid YAML: {exc}"


def dump_yaml(data: Any) -> str:
    """YAML text for plain data, keys in their given order."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
