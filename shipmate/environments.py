"""The environments this installation deploys to, as configured (SHIPMATE_ENVIRONMENTS),
not as typed: a request for `prd`, `production-eu` or `prod\n` would otherwise make a
new environment with none of production's rules. Anything not configured is refused with
the names that are."""

from __future__ import annotations

from shipmate.settings import Settings


def configured(settings: Settings) -> list[str]:
    return [environment.name for environment in settings.environments]


def is_production(settings: Settings, environment: str) -> bool:
    return any(e.name == environment and e.production for e in settings.environments)


def unknown_environments(settings: Settings, asked: list[str]) -> str | None:
    """Why a request naming `asked` cannot go ahead, or None when each is configured."""
    known = configured(settings)
    strangers = [env for env in asked if env not in known]
    if not strangers:
        return None
    names = " and ".join(f"`{name}`" for name in known) or "nothing"
    which = ", ".join(f"`{env[:20]}`" for env in strangers)
    return (
        f"{which} is not an environment here: I deploy to {names} (SHIPMATE_ENVIRONMENTS). "
        "Which did you mean? Ask again naming it."
    )
