"""Jinja2 templates with autoescaping on, ``url_for`` and context processors.

Example::

    from covet import Covet, Request
    from covet.templating import Jinja2Templates

    app = Covet()
    templates = Jinja2Templates(directory="templates")

    @app.get("/users/{name}", name="user")
    async def user(request: Request):
        context = {"name": request.path_params["name"]}
        return templates.TemplateResponse(request, "user.html", context)

    # user.html:  <a href="{{ url_for('user', name=name) }}">{{ name }}</a>

Every template is autoescaped (not only ``.html`` ones): a value with ``<``, ``&`` or quotes is
escaped unless the template marks it ``|safe``. The template context always holds ``request``;
``url_for(name, **params)`` is the absolute URL of a route (``request.url_for``). A context
processor is ``processor(request) -> dict`` whose items join every template's context (values
the handler passes win). Templates render when the response is made, so a template error is
raised inside the handler (500, logged) rather than half-way through sending.

Needs jinja2 (``pip install 'covetpy[templates]'``); importing this module without it raises
:class:`~covet.exceptions.MissingDependencyError` naming that extra.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from covet.exceptions import ConfigurationError, MissingDependencyError
from covet.requests import Request
from covet.responses import HTMLResponse

try:
    import jinja2
except ImportError as exc:
    raise MissingDependencyError("covet.templating", "jinja2", "templates") from exc

__all__ = ["ContextProcessor", "Jinja2Templates", "TemplateResponse"]

ContextProcessor = Callable[[Request], Mapping[str, Any]]
PathLike = str | os.PathLike[str]


class TemplateResponse(HTMLResponse):
    """An HTML response rendered from a template; ``template`` and ``context`` stay on it
    (for tests and middleware that want to look)."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type)


@jinja2.pass_context
def _url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> str:
    request = context.get("request")
    if not isinstance(request, Request):
        raise RuntimeError("url_for needs the request in the template context")
    return str(request.url_for(name, **path_params))


class Jinja2Templates:
    """Templates from ``directory`` (a path or several, searched in order), or from ``env``.

    :param context_processors: ``processor(request) -> dict`` called for every response.
    :param env_options: passed to ``jinja2.Environment`` (e.g. ``trim_blocks=True``);
        ``autoescape`` is True unless given.
    """

    def __init__(
        self,
        directory: PathLike | Sequence[PathLike] | None = None,
        *,
        context_processors: Sequence[ContextProcessor] | None = None,
        env: jinja2.Environment | None = None,
        **env_options: Any,
    ) -> None:
        if (directory is None) == (env is None):
            raise ConfigurationError("Jinja2Templates needs either directory or env, not both")
        if env is None:
            if isinstance(directory, str | os.PathLike):
                directories: list[PathLike] = [directory]
            else:
                directories = list(directory or [])
            for path in directories:
                if not os.path.isdir(path):
                    raise ConfigurationError(f"template directory {os.fspath(path)!r} not found")
            env_options.setdefault("autoescape", True)
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(directories), **env_options)
        env.globals.setdefault("url_for", _url_for)
        self.env = env
        self.context_processors = list(context_processors or [])

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(  # named like the class it returns, as users expect
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> TemplateResponse:
        """Render ``name`` with ``context`` plus ``request``, ``url_for`` and what the context
        processors return."""
        if not isinstance(request, Request):
            raise TypeError(
                "TemplateResponse(request, name, context): the request comes first, "
                f"not {type(request).__name__}"
            )
        merged: dict[str, Any] = {}
        for processor in self.context_processors:
            merged.update(processor(request))
        if context:
            merged.update(context)
        merged["request"] = request
        template = self.get_template(name)
        return TemplateResponse(template, merged, status_code, headers, media_type)
