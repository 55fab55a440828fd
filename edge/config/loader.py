"""Reading site and camera YAML files, with errors a person can act on (DESIGN.md 7).

Every problem becomes one line `{file}: {dotted.field.path}: {problem}` (YAML syntax errors:
`{file}:{line}:{col}: {problem}`). A site may list cameras as paths to camera files,
resolved relative to the site file; errors inside such a file name that file.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from edge.config.models import ID_PATTERN, CameraConfig, CheckpointCamera, SiteConfig, SmokeCamera, redact

PathLike = str | os.PathLike[str]
Loc = tuple[int | str, ...]

_CAMERA_ADAPTER: TypeAdapter[CheckpointCamera | SmokeCamera] = TypeAdapter(CameraConfig)
_CAMERA_KINDS = ("checkpoint", "smoke")
_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


class ConfigError(Exception):
    """A config file is unusable; `messages` holds one printable line per problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # SafeLoader reports unhashable keys itself
            if key in seen:
                raise ConstructorError(None, None, f"duplicate key {key!r} (first at line {seen[key]})",
                                       key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _read_document(path: Path, display: str) -> dict[str, Any]:
    """The YAML mapping in `path`, or ConfigError with one message."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{display}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{display}: is a directory, expected a YAML file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{display}: not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{display}: cannot read: {exc.strerror}"]) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_message(display, exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{display}: invalid YAML: {exc}"]) from None
    if data is None:
        raise ConfigError([f"{display}: file is empty (expected a site or camera mapping)"])
    if not isinstance(data, dict):
        raise ConfigError([f"{display}: expected a mapping of keys at the top level, "
                           f"got {_kind_of(data)}"])
    return data


def _yaml_message(display: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark is not None:
        problem += f" ({exc.context}, line {exc.context_mark.line + 1})"
    if mark is None:
        return f"{display}: {problem}"
    return f"{display}:{mark.line + 1}:{mark.column + 1}: {problem}"


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


# --- pydantic errors -> lines ------------------------------------------------------------------


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional from a type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _model_at(root: Any, loc: Loc) -> type[BaseModel] | None:
    """The model class that `loc` (as pydantic reports it, union tags included) points into."""
    tp = root
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif origin in (list, tuple, Sequence):
            args = typing.get_args(tp)
            if origin is not tuple or (len(args) == 2 and args[1] is Ellipsis):
                tp = args[0]
            elif isinstance(part, int) and part < len(args):
                tp = args[part]
            else:
                return None
        elif origin in (dict, Mapping):
            tp = typing.get_args(tp)[1]
        elif origin in (typing.Union, types.UnionType):
            tagged = [m for m in typing.get_args(tp) if isinstance(m, type) and issubclass(m, BaseModel)
                      and "kind" in m.model_fields
                      and typing.get_args(m.model_fields["kind"].annotation) == (part,)]
            if not tagged:
                return None
            tp = tagged[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _problem(error: Mapping[str, Any], root: Any) -> str:
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    if kind == "extra_forbidden" and loc:
        key = str(loc[-1])
        model = _model_at(root, loc[:-1])
        if model is None:
            return f"unknown key {key!r}"
        allowed = list(model.model_fields)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
        return f"unknown key {key!r} ({hint})"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r} (expected {' or '.join(_CAMERA_KINDS)})"
    if kind == "union_tag_not_found":
        return f"missing key 'kind' (expected {' or '.join(_CAMERA_KINDS)})"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == ID_PATTERN:
        return "use only lowercase letters, digits and '-'"
    message = str(error["msg"])
    for prefix in _ERROR_PREFIXES:
        message = message.removeprefix(prefix)
    return message


def _drop_tag(loc: Loc, at: int) -> Loc:
    """Remove the union tag pydantic inserts after a camera's position."""
    if len(loc) > at and loc[at] in _CAMERA_KINDS:
        return loc[:at] + loc[at + 1:]
    return loc


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _camera_messages(exc: ValidationError, display: str) -> list[str]:
    return [f"{display}: {_dotted(_drop_tag(tuple(e['loc']), 0))}: {_problem(e, CameraConfig)}"
            for e in exc.errors(include_url=False)]


def _site_messages(exc: ValidationError, display: str, included: Mapping[int, str],
                   skipped: set[int]) -> list[str]:
    messages = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        problem = _problem(error, SiteConfig)
        index = loc[1] if len(loc) >= 2 and loc[0] == "cameras" and isinstance(loc[1], int) else None
        if index in skipped:
            continue
        if index is not None and index in included:
            messages.append(f"{included[index]}: {_dotted(_drop_tag(loc[2:], 0))}: {problem}")
        else:
            messages.append(f"{display}: {_dotted(_drop_tag(loc, 2))}: {problem}")
    return messages


# --- public API --------------------------------------------------------------------------------


def _site_from(data: dict[str, Any], display: str) -> SiteConfig:
    messages: list[str] = []
    included: dict[int, str] = {}
    skipped: set[int] = set()
    cameras = data.get("cameras")
    if isinstance(cameras, list):
        cameras = list(cameras)
        base = os.path.dirname(display)
        for i, entry in enumerate(cameras):
            if not isinstance(entry, str):
                continue
            camera_display = os.path.normpath(os.path.join(base, entry))
            try:
                camera = _read_document(Path(camera_display), camera_display)
            except ConfigError as exc:
                problem = exc.messages[0]
                if problem == f"{camera_display}: file not found":
                    problem = f"{display}: cameras.{i}: camera file {entry!r} not found ({camera_display})"
                messages.append(problem)
                skipped.add(i)
                cameras[i] = None
                continue
            if "kind" not in camera:
                messages.append(f"{camera_display}: expected a camera file (a top-level `kind` key: "
                                f"{' or '.join(_CAMERA_KINDS)}), included from {display} cameras.{i}")
                skipped.add(i)
                cameras[i] = None
                continue
            included[i] = camera_display
            cameras[i] = camera
        data = {**data, "cameras": cameras}
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as exc:
        messages += _site_messages(exc, display, included, skipped)
        raise ConfigError(messages) from None
    if messages:
        raise ConfigError(messages)
    return site


def _camera_from(data: dict[str, Any], display: str) -> CheckpointCamera | SmokeCamera:
    try:
        return _CAMERA_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(_camera_messages(exc, display)) from None


def load_site(path: PathLike) -> SiteConfig:
    """Load and validate a site file, camera file paths included. Raises ConfigError."""
    display = os.fspath(path)
    data = _read_document(Path(display), display)
    if "site" not in data and "kind" in data:
        raise ConfigError([f"{display}: this is a camera file (kind: {data['kind']}); expected a site "
                           "file with a top-level `site` key"])
    return _site_from(data, display)


def load_camera(path: PathLike) -> CheckpointCamera | SmokeCamera:
    """Load and validate one camera file. Raises ConfigError."""
    display = os.fspath(path)
    data = _read_document(Path(display), display)
    if "kind" not in data and "site" in data:
        raise ConfigError([f"{display}: this is a site file; expected a camera file with a top-level "
                           f"`kind` key ({' or '.join(_CAMERA_KINDS)})"])
    return _camera_from(data, display)


def load_any(path: PathLike) -> SiteConfig | CheckpointCamera | SmokeCamera:
    """A site file (top-level `site`) or a camera file (top-level `kind`). Raises ConfigError."""
    display = os.fspath(path)
    data = _read_document(Path(display), display)
    if "site" in data:
        return _site_from(data, display)
    if "kind" in data:
        return _camera_from(data, display)
    raise ConfigError([f"{display}: not a site or camera config: expected a top-level `site` key "
                       f"(site file) or `kind` key (camera file: {' or '.join(_CAMERA_KINDS)})"])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summarize(cfg: SiteConfig | CheckpointCamera | SmokeCamera) -> str:
    """One line describing a loaded config, safe to log (passwords redacted)."""
    if isinstance(cfg, SiteConfig):
        kinds = [sum(1 for c in cfg.cameras if c.kind == kind) for kind in _CAMERA_KINDS]
        broker = cfg.broker.address + (" (TLS)" if cfg.broker.tls is not None else "")
        line = (f"site {cfg.site.id} ({cfg.site.timezone}): {_plural(len(cfg.cameras), 'camera')} "
                f"({kinds[0]} checkpoint, {kinds[1]} smoke), {_plural(len(cfg.models), 'model')}, "
                f"broker {broker}")
    else:
        line = f"{cfg.kind} camera {cfg.id}: source {cfg.source.redacted_url()}, model {cfg.model}"
    return redact(line)


def check(path: PathLike) -> tuple[int, list[str]]:
    """For `edge config check FILE`: (0, [summary]) when valid, else (2, one line per problem)."""
    try:
        cfg = load_any(path)
    except ConfigError as exc:
        return 2, exc.messages
    return 0, [summarize(cfg)]
