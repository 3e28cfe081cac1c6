"""The HTTP routes of a FastAPI or Flask service, and what guards each: the dependencies
on the route, its parameters, its router and the `include_router` that mounts it, and
the decorators (Flask). Read once, used by the route checks."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..source import Module, Project
from .common import dotted, imports, keyword, last_name, string_value

VERBS = {"get", "post", "put", "patch", "delete", "head", "options"}
ROUTER_CALLS = {"APIRouter", "FastAPI", "Flask", "Blueprint", "Router", "Starlette", "Quart"}
ROUTER_NAME = re.compile(r"(^|_)(router|app|api|bp|blueprint|routes)$", re.I)
AUTH = re.compile(
    r"(auth|current_?(user|account|member|admin|principal)|login|logged_?in|signed_?in"
    r"|require|verify|jwt|token|oauth|api_?key|session_user|get_user|permission|role"
    r"|admin|security|principal|bearer|guard|protected)",
    re.I,
)
ROLE = re.compile(
    r"(role|admin|permission|superuser|staff|scope|owner|authori[sz]e|policy|can_|is_allowed)",
    re.I,
)
ROLE_ATTRS = {"role", "roles", "is_admin", "is_superuser", "is_staff", "permissions", "scopes"}
AUTH_FLOW = re.compile(
    r"(login|log_in|logout|sign_?in|sign_?up|signup|register|token|auth|password|forgot"
    r"|reset|verify|webhook|callback|health|ready|live|metrics|oauth|refresh|otp|magic)",
    re.I,
)


@dataclass
class Route:
    module: Module
    function: ast.FunctionDef | ast.AsyncFunctionDef
    decorator: ast.Call
    methods: set[str]
    path: str
    router: str
    dependencies: set[str] = field(default_factory=set)  # names of what guards it
    guarded_by_security: bool = False

    @property
    def where(self) -> str:
        return f"{'/'.join(sorted(self.methods))} {self.path or '/'}"

    @property
    def changes_data(self) -> bool:
        return bool(self.methods & {"POST", "PUT", "PATCH", "DELETE"})

    @property
    def is_auth_flow(self) -> bool:
        return bool(AUTH_FLOW.search(self.path) or AUTH_FLOW.search(self.function.name))

    @property
    def authenticated(self) -> bool:
        return self.guarded_by_security or any(AUTH.search(name) for name in self.dependencies)

    @property
    def role_checked(self) -> bool:
        if any(ROLE.search(name) for name in self.dependencies):
            return True
        for node in ast.walk(self.function):
            if isinstance(node, ast.Attribute) and node.attr in ROLE_ATTRS:
                return True
            if isinstance(node, ast.Call) and ROLE.search(last_name(node)):
                return True
        return False


def routes(project: Project) -> list[Route]:
    """Every route of the project (read once, kept on the project for the other checks)."""
    if "routes" not in project.memo:
        project.memo["routes"] = _read_routes(project)
    return project.memo["routes"]


def _read_routes(project: Project) -> list[Route]:
    aliases = _dependency_aliases(project)
    providers = _providers(project)
    mounted = _mounted_guards(project)
    everywhere = _middleware_guards(project)
    found: list[Route] = []
    for module in project.modules:
        if module.is_test:
            continue
        guards, prefixes = _router_guards(module)
        for function in _functions(module.tree):
            for decorator in function.decorator_list:
                route = _route(module, function, decorator)
                if route is None:
                    continue
                route.path = prefixes.get(route.router, "") + route.path
                route.dependencies |= guards.get(route.router, set())
                route.dependencies |= mounted.get((module.path, route.router), set())
                route.dependencies |= _function_guards(function, aliases) | everywhere
                route.dependencies |= _expanded(route.dependencies, providers)
                route.guarded_by_security = "Security" in route.dependencies
                found.append(route)
    return found


def _functions(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.decorator_list:
            yield node


def _route(module: Module, function, decorator: ast.expr) -> Route | None:
    if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
        return None
    verb = decorator.func.attr
    router = dotted(decorator.func.value)
    if not router or not ROUTER_NAME.search(router.split(".")[-1]):
        return None
    path = (
        string_value(decorator.args[0])
        if decorator.args
        else string_value(keyword(decorator, "path") or keyword(decorator, "rule"))
    )
    if verb in VERBS:
        methods = {verb.upper()}
    elif verb in ("route", "api_route"):
        listed = keyword(decorator, "methods")
        methods = {
            (string_value(item) or "").upper()
            for item in (listed.elts if isinstance(listed, ast.List | ast.Tuple | ast.Set) else [])
        } or {"GET"}
    else:
        return None
    route = Route(module, function, decorator, methods, path or "", router)
    route.dependencies |= _depends_names(keyword(decorator, "dependencies"))
    for other in function.decorator_list:  # Flask: @login_required, @jwt_required()
        if other is not decorator:
            route.dependencies.add(last_name(other) or dotted(other))
    return route


def _depends_names(node: ast.AST | None) -> set[str]:
    """What `Depends(x)`/`Security(x)` calls inside node name; "Security" for the latter."""
    names: set[str] = set()
    if node is None:
        return names
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and last_name(sub) in ("Depends", "Security"):
            if last_name(sub) == "Security":
                names.add("Security")
            if sub.args:
                names.add(last_name(sub.args[0]) or dotted(sub.args[0]))
            if keyword(sub, "scopes") is not None:
                names.add("scopes")
    return names - {""}


def _dependency_aliases(project: Project) -> dict[str, set[str]]:
    """Module-level `SignedIn = Annotated[Account, Depends(current_account)]`, everywhere."""
    aliases: dict[str, set[str]] = {}
    for module in project.modules:
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            names = _depends_names(value)
            if isinstance(target, ast.Name) and names:
                aliases[target.id] = names
    return aliases


def _providers(project: Project) -> dict[str, set[str]]:
    """A dependency function's own dependencies: `def get_service(user=Depends(me))`."""
    aliases = _dependency_aliases(project)
    provided: dict[str, set[str]] = {}
    for module in project.modules:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = _function_guards(node, aliases)
                if names:
                    provided.setdefault(node.name, set()).update(names)
    return provided


def _expanded(names: set[str], providers: dict[str, set[str]]) -> set[str]:
    found, todo = set(), list(names)
    while todo and len(found) < 100:
        name = todo.pop()
        for more in providers.get(name, ()):
            if more not in found:
                found.add(more)
                todo.append(more)
    return found


def _function_guards(function, aliases: dict[str, set[str]]) -> set[str]:
    names = _depends_names(function.args)
    for node in ast.walk(function.args):
        if isinstance(node, ast.Name) and node.id in aliases:
            names |= aliases[node.id]
    return names


def _router_guards(module: Module) -> tuple[dict[str, set[str]], dict[str, str]]:
    """router name -> its `dependencies=`, and router name -> its prefix."""
    guards: dict[str, set[str]] = {}
    prefixes: dict[str, str] = {}
    for node in module.tree.body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or not isinstance(node.value, ast.Call):
            continue
        if last_name(node.value) not in ROUTER_CALLS:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            name = dotted(target)
            guards[name] = _depends_names(keyword(node.value, "dependencies"))
            prefix = keyword(node.value, "prefix") or keyword(node.value, "url_prefix")
            prefixes[name] = string_value(prefix) or ""
    return guards, prefixes


def _mounted_guards(project: Project) -> dict[tuple[str, str], set[str]]:
    """(module path, router name) -> the dependencies `include_router(...)` adds."""
    paths = {
        m.path.removesuffix(".py").removesuffix("/__init__").replace("/", "."): m.path
        for m in project.modules
    }
    mounted: dict[tuple[str, str], set[str]] = {}
    for module in project.modules:
        names = imports(module.tree)
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.Call) and last_name(node) == "include_router"):
                continue
            if not node.args:
                continue
            guards = _depends_names(keyword(node, "dependencies"))
            router = dotted(node.args[0])
            head, _, attr = router.rpartition(".")
            target = paths.get(names.get(head, head)) if head else None
            if guards and target and attr:
                mounted.setdefault((target, attr), set()).update(guards)
    return mounted


def _middleware_guards(project: Project) -> set[str]:
    """Sign-in checked for every request: `app.add_middleware(AuthMiddleware)`, an
    `@app.middleware("http")` or Flask `@app.before_request` function named for it."""
    names: set[str] = set()
    for module in project.modules:
        if module.is_test:
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call) and last_name(node) == "add_middleware" and node.args:
                names.add(last_name(node.args[0]))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                hooks = {last_name(decorator) for decorator in node.decorator_list}
                if hooks & {"middleware", "before_request", "before_app_request"}:
                    names.add(node.name)
    return {name for name in names if AUTH.search(name)}
