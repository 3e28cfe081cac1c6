"""Every knob Shipmate has, in one place, read from SHIPMATE_* variables or a .env file.

The defaults are the embedded local stack (`shipmate dev`): a Temporal dev server,
moto, a loopback registry and the local Docker engine, so nothing needs configuring
to try it out.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_core import to_jsonable_python
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shipmate.environment_settings import EnvironmentPolicy, EnvironmentSetting
from shipmate.issuer_urls import trusted_issuer
from shipmate.payload_codec import parse_keys

__all__ = ["EnvironmentPolicy", "EnvironmentSetting", "Settings", "SettingsError"]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHIPMATE_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,  # a malformed secret must not come back in the message
    )

    # Temporal
    temporal_address: str = Field("127.0.0.1:7233", description="Temporal frontend host:port")
    temporal_namespace: str = Field("default", description="Temporal namespace")
    # A production cluster or Temporal Cloud: TLS, a client certificate (mTLS), an API key
    temporal_tls: bool = Field(
        False, description="Connect over TLS; implied by any TLS file or the API key"
    )
    temporal_tls_cert: Path | None = Field(None, description="Client certificate (PEM) for mTLS")
    temporal_tls_key: Path | None = Field(None, description="Its private key (PEM)")
    temporal_tls_ca: Path | None = Field(
        None, description="CA bundle (PEM) the server is checked against; default: system roots"
    )
    temporal_tls_server_name: str | None = Field(
        None, description="Server name for SNI and the certificate check; default: the host"
    )
    temporal_api_key: SecretStr | None = Field(
        None, description="Temporal Cloud API key, sent as a bearer token"
    )
    task_queue: str = Field("shipmate", description="Task queue the worker polls")
    temporal_ui_port: int = Field(8233, description="Temporal Web UI port (dev server)")
    # Payload encryption (shipmate.payload_codec) and the Web UI's codec server
    payload_keys: SecretStr | None = Field(
        None,
        description="AES keys payloads are encrypted with, id:base64key, comma-separated: "
        "the first encrypts, all decrypt; unset: plain payloads (shipmate dev makes one)",
    )
    codec_server_port: int = Field(8234, description="Port of `shipmate codec-server`")
    codec_server_token: SecretStr | None = Field(
        None, description="Token the codec server requires (Authorization: Bearer …)"
    )
    codec_server_origins: list[str] = Field(
        default_factory=list,
        description="Web UI origins the codec server answers (JSON list); default: the dev UI's",
    )

    # Slack
    slack_mode: str = Field("socket", description="socket or http")
    slack_bot_token: SecretStr | None = Field(None, description="xoxb- bot token")
    slack_app_token: SecretStr | None = Field(None, description="xapp- token for Socket Mode")
    slack_signing_secret: SecretStr | None = Field(None, description="HTTP mode signing secret")
    slack_api_url: str | None = Field(None, description="Web API base URL (emulator)")
    slack_app_id: str | None = Field(None, description="This app's id (A…); others' are ignored")
    slack_team_id: str | None = Field(
        None, description="This installation's workspace (T…); default: the one auth.test names"
    )
    slack_allowed_teams: list[str] = Field(
        default_factory=list,
        description="Other workspaces (T…, e.g. Slack Connect partners) whose people may ask "
        "Shipmate for work (JSON list); everyone else's events start nothing",
    )

    # Request understanding
    openai_api_key: SecretStr | None = Field(None, description="Enables the OpenAI parser")
    openai_model: str = Field("gpt-4o-mini", description="Model for request understanding")
    openai_base_url: str | None = Field(None, description="Any OpenAI-compatible endpoint")
    openai_timeout_seconds: float = Field(20.0, description="Per-request timeout")

    # Reviews of outside code (activities/review)
    review_git_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts (host or host:port) a review may clone from, comma-separated or a "
        "JSON list; default: none, so a review of a git URL is refused",
    )
    review_git_credentials: SecretStr | None = Field(
        None, description="user:token given to those hosts when one asks for it (never logged)"
    )
    review_max_mb: int = Field(50, ge=1, description="A repository or upload over it is refused")
    review_fetch_seconds: int = Field(
        120, ge=1, description="How long fetching the code to review may take"
    )

    # Load tests of deployed services (activities/optimize)
    load_seconds: int = Field(30, ge=1, description="A load test's length when none is asked")
    load_max_seconds: int = Field(120, ge=1, description="Longer asks are clamped to this")
    load_users: int = Field(50, ge=1, description="Simultaneous users when none are asked")
    load_max_users: int = Field(200, ge=1, description="More users asked are clamped to this")
    load_seed_seconds: int = Field(
        10, ge=0, description="How long rows are created through the API before a load; 0: none"
    )

    # Docker and images
    docker_host: str | None = Field(None, description="Docker engine URL; default: local socket")
    base_image: str = Field(
        "shipmate/python-base:3.11-bookworm",
        description="Base image for generated services (built offline by `doctor --fix`)",
    )
    use_wheelhouse: bool = Field(True, description="Install image packages from a local wheelhouse")
    wheelhouse: Path | None = Field(None, description="Wheel cache; default: state dir")
    wheelhouse_python: str = Field("3.11", description="Python version of the base image")
    registry: str = Field("127.0.0.1:5000", description="Registry images are pushed to")
    registry_port: int = Field(5000, description="Port of the local registry (dev)")
    git_remote: str | None = Field(
        None,
        description="Push each service's repository here ({service}: its name); off if unset",
    )
    debian_mirror: str = Field("http://deb.debian.org/debian", description="Mirror for the base")
    artifact_store: str = Field(
        "",
        description="Where a stage's output waits for the next stage, for every worker: "
        "s3://bucket/prefix or a shared directory; unset: the state dir (one worker only)",
    )

    # AWS
    aws_region: str = Field("us-east-1", description="AWS region")
    aws_endpoint_url: str | None = Field(None, description="AWS endpoint (moto in dev)")
    moto_port: int = Field(5055, description="Port of moto in server mode (dev)")
    ecs_cluster: str = Field(
        "shipmate-{environment}", description="ECS cluster per environment ({environment})"
    )
    ecs_subnets: list[str] = Field(
        default_factory=list, description="Subnets for ECS tasks (JSON list); default VPC's"
    )
    ecs_security_groups: list[str] = Field(
        default_factory=list, description="Security groups for ECS tasks (JSON list)"
    )
    ecs_assign_public_ip: bool = Field(False, description="Give ECS tasks a public IP")
    ecs_execution_role_arn: str | None = Field(
        None, description="Role ECS uses to pull the image, read secrets and write logs"
    )
    ecs_task_role_arn: str | None = Field(
        None, description="Role the service itself runs as (e.g. to send its events to SQS)"
    )
    ecs_cpu: str = Field("256", description="Fargate CPU units per task")
    ecs_memory: str = Field("512", description="Fargate memory (MiB) per task")
    ecs_listener_ports: str = Field(
        "8100-8999",
        description="Ports of the environment's load balancer, one kept per service (first-last)",
    )
    rds_instance_class: str = Field("db.t4g.micro", description="RDS class per service and env")
    rds_storage_gb: int = Field(20, description="RDS storage (GiB) per service and environment")

    # Databases and addresses of services deployed to the local Docker engine
    postgres_url: str | None = Field(
        None,
        description="Admin URL of the PostgreSQL that local services get their databases on "
        "(shipmate dev runs its own)",
    )
    dev_postgres_port: int = Field(
        54329, description="Port of the PostgreSQL shipmate dev runs when POSTGRES_URL is unset"
    )
    mysql_url: str | None = Field(
        None,
        description="Admin URL of the MySQL/MariaDB that local services asking for MySQL use",
    )
    dev_mariadb_port: int = Field(
        33069, description="Port of the MariaDB shipmate dev runs when MYSQL_URL is unset"
    )
    rabbitmq_url: SecretStr = Field(
        SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="RabbitMQ that local services publishing to RabbitMQ send their events to",
    )
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS (with JetStream) that local services publishing to NATS use",
    )
    # Services that sign people in through an OpenID Connect issuer (auth oidc)
    oidc_issuers: dict[str, Annotated[str, AfterValidator(trusted_issuer)]] = Field(
        default_factory=dict,
        description="The issuer each environment's services trust, by environment, e.g. "
        '{"staging": "https://example.okta.com/oauth2/default"} (JSON); a service signing in '
        "through one is not deployed to an environment without it",
    )
    oidc_audience: str = Field(
        "{service}",
        description="The aud its issuer gives tokens for a service ({service} and "
        "{environment} stand for its name and environment; e.g. api://default for Okta's)",
    )
    oidc_roles_claim: str = Field(
        "roles",
        pattern=r"^[A-Za-z0-9_:.-]{1,100}$",
        description="The token claim with a person's roles (a dotted path: realm_access.roles)",
    )
    local_ports: str = Field(
        "18100-18999", description="Stable ports of local services, first-last (one per env)"
    )
    router_admin_port: int = Field(
        18099, description="Loopback port of the local router's admin API (Caddy)"
    )
    installation: str | None = Field(
        None,
        pattern=r"^[a-z0-9]{1,12}$",
        description="Names every container, database and AWS resource this installation "
        "makes; default: made once in the state dir (set it when several workers share one)",
    )
    local_target_dir: Path | None = Field(
        None,
        description="The local target's record of routes and service secrets, which belongs "
        "to the Docker host: workers sharing a host share it; default: the state dir",
    )

    # Who may do what (Slack user ids U…, user-group ids S…)
    developers: list[str] = Field(
        default_factory=list,
        description="Who may ask for builds and changes (JSON list; * is anyone); default: nobody",
    )
    admins: list[str] = Field(
        default_factory=list, description="Shipmate admins: may cancel or retry any delivery"
    )
    operator: str | None = Field(
        None, description="The Slack user id the command line acts as (required outside dev)"
    )

    # Environments: the only ones a request may name
    environments: list[EnvironmentSetting] = Field(
        default_factory=lambda: [
            EnvironmentSetting(name="staging"),
            EnvironmentSetting(name="prod", production=True),
        ],
        description='Where Shipmate deploys, e.g. [{"name": "staging"}, {"name": "prod", '
        '"production": true}] (JSON); a request naming any other is refused with these',
    )

    # Approvals
    approvers: list[str] = Field(
        default_factory=lambda: ["U0BOB", "S0APPROVERS"],
        description="Slack user or user-group ids allowed to approve deploys (JSON list)",
    )
    approver_groups: dict[str, list[str]] = Field(
        default_factory=lambda: {"S0APPROVERS": ["U0BOB"]},
        description="Members of user groups named in approvers (JSON object)",
    )
    approval_timeout_hours: float = Field(24.0, description="How long a gate waits")
    approval_reminder_hours: float = Field(
        1.0, ge=0, description="Remind approvers this long before a gate expires (0: never)"
    )
    broadcast_environments: list[str] | None = Field(
        None,
        description="Environments whose live, failed and rolled-back news is also posted to "
        "the channel (JSON list); unset: the production ones",
    )
    approval_policies: dict[str, EnvironmentPolicy] = Field(
        default_factory=dict,
        description='Per environment, e.g. {"prod": {"required_approvals": 2}} (JSON)',
    )
    retry_window_hours: float = Field(24.0, description="How long a failed delivery can be retried")
    heartbeat_seconds: float = Field(120.0, description="Silence after which a stage is re-run")
    worker_shutdown_seconds: float = Field(
        25.0,
        description="On SIGTERM, how long running stages may finish before they are handed "
        "to another worker (keep it under the pod's termination grace period)",
    )
    # Each kind of work has its own queue and slots (workflows/queues.py), so a Slack
    # message never waits behind a build; a process runs the roles it is given.
    worker_roles: list[Literal["workflows", "slack", "docker", "aws"]] = Field(
        default_factory=lambda: ["workflows", "slack", "docker", "aws"],
        description="What this worker process runs (JSON list): the workflows (and planning), "
        "Slack calls, Docker stages, AWS stages",
    )
    plan_slots: int = Field(4, ge=1, description="Planning calls at once per worker")
    slack_slots: int = Field(20, ge=1, description="Slack calls and card updates at once")
    docker_slots: int = Field(4, ge=1, description="Docker stages at once (scaffold to deploy)")
    aws_slots: int = Field(
        8, ge=1, description="AWS stages at once (ECS deploy, verify, tear down)"
    )
    # Worker Versioning (shipmate/worker_versions.py): work goes to the current build only
    worker_versioning: bool = Field(True, description="Workers poll as a versioned build")
    worker_promotion: Literal["on-start", "first", "off"] = Field(
        "on-start", description="When a workflows worker makes its build current"
    )
    worker_deployment: str | None = Field(
        None, description="Temporal worker deployment name; default: the task queue"
    )
    build_id: str | None = Field(
        None, description="This build's id (Helm: the image tag); default: version+code hash"
    )

    # Local state and ports
    state_dir: Path = Field(Path(".shipmate"), description="Where state and caches live")
    emulator_port: int = Field(3000, description="Slack emulator port (dev)")
    bot_port: int = Field(3001, description="Bot health endpoint (and HTTP-mode events) port")
    bot_host: str = Field("127.0.0.1", description="Address the bot listens on (0.0.0.0 in k8s)")

    # Observability (shipmate.telemetry, shipmate.logs)
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object a line, with workflow and activity ids"
    )
    otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP collector for traces, e.g. http://otel:4318; unset: the standard "
        "OTEL_EXPORTER_OTLP_ENDPOINT, and no tracing when neither is set",
    )
    services_otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP collector the services Shipmate deploys send their traces to, "
        "e.g. http://otel:4318; unset: they make spans and send them nowhere",
    )
    worker_metrics_port: int = Field(0, description="Worker's Prometheus /metrics port (0: off)")
    bot_metrics_port: int = Field(0, description="Bot's Prometheus /metrics port (0: off)")
    metrics_host: str = Field("127.0.0.1", description="Address /metrics listens on (0.0.0.0)")
    test_timeout_seconds: int = Field(600, description="Limit for a generated test run")

    @field_validator("payload_keys", mode="before")
    @classmethod
    def _keys_parse(cls, value):
        """Unset when empty; otherwise every entry must be a usable key."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or not str(text).strip():
            return None
        parse_keys(str(text))  # its ValueError names the entry, never the key
        return value

    @field_validator("review_git_hosts", mode="before")
    @classmethod
    def _hosts_parse(cls, value):
        """A JSON list like the other lists, or plainly `git.example.com,gitlab.example.com`."""
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)  # a malformed one is a ValueError naming the setting
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    def as_environment(self, *names: str) -> dict[str, str]:
        """These settings as the SHIPMATE_* variables another Shipmate process (a worker,
        a bot) reads them from; an unset one as empty. A SecretStr would come out masked
        ("**********"), so one is refused."""
        values = {name: getattr(self, name) for name in names}
        if any(isinstance(value, SecretStr) for value in values.values()):
            raise ValueError("a secret would go out masked; give it to the process its own way")
        return {f"SHIPMATE_{name.upper()}": _as_variable(value) for name, value in values.items()}

    @property
    def temporal_ui_url(self) -> str:
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"

    @property
    def wheelhouse_dir(self) -> Path:
        return self.wheelhouse or self.state_dir / "wheelhouse"

    @property
    def services_dir(self) -> Path:
        return self.state_dir / "services"

    @property
    def local_target_state(self) -> Path:
        return (self.local_target_dir or self.state_dir).resolve()


def load_settings(**overrides) -> Settings:
    """Read the settings; a bad value becomes one line naming its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "SHIPMATE_" + "_".join(str(p) for p in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def _as_variable(value) -> str:
    """A setting as its variable's text: lists and tables as the JSON they are read from."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(to_jsonable_python(value))
    return str(value)
