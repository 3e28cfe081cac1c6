"""deploy/: the Helm chart and the compose file run what the README says they run.

"`deploy/helm` runs three workers and two bot replicas, each with a readiness probe and
a PodDisruptionBudget; workers share the artifact bucket and one SHIPMATE_INSTALLATION,
and their termination grace period outlasts SHIPMATE_WORKER_SHUTDOWN_SECONDS.
`deploy/compose.yaml` runs two workers on one host, sharing its engine and state volume."

`helm` is not on the machine, so the chart's templates are rendered here with its
values.yaml by a small interpreter of the Go template actions they use (an action it
does not know fails the test rather than being skipped), and the objects are read as
Kubernetes reads them: a probe's named port must be a container port, a budget must
select the Deployment's pods, and so on.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from shipmate.settings import Settings
from tests.activities.test_iam_artifact_bucket import allowed

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
CHART = DEPLOY / "helm" / "shipmate"

# --- a Go text/template interpreter for what the chart's templates use --------------

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


def _tokens(text: str) -> list[tuple[str, str]]:
    """("text", …) and ("action", …), with `{{-`/`-}}` trimming whitespace as Go does."""
    out: list[tuple[str, str]] = []
    at, trim_next = 0, False
    for match in ACTION.finditer(text):
        before = text[at : match.start()]
        if trim_next:
            before = before.lstrip()
        if match.group(1):
            before = before.rstrip()
        out.append(("text", before))
        out.append(("action", match.group(2)))
        at, trim_next = match.end(), bool(match.group(3))
    rest = text[at:]
    out.append(("text", rest.lstrip() if trim_next else rest))
    return out


def _tree(tokens: list, at: int = 0) -> tuple[list, int, str | None]:
    """Nodes up to the matching `end` (or `else`): text, expressions, range/if/with."""
    nodes: list = []
    while at < len(tokens):
        kind, value = tokens[at]
        at += 1
        if kind == "text":
            nodes.append(("text", value))
        elif value in ("end", "else"):
            return nodes, at, value
        elif value.split()[0] in ("range", "if", "with"):
            keyword, _, header = value.partition(" ")
            body, at, stop = _tree(tokens, at)
            otherwise: list = []
            if stop == "else":
                otherwise, at, stop = _tree(tokens, at)
            assert stop == "end", f"{keyword} without end"
            nodes.append((keyword, header, body, otherwise))
        else:
            nodes.append(("expr", value))
    return nodes, at, None


def _split(expression: str, separator: str = " ") -> list[str]:
    """Words of a command (or commands of a pipeline), a parenthesised one kept whole."""
    words, depth, word = [], 0, ""
    for char in expression:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            if word:
                words.append(word)
            word = ""
        else:
            word += char
    return [*words, word] if word else words


FUNCTIONS = {
    "dict": lambda *kv: dict(zip(kv[::2], kv[1::2], strict=True)),
    "eq": lambda a, b: a == b,
    "add": lambda *numbers: sum(int(n) for n in numbers),
    "upper": lambda s: str(s).upper(),
    "quote": lambda v: json.dumps("" if v is None else str(v)),
    "default": lambda fallback, value: value if value else fallback,
}


def _term(word: str, scope: dict):
    if word.startswith("("):
        return _pipeline(word[1:-1], scope)
    if word.startswith('"'):
        return json.loads(word)
    if re.fullmatch(r"-?\d+", word):
        return int(word)
    if word == ".":
        return scope["."]
    if word in FUNCTIONS:  # a function as an argument: called with none (`default dict`)
        return FUNCTIONS[word]()
    if word.startswith("$."):
        value, path = scope["$"], word[2:]
    elif word.startswith("$"):
        name, _, path = word.partition(".")
        value = scope[name]
    elif word.startswith("."):
        value, path = scope["."], word[1:]
    else:
        raise AssertionError(f"the chart uses {word!r}, which this interpreter does not know")
    for part in filter(None, path.split(".")):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _pipeline(expression: str, scope: dict):
    value, first = None, True
    for command in _split(expression.strip(), "|"):
        words = _split(command.strip())
        if words[0] in FUNCTIONS:
            args = [_term(w, scope) for w in words[1:]] + ([] if first else [value])
            value = FUNCTIONS[words[0]](*args)
        else:
            assert len(words) == 1, f"unknown function in {expression!r}"
            value = _term(words[0], scope)
        first = False
    return value


def _render(nodes: list, scope: dict) -> str:
    out = []
    for node in nodes:
        if node[0] == "text":
            out.append(node[1])
        elif node[0] == "expr":
            value = _pipeline(node[1], scope)
            out.append("" if value is None else str(value))
        elif node[0] == "range":
            _, header, body, _ = node
            names, _, source = header.partition(":=")
            key, value = (n.strip() for n in names.split(","))
            items = _pipeline(source.strip(), scope) or {}
            for k in sorted(items):  # Go ranges over a map in key order
                out.append(_render(body, {**scope, key: k, value: items[k]}))
        else:  # if, with
            _, header, body, otherwise = node
            value = _pipeline(header, scope)
            inner = {**scope, ".": value} if node[0] == "with" else scope
            out.append(_render(body if value else otherwise, inner))
    return "".join(out)


def render_chart(**overrides) -> list[dict]:
    """The chart's objects, as `helm template` would print them for these values."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    values.update(overrides)
    scope = {"$": {"Values": values}, ".": {"Values": values}}
    objects = []
    for template in sorted((CHART / "templates").glob("*.yaml")):
        nodes, _, stray = _tree(_tokens(template.read_text()))
        assert stray is None, f"{template.name}: a stray {stray}"
        objects += [o for o in yaml.safe_load_all(_render(nodes, scope)) if o]
    return objects


# --- what the README says of them ----------------------------------------------------


def _by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: str(item["value"]) for item in container.get("env", [])}


def _image_env() -> dict[str, str]:
    """The ENV of deploy/Dockerfile, the image both roles run."""
    found = {}
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            found.update(word.split("=", 1) for word in shlex.split(line[4:]))
    return found


def test_the_chart_runs_three_workers_and_two_bots_each_ready_probed_and_budgeted():
    objects = render_chart()
    deployments = _by_kind(objects, "Deployment")
    budgets = _by_kind(objects, "PodDisruptionBudget")
    assert {d: deployments[d]["spec"]["replicas"] for d in deployments} == {
        "shipmate-bot": 2,
        "shipmate-worker": 3,
    }
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (container,) = pod["spec"]["containers"]
        env = {**_image_env(), **_env(container)}
        assert env["SHIPMATE_LOG_FORMAT"] == "json"
        # The probe asks an HTTP port the process really listens on, on every address.
        probe = container["readinessProbe"]["httpGet"]
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        port = ports[probe["port"]] if isinstance(probe["port"], str) else probe["port"]
        if name == "shipmate-bot":
            assert probe["path"] == "/health"
            assert port == int(env.get("SHIPMATE_BOT_PORT", Settings().bot_port))
            assert env["SHIPMATE_BOT_HOST"] == "0.0.0.0"
        else:
            assert probe["path"] == "/metrics"
            assert port == int(env["SHIPMATE_WORKER_METRICS_PORT"]) > 0
            assert env["SHIPMATE_METRICS_HOST"] == "0.0.0.0"
        # A budget selects these pods, and still lets a node drain move one of them.
        budget = budgets[name]["spec"]
        assert budget["selector"]["matchLabels"].items() <= labels.items()
        assert 1 <= budget["minAvailable"] < deployment["spec"]["replicas"]


def test_workers_share_one_bucket_and_installation_and_outlast_their_grace_period():
    worker = _by_kind(render_chart(), "Deployment")["shipmate-worker"]["spec"]["template"]
    (container,) = worker["spec"]["containers"]
    env = _env(container)
    shutdown = float(env["SHIPMATE_WORKER_SHUTDOWN_SECONDS"])
    assert Settings(worker_shutdown_seconds=shutdown).worker_shutdown_seconds == shutdown
    assert worker["spec"]["terminationGracePeriodSeconds"] > shutdown
    # one installation and one artifact store: a bucket the IAM policy lets workers use
    assert env["SHIPMATE_INSTALLATION"]
    bucket = re.fullmatch(r"s3://([^/]+)/.*", env["SHIPMATE_ARTIFACT_STORE"]).group(1)
    for action in ("s3:PutObject", "s3:GetObject"):
        assert allowed(action, f"arn:aws:s3:::{bucket}/stages/todo/x.tar.gz")


def test_every_worker_of_one_image_polls_as_one_build_made_current_by_a_hook():
    """Worker Versioning routes work to the current build: the chart names the build
    after the image; a worker makes it current only when none is, and after a rollout
    or a rollback a hook promotes the image's build, so an old pod restarting mid-rollout
    never takes the work back."""
    objects = render_chart(image={"repository": "example/shipmate", "tag": "1.4.2"})
    worker = _by_kind(objects, "Deployment")["shipmate-worker"]["spec"]["template"]
    (container,) = worker["spec"]["containers"]
    env = _env(container)
    assert container["image"] == "example/shipmate:1.4.2" and env["SHIPMATE_BUILD_ID"] == "1.4.2"
    assert Settings(worker_promotion=env["SHIPMATE_WORKER_PROMOTION"]).worker_promotion == "first"
    (job,) = _by_kind(objects, "Job").values()
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert set(hooks) == {"post-install", "post-upgrade", "post-rollback"}
    (promote,) = job["spec"]["template"]["spec"]["containers"]
    assert promote["image"] == container["image"] and promote["args"] == ["shipmate", "promote"]
    assert _env(promote)["SHIPMATE_BUILD_ID"] == "1.4.2"
    assert _env(promote)["SHIPMATE_TEMPORAL_ADDRESS"] == env["SHIPMATE_TEMPORAL_ADDRESS"]


def test_the_chart_mounts_the_temporal_certificate_where_its_settings_point():
    """With temporalTls.secretName, both roles get the Secret read-only and the two
    settings that name its files; the objects stay valid YAML."""
    for deployment in _by_kind(
        render_chart(temporalTls={"secretName": "temporal-mtls", "ca": True}), "Deployment"
    ).values():
        pod = deployment["spec"]["template"]["spec"]
        (volume,) = pod["volumes"]
        assert volume["secret"]["secretName"] == "temporal-mtls"
        (container,) = pod["containers"]
        (mount,) = container["volumeMounts"]
        assert mount["name"] == volume["name"] and mount["readOnly"] is True
        env = _env(container)
        for name, file in (("CERT", "tls.crt"), ("KEY", "tls.key"), ("CA", "ca.crt")):
            assert env[f"SHIPMATE_TEMPORAL_TLS_{name}"] == f"{mount['mountPath']}/{file}"


def test_compose_runs_two_workers_and_two_bots_sharing_the_engine_and_state():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert services["bot"]["deploy"]["replicas"] == 2
    assert services["bot"]["command"] == ["shipmate", "bot"]
    worker = services["worker"]
    assert worker["command"] == ["shipmate", "worker"]
    assert worker["deploy"]["replicas"] == 2
    for service in services.values():
        assert service["environment"]["SHIPMATE_LOG_FORMAT"] == "json"
    volumes = dict(v.split(":", 1) for v in worker["volumes"])
    assert volumes["/var/run/docker.sock"] == "/var/run/docker.sock"  # the host's engine
    state = _image_env()["SHIPMATE_STATE_DIR"]
    named = [source for source, target in volumes.items() if target == state]
    assert named and named[0] in yaml.safe_load((DEPLOY / "compose.yaml").read_text())["volumes"]
    # SIGTERM: compose waits longer than the worker gives its running stages
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"]).group(1)
    assert int(grace) > Settings().worker_shutdown_seconds
    # the image's health check asks the bot's port; a worker is checked on its /metrics
    image_check = (DEPLOY / "Dockerfile").read_text()
    assert f"127.0.0.1:{Settings().bot_port}/health" in image_check
    port = worker["environment"]["SHIPMATE_WORKER_METRICS_PORT"]
    assert f"http://127.0.0.1:{port}/metrics" in " ".join(worker["healthcheck"]["test"])
