"""covet.templating: real template files in a temporary directory, rendered through covet's
TestClient and once through covet's own server; rows from covet.db on both backends."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pytest

from covet import Covet, Request
from covet.db import Database
from covet.exceptions import ConfigurationError
from covet.templating import Jinja2Templates, TemplateResponse
from covet.testclient import TestClient
from covetbench.servers import AppTarget, ServerOptions, get_server

HOSTILE = "<script>alert(\"x\")</script> & 'quotes'"
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;quotes&#39;"

TEMPLATES = {
    "base.html": "<title>{{ site }}</title><main>{% block main %}{% endblock %}</main>",
    "page.html": (
        '{% extends "base.html" %}{% block main %}<p>{{ text }}</p><i>{{ trusted|safe }}</i>'
        "<a href=\"{{ url_for('user', name=name) }}\">{{ name }}</a>"
        "<s>{{ request.url.path }}</s>{% endblock %}"
    ),
    "note.txt": "note: {{ text }}",
    "fortunes.html": (
        "<table><tr><th>id</th><th>message</th></tr>"
        "{% for f in fortunes %}<tr><td>{{ f.id }}</td><td>{{ f.message }}</td></tr>{% endfor %}"
        "</table>"
    ),
    "broken.html": "{% if %}",
}


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "templates"
    directory.mkdir()
    for name, text in TEMPLATES.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def make_app(templates: Jinja2Templates) -> Covet:
    app = Covet()

    @app.get("/users/{name}", name="user")
    async def user(request: Request) -> TemplateResponse:
        context = {"text": HOSTILE, "trusted": "<b>ok</b>", "name": request.path_params["name"]}
        return templates.TemplateResponse(request, "page.html", context)

    @app.get("/note")
    async def note(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(
            request, "note.txt", {"text": HOSTILE}, status_code=202, headers={"x-t": "1"}
        )

    @app.get("/missing")
    async def missing(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "nope.html")

    @app.get("/broken")
    async def broken(request: Request) -> TemplateResponse:
        return templates.TemplateResponse(request, "broken.html")

    return app


def site(request: Request) -> dict[str, Any]:
    return {"site": "Covet & co", "name": "from-processor"}


def test_render_escape_url_for_and_context_processors(template_dir: Path) -> None:
    templates = Jinja2Templates(template_dir, context_processors=[site])
    with TestClient(make_app(templates)) as client:
        response = client.get("/users/ada")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    body = response.text
    assert "<title>Covet &amp; co</title>" in body  # processor values are escaped too
    assert f"<p>{ESCAPED}</p>" in body and "<script>" not in body
    assert "<i><b>ok</b></i>" in body  # |safe is the template's explicit choice
    # The handler's "name" wins over the processor's; url_for is the route's absolute URL.
    assert '<a href="http://testserver/users/ada">ada</a>' in body
    assert "<s>/users/ada</s>" in body


def test_every_template_is_autoescaped_and_options_pass_through(template_dir: Path) -> None:
    templates = Jinja2Templates(str(template_dir))
    with TestClient(make_app(templates)) as client:
        response = client.get("/note")
        head = client.head("/note")
    assert response.status_code == 202 and response.headers["x-t"] == "1"
    assert response.text == f"note: {ESCAPED}"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert head.status_code == 202 and head.content == b""


def test_url_for_under_a_root_path(template_dir: Path) -> None:
    templates = Jinja2Templates(template_dir)
    with TestClient(make_app(templates), root_path="/app") as client:
        body = client.get("/users/bob").text
    assert '<a href="http://testserver/app/users/bob">' in body


def test_response_keeps_template_and_context(template_dir: Path) -> None:
    templates = Jinja2Templates(template_dir)
    request = Request({"type": "http", "path": "/", "headers": [], "query_string": b""})
    response = templates.TemplateResponse(request, "note.txt", {"text": "hi"}, media_type="text/x")
    assert isinstance(response, TemplateResponse)
    assert response.template.name == "note.txt"
    assert response.context == {"text": "hi", "request": request}
    assert response.body == b"note: hi"
    assert (b"content-type", b"text/x; charset=utf-8") in response.raw_headers


def test_template_errors_are_500(template_dir: Path) -> None:
    templates = Jinja2Templates(template_dir)
    app = make_app(templates)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/missing", "/broken"):
            response = client.get(path)
            assert response.status_code == 500
            assert response.text == "Internal Server Error"
    with TestClient(app) as client, pytest.raises(jinja2.TemplateNotFound):
        client.get("/missing")


def test_several_directories_and_a_custom_environment(tmp_path: Path, template_dir: Path) -> None:
    override = tmp_path / "override"
    override.mkdir()
    (override / "note.txt").write_text("override {{ text }}")
    templates = Jinja2Templates([override, template_dir])
    assert templates.get_template("note.txt").render(text="x") == "override x"
    assert templates.get_template("base.html").render(site="s").startswith("<title>s")

    env = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ url_for('home') }}"}))
    custom = Jinja2Templates(env=env)
    app = Covet()

    @app.get("/", name="home")
    async def home(request: Request) -> TemplateResponse:
        return custom.TemplateResponse(request, "t")

    with TestClient(app) as client:
        assert client.get("/").text == "http://testserver/"


def test_declaration_mistakes_are_clear(tmp_path: Path, template_dir: Path) -> None:
    with pytest.raises(ConfigurationError, match="not-there"):
        Jinja2Templates(tmp_path / "not-there")
    with pytest.raises(ConfigurationError, match="either directory or env"):
        Jinja2Templates()
    with pytest.raises(ConfigurationError, match="either directory or env"):
        Jinja2Templates(template_dir, env=jinja2.Environment())
    templates = Jinja2Templates(template_dir)
    with pytest.raises(TypeError, match="the request comes first"):
        templates.TemplateResponse("page.html", {})  # type: ignore[arg-type]
    template = templates.env.from_string("{{ url_for('x') }}")
    with pytest.raises(RuntimeError, match="needs the request"):
        template.render()


def test_rows_from_the_database_render_escaped(db_url: str, template_dir: Path) -> None:
    """A fortunes page: rows from covet.db (SQLite and PostgreSQL) into an escaped table."""
    db = Database(db_url)
    templates = Jinja2Templates(template_dir)
    app = Covet(lifespan=db.lifespan)

    @app.get("/fortunes")
    async def fortunes(request: Request) -> TemplateResponse:
        rows = [dict(r) for r in await db.fetch("SELECT id, message FROM fortune")]
        rows.append({"id": 0, "message": "Additional fortune added at request time."})
        rows.sort(key=lambda r: r["message"])
        return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})

    asyncio.run(_fill_fortunes(db_url))
    with TestClient(app) as client:
        body = client.get("/fortunes").text
    assert body.index("Additional fortune") < body.index("fortune: No such file")
    assert f"<td>2</td><td>{ESCAPED}</td>" in body
    assert "<script>" not in body


async def _fill_fortunes(url: str) -> None:
    async with Database(url) as db:
        await db.execute("DROP TABLE IF EXISTS fortune")
        await db.execute("CREATE TABLE fortune (id INTEGER PRIMARY KEY, message TEXT)")
        await db.executemany(
            "INSERT INTO fortune (id, message) VALUES ($1, $2)",
            [(1, "fortune: No such file or directory"), (2, HOSTILE)],
        )


APP_SOURCE = """
from covet import Covet, Request
from covet.templating import Jinja2Templates

templates = Jinja2Templates("templates", context_processors=[lambda r: {"site": "served"}])
app = Covet()


@app.get("/users/{name}", name="user")
async def user(request: Request):
    context = {"text": request.query_params.get("text", ""), "trusted": "", "name": "ada"}
    return templates.TemplateResponse(request, "page.html", context)
"""


def test_through_covets_own_server(tmp_path: Path, template_dir: Path) -> None:
    (tmp_path / "tplapp.py").write_text(textwrap.dedent(APP_SOURCE))
    target = AppTarget("covet-templates", "tplapp:app", str(tmp_path))
    server = get_server("covet").launch(target, ServerOptions(), tmp_path / "server.log")
    try:
        response = httpx.get(server.base_url + "/users/ada", params={"text": HOSTILE}, timeout=10)
    finally:
        server.stop()
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>served</title>" in response.text
    assert f"<p>{ESCAPED}</p>" in response.text
    assert f'<a href="{server.base_url}/users/ada">' in response.text


def test_missing_jinja2_names_the_extra() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'jinja2':\n"
        "            raise ImportError(name, name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from covet.exceptions import MissingDependencyError\n"
        "try:\n"
        "    import covet.templating\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc, exc.name)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "covet.templating needs jinja2" in out.stdout
    assert "pip install 'covetpy[templates]' jinja2" in out.stdout
