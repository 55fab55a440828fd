"""Site and camera configuration (pydantic v2): the shapes, bounds and cross-checks.

Every model is frozen and forbids unknown keys (DESIGN.md 7). Secrets are never written in
config: they are named by an environment variable or a file and read only when needed.
Loading YAML and formatting errors for people lives in `edge.config.loader`.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NoReturn
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from edge.labels import CHECKPOINT_LABELS, SMOKE_LABELS, Label

ID_PATTERN = r"^[a-z0-9-]+$"

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
DirectionName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]


def _polygon(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    # Checked here, not with min_length: pydantic would also count points that failed validation.
    if len(points) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(points)}")
    return points


Polygon = Annotated[tuple[Point, ...], AfterValidator(_polygon)]
Fps = Annotated[float, Field(ge=0.1, le=60.0)]
Standard = Annotated[float, Field(ge=0.5, le=1.0)]
ModelFormat = Literal["pt", "onnx", "openvino"]

_NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
_DEVICE_RE = re.compile(r"^device:\d+$")
# scheme://user:password@ -- the password runs to the last '@' before whitespace, so an
# unescaped '@' inside a password is still hidden (over-redacting is the safe side).
_CREDENTIALS_RE = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):(?P<password>\S*)@")


class SecretUnavailableError(RuntimeError):
    """A configured password_env / password_file could not be read at run time."""


def redact(text: str) -> str:
    """Replace the password of every `scheme://user:password@` in `text` with `***`."""
    return _CREDENTIALS_RE.sub(r"\g<head>:***@", text)


def _custom_error(message: str, error_type: str = "config") -> PydanticCustomError:
    return PydanticCustomError(error_type, "{message}", {"message": message})


def _fail(loc: tuple[str | int, ...], message: str, input_value: Any = None) -> NoReturn:
    """Raise a ValidationError at `loc` (relative to the model being validated)."""
    raise ValidationError.from_exception_data(
        "config", [InitErrorDetails(type=_custom_error(message), loc=loc, input=input_value)])


def _fail_many(problems: Sequence[tuple[tuple[str | int, ...], str]]) -> None:
    """Raise one ValidationError carrying one line error per (loc, message), if there are any."""
    if problems:
        raise ValidationError.from_exception_data("config", [
            InitErrorDetails(type=_custom_error(msg), loc=loc, input=None) for loc, msg in problems])


def _read_secret(env: str | None, file: Path | None, owner: str) -> str | None:
    """The secret named by `env` or `file`, read now; None when neither is configured."""
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise SecretUnavailableError(f"{owner}: environment variable {env} (password_env) is not set")
        return value
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").rstrip("\r\n")
        except FileNotFoundError:
            raise SecretUnavailableError(f"{owner}: password file {file} (password_file) not found") from None
        except OSError as exc:
            raise SecretUnavailableError(
                f"{owner}: cannot read password file {file} (password_file): {exc.strerror}") from None
    return None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SecretRef(_Model):
    """A password given by environment variable or file, never inline."""

    password_env: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    password_file: Path | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _no_plain_password(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # Reported with the model's other errors, and with the value hidden from any traceback.
        if not (isinstance(data, dict) and "password" in data):
            return handler(data)
        errors = [InitErrorDetails(type=_custom_error("plain passwords are not allowed in config; use "
                                                      "password_env (name of an environment variable) "
                                                      "or password_file"),
                                   loc=("password",), input="***")]
        try:
            handler({key: value for key, value in data.items() if key != "password"})
        except ValidationError as exc:
            errors += [InitErrorDetails(type=_custom_error(str(e["msg"]), e["type"]), loc=e["loc"],
                                        input=e["input"]) for e in exc.errors()]
        raise ValidationError.from_exception_data("config", errors)

    @model_validator(mode="after")
    def _one_secret_source(self) -> _SecretRef:
        if self.password_env is not None and self.password_file is not None:
            _fail(("password_file",), "give password_env or password_file, not both")
        return self

    @property
    def has_password(self) -> bool:
        return self.password_env is not None or self.password_file is not None


class SiteInfo(_Model):
    """Who this site is; its time zone defines the ISO weeks that rates are counted in."""

    id: Id
    name: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name, e.g. Asia/Shanghai)") from None
        return value


class TlsConfig(_Model):
    """TLS towards the broker; a client certificate is optional but comes with its key."""

    ca_file: Path | None = None  # None: the system's trusted CAs
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True

    @model_validator(mode="after")
    def _cert_with_key(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            missing = "key_file" if self.key_file is None else "cert_file"
            _fail((missing,), "cert_file and key_file must be given together")
        return self


# Broker account names other than cameras' (the aggregator's, operators'). Cameras log in as
# `{site}/{camera}` (edge.broker.accounts); a '/' in any other name would let the ACL's per-camera
# patterns apply to it, and Mosquitto refuses '+' and '#' in names where patterns are used.
AccountName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")]


class _Account(_SecretRef):
    """A broker account whose password must be given (by environment variable or file)."""

    @model_validator(mode="after")
    def _needs_password(self) -> _Account:
        if not self.has_password:
            _fail((), "give password_env or password_file")
        return self

    def password(self, owner: str) -> str:
        """The password, read now; SecretUnavailableError names `owner` when it cannot be read."""
        value = _read_secret(self.password_env, self.password_file, owner)
        assert value is not None  # _needs_password
        return value


class MqttAccount(_Account):
    """A camera worker's own broker account; its username is always `{site}/{camera}`."""


class OperatorAccount(_Account):
    """An operator's broker account: reads alerts and rates, writes commands (edge broker-config)."""

    username: AccountName


class BrokerConfig(_SecretRef):
    """The MQTT broker that workers publish to and the aggregator subscribes on."""

    host: str = Field(default="localhost", min_length=1)
    port: int = Field(default=1883, ge=1, le=65535)  # 8883 is the usual port with TLS
    topic_prefix: str = Field(default="edge/v1", min_length=1)
    client_id_prefix: str = Field(default="edge", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    username: str | None = Field(default=None, min_length=1)
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    tls: TlsConfig | None = None
    # The aggregator speaks MQTT 5 (session expiry, receive maximum); 3.1.1 keeps a persistent
    # session with clean_session=False and suits brokers without v5, such as the demo's amqtt.
    mqtt_version: Literal["5", "3.1.1"] = "5"
    # Accounts `edge broker-config` writes besides the aggregator's (`username` above) and the cameras'.
    operators: tuple[OperatorAccount, ...] = ()

    @field_validator("topic_prefix")
    @classmethod
    def _plain_topic_prefix(cls, value: str) -> str:
        if "+" in value or "#" in value:
            raise ValueError("topic_prefix must not contain MQTT wildcards (+ or #)")
        if value.startswith("/") or value.endswith("/"):
            raise ValueError("topic_prefix must not start or end with '/'")
        if "//" in value or "\0" in value:
            raise ValueError("topic_prefix must not contain empty levels ('//') or NUL")
        return value

    def password(self) -> str | None:
        """The broker password, read from password_env / password_file now; None when not configured.

        Raises SecretUnavailableError when the variable is unset or the file is missing.
        """
        return _read_secret(self.password_env, self.password_file, "broker")

    @property
    def address(self) -> str:
        """`host:port` for messages (never carries credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> BrokerConfig:
        """Broker settings from `mqtt://[user@]host[:port]` or `mqtts://...` (TLS, system CAs).

        Raises ValueError for other schemes, a path or query, or a password in the URL.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"broker URL must start with mqtt:// or mqtts://, got {redact(url)!r}")
        if parts.password is not None:
            raise ValueError("broker URL must not contain a password; use password_env or password_file")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"broker URL takes only [user@]host[:port], got {redact(url)!r}")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"broker URL has an invalid port: {redact(url)!r}") from None
        if not parts.hostname:
            raise ValueError(f"broker URL has no host: {redact(url)!r}")
        tls = parts.scheme == "mqtts"
        return cls(host=parts.hostname, port=port or (8883 if tls else 1883), username=parts.username or None,
                   tls=TlsConfig() if tls else None)


class SourceConfig(_SecretRef):
    """Where frames come from: a file path, an rtsp:// (or http) URL, or `device:N`.

    The camera password is injected into network URLs at run time from password_env /
    password_file; a password written in the URL itself is refused.
    """

    url: str = Field(min_length=1)
    username: str | None = Field(default=None, min_length=1)
    transport: Literal["tcp", "udp"] = "tcp"
    reconnect_initial_s: float = Field(default=1.0, gt=0.0, le=600.0)
    reconnect_max_s: float = Field(default=30.0, gt=0.0, le=3600.0)
    stall_timeout_s: float = Field(default=10.0, gt=0.0, le=600.0)

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if "://" not in value:
            return value  # a file path or device:N
        parts = urlsplit(value)
        if parts.scheme.lower() not in _NETWORK_SCHEMES:
            raise ValueError(f"unsupported URL scheme {parts.scheme!r} (expected rtsp://, rtsps://, "
                             "http://, https://, a file path or device:N)")
        if parts.password is not None:
            _fail((), "a password inside the URL is not allowed; put the user in the URL or `username` "
                      "and the password in password_env or password_file", redact(value))
        if not parts.hostname:
            raise ValueError("URL has no host")
        return value

    @model_validator(mode="after")
    def _credentials_fit(self) -> SourceConfig:
        url_user = self._parts().username if self.is_network else None
        if self.username is not None and url_user is not None and url_user != self.username:
            _fail(("username",), f"username {self.username!r} differs from the user in the URL {url_user!r}")
        if (self.username is not None or self.has_password) and not self.is_network:
            field = "username" if self.username is not None else (
                "password_env" if self.password_env is not None else "password_file")
            _fail((field,), "credentials apply only to network URLs (rtsp://, http://...)")
        if self.has_password and self.username is None and url_user is None:
            field = "password_env" if self.password_env is not None else "password_file"
            _fail((field,), "a password needs a user: in the URL (rtsp://user@host/...) or in username")
        if self.reconnect_initial_s > self.reconnect_max_s:
            _fail(("reconnect_initial_s",), "reconnect_initial_s must not exceed reconnect_max_s")
        return self

    @property
    def is_network(self) -> bool:
        return "://" in self.url

    @property
    def is_device(self) -> bool:
        return _DEVICE_RE.match(self.url) is not None

    @property
    def device_index(self) -> int | None:
        """N of `device:N`, else None."""
        return int(self.url.split(":", 1)[1]) if self.is_device else None

    def _parts(self) -> SplitResult:
        return urlsplit(self.url)

    def _with_credentials(self, password: str | None) -> str:
        if not self.is_network:
            return self.url
        parts = self._parts()
        user = self.username or parts.username
        if user is None:
            return self.url
        host = parts.netloc.rsplit("@", 1)[-1]
        userinfo = quote(user, safe="")
        if password is not None:
            userinfo += ":" + (password if password == "***" else quote(password, safe=""))
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))

    def resolved_url(self) -> str:
        """The URL to open: credentials inserted (password read now). Never log this; log redacted_url()."""
        password = _read_secret(self.password_env, self.password_file, "source") if self.is_network else None
        return self._with_credentials(password)

    def redacted_url(self) -> str:
        """The URL as it may be logged: user shown, password (when configured) as `***`."""
        return self._with_credentials("***" if self.has_password else None)


class ModelConfig(_Model):
    """One set of weights and how its classes map onto canonical labels (DESIGN.md 3)."""

    weights: Path
    format: ModelFormat  # inferred from the weights' name when omitted
    imgsz: int = Field(default=640, ge=32, le=4096)
    class_map: dict[Annotated[str, Field(min_length=1)], Label | None]
    conf: float = Field(default=0.25, ge=0.0, le=1.0)
    thresholds: dict[Label, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=dict)
    iou: float = Field(default=0.5, ge=0.0, le=1.0)
    device: str = Field(default="cpu", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _infer_format(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "format" in data or not isinstance(data.get("weights"), str | Path):
            return data
        weights = Path(data["weights"])
        inferred = {".pt": "pt", ".onnx": "onnx"}.get(weights.suffix.lower())
        if inferred is None and weights.name.endswith("_openvino_model"):
            inferred = "openvino"
        if inferred is None:
            _fail(("format",), f"cannot infer the format of weights {str(weights)!r} (expected .pt, .onnx "
                               "or a *_openvino_model folder); set format: pt, onnx or openvino")
        return {**data, "format": inferred}

    @field_validator("imgsz")
    @classmethod
    def _stride_multiple(cls, value: int) -> int:
        if value % 32:
            raise ValueError(f"imgsz must be a multiple of 32 (got {value})")
        return value

    @model_validator(mode="after")
    def _thresholds_used(self) -> ModelConfig:
        if not self.labels:
            _fail(("class_map",), "class_map maps no class to a label")
        unused = sorted(str(label) for label in self.thresholds if label not in self.labels)
        if unused:
            _fail(("thresholds",), f"threshold for {', '.join(unused)}, but no class in class_map maps to it")
        return self

    @property
    def labels(self) -> frozenset[Label]:
        """Canonical labels this model provides."""
        return frozenset(label for label in self.class_map.values() if label is not None)

    def with_weights(self, weights: Path) -> ModelConfig:
        """The same settings for other weights, validated again so their format is inferred anew.

        (`model_copy(update=...)` skips validation and would keep the old weights' format.)
        """
        return ModelConfig.model_validate({**self.model_dump(exclude={"format"}), "weights": weights})


class CountingLine(_Model):
    """A checkpoint's counting line in normalised image coordinates (0..1, y down).

    `positive` names the crossing from the left of the start->end vector to its right, as
    seen on the image; `negative` the opposite one. For a line from (0, 0.6) to (1, 0.6),
    positive is moving down the image. `count` lists the directions that are counted.
    """

    start_xy: Point
    end_xy: Point
    positive: DirectionName
    negative: DirectionName
    count: tuple[DirectionName, ...]  # defaults to both directions

    @model_validator(mode="before")
    @classmethod
    def _count_both_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "count" not in data and "positive" in data and "negative" in data:
            return {**data, "count": (data["positive"], data["negative"])}
        return data

    @model_validator(mode="after")
    def _sane(self) -> CountingLine:
        if self.start_xy == self.end_xy:
            _fail(("end_xy",), "end_xy must differ from start_xy")
        if self.positive == self.negative:
            _fail(("negative",), "positive and negative must be different names")
        if not self.count:
            _fail(("count",), "count must name at least one direction")
        for i, name in enumerate(self.count):
            if name not in (self.positive, self.negative):
                _fail(("count", i), f"{name!r} is not a direction of this line "
                                    f"({self.positive!r} or {self.negative!r})")
        if len(set(self.count)) != len(self.count):
            _fail(("count",), "a direction is listed twice")
        return self

    def side_of(self, x: float, y: float) -> float:
        """> 0 when (x, y) is right of start->end on the image, < 0 left, 0 on the line."""
        (sx, sy), (ex, ey) = self.start_xy, self.end_xy
        return (ex - sx) * (y - sy) - (ey - sy) * (x - sx)


# Site-wide topics sit beside camera ids ({prefix}/{site}/alerts/...), so a camera may not take
# their names.
RESERVED_CAMERA_IDS = frozenset({"alerts", "rates", "commands", "rejected"})


class _CameraBase(_Model):
    required_labels: ClassVar[frozenset[Label]] = frozenset()

    id: Id
    name: str = Field(min_length=1)
    source: SourceConfig
    model: Id  # a key of the site's `models`
    box: Id | None = None  # the box whose `edge run --box` starts this camera's worker
    mqtt: MqttAccount | None = None  # the worker's own broker account; None: the site broker's

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_CAMERA_IDS:
            raise ValueError(f"camera id {value!r} is reserved for site-wide topics "
                             f"({', '.join(sorted(RESERVED_CAMERA_IDS))})")
        return value


class CheckpointCamera(_CameraBase):
    """A road-checkpoint camera: counts two-wheelers crossing a line and votes on helmets."""

    required_labels: ClassVar[frozenset[Label]] = CHECKPOINT_LABELS

    kind: Literal["checkpoint"]
    name_zh: str | None = Field(default=None, min_length=1)  # zh-CN alert text; `name` if unset
    analysis_fps: Fps = 10.0
    counting_line: CountingLine
    min_track_hits: int = Field(default=5, ge=1, le=100)
    min_head_votes: int = Field(default=3, ge=1, le=50)
    standard: Standard | None = None  # None: the aggregator's default_standard
    evidence_dir: Path | None = None


class Preset(_Model):
    """One pan/tilt stop of a smoke camera; masks hide regions (chimneys, roads) from the detector."""

    id: Id
    pan_deg: float = Field(ge=0.0, le=360.0)
    tilt_deg: float = Field(ge=-90.0, le=90.0)
    hfov_deg: float = Field(ge=1.0, le=180.0)
    dwell_s: float = Field(gt=0.0, le=3600.0)
    masks: tuple[Polygon, ...] = ()


class SmokeConfirm(_Model):
    """Temporal confirmation: smoke in k of the last n analysed frames opens an incident."""

    k: int = Field(default=3, ge=1, le=100)
    n: int = Field(default=5, ge=1, le=100)
    quiet_close_s: float = Field(default=120.0, gt=0.0, le=86400.0)

    @model_validator(mode="after")
    def _k_within_n(self) -> SmokeConfirm:
        if self.k > self.n:
            _fail(("k",), f"k ({self.k}) must not exceed n ({self.n})")
        return self


class SmokeCamera(_CameraBase):
    """A high-mounted pan/tilt camera cycling through presets, watching for smoke."""

    required_labels: ClassVar[frozenset[Label]] = SMOKE_LABELS

    kind: Literal["smoke"]
    analysis_fps: Fps = 2.0
    heading_deg: float = Field(ge=0.0, le=360.0)
    latitude: float = Field(ge=-90.0, le=90.0)
    longitude: float = Field(ge=-180.0, le=180.0)
    presets: tuple[Preset, ...]
    confirm: SmokeConfirm = SmokeConfirm()
    settle_s: float = Field(default=3.0, ge=0.0, le=120.0)

    @model_validator(mode="after")
    def _unique_presets(self) -> SmokeCamera:
        if not self.presets:
            _fail(("presets",), "at least one preset is required")
        seen: set[str] = set()
        for i, preset in enumerate(self.presets):
            if preset.id in seen:
                _fail(("presets", i, "id"), f"duplicate preset id {preset.id!r}")
            seen.add(preset.id)
        return self


CameraConfig = Annotated[CheckpointCamera | SmokeCamera, Field(discriminator="kind")]


class AggregatorConfig(_Model):
    """The site aggregator: where events are stored and when a checkpoint alerts."""

    store: str = "sqlite:///var/edge/aggregator.db"
    default_standard: Standard = 0.90
    min_riders: int = Field(default=100, ge=1)
    rates_interval_s: float = Field(default=60.0, gt=0.0, le=86400.0)

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            return value
        if value.startswith(("postgresql://", "postgresql+")):
            if urlsplit(value).password is not None:
                raise ValueError("store URL must not contain a password; use PGPASSWORD or ~/.pgpass")
            return value
        raise ValueError("store must be a sqlite:///PATH or postgresql://... URL")

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for sqlite stores, read as SQLAlchemy does.

        `sqlite:///rel/path.db` is relative to the working directory, `sqlite:////abs/path.db`
        is absolute. None for PostgreSQL.
        """
        return Path(self.store.removeprefix("sqlite:///")) if self.store.startswith("sqlite:///") else None


class SiteConfig(_Model):
    """A whole site: its broker, models, cameras and aggregator.

    Camera entries given as file paths are resolved by `edge.config.load_site`; this model
    only sees camera mappings.
    """

    site: SiteInfo
    broker: BrokerConfig = BrokerConfig()
    models: dict[Id, ModelConfig] = Field(default_factory=dict)
    cameras: tuple[CameraConfig, ...] = ()
    aggregator: AggregatorConfig = AggregatorConfig()

    @field_validator("cameras", mode="before")
    @classmethod
    def _no_unresolved_paths(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for i, entry in enumerate(value):
                if isinstance(entry, str):
                    _fail((i,), f"camera file {entry!r} was not loaded; load the site with "
                                "edge.config.load_site")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> SiteConfig:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, int] = {}
        for i, camera in enumerate(self.cameras):
            if camera.id in seen:
                problems.append((("cameras", i, "id"),
                                 f"duplicate camera id {camera.id!r} (also cameras.{seen[camera.id]})"))
            else:
                seen[camera.id] = i
            model = self.models.get(camera.model)
            if model is None:
                known = ", ".join(sorted(self.models)) or "none"
                problems.append((("cameras", i, "model"),
                                 f"model {camera.model!r} is not defined in the site's models "
                                 f"(defined: {known})"))
                continue
            missing = sorted(str(label) for label in camera.required_labels - model.labels)
            if missing:
                problems.append((("cameras", i, "model"),
                                 f"{camera.kind} camera {camera.id!r} needs model {camera.model!r} to map "
                                 f"label(s) {', '.join(missing)} in its class_map"))
        _fail_many(problems)
        return self

    def camera(self, camera_id: str) -> CheckpointCamera | SmokeCamera:
        """The camera with this id; KeyError when there is none."""
        for camera in self.cameras:
            if camera.id == camera_id:
                return camera
        raise KeyError(camera_id)

    def model_for(self, camera: CheckpointCamera | SmokeCamera) -> ModelConfig:
        """The ModelConfig a camera of this site uses."""
        return self.models[camera.model]
