from __future__ import annotations

import subprocess
import sys

import pytest

import covet

PUBLIC = {
    "Covet",
    "Request",
    "Response",
    "JSONResponse",
    "PlainTextResponse",
    "HTMLResponse",
    "RedirectResponse",
    "StreamingResponse",
    "FileResponse",
    "HTTPException",
    "WebSocket",
    "WebSocketDisconnect",
    "run",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(covet.__all__) == PUBLIC
    assert len(covet.__all__) == len(PUBLIC)


def test_every_exported_name_resolves() -> None:
    for name in covet.__all__:
        if name != "run":
            assert getattr(covet, name) is not None


def test_import_covet_does_not_import_the_server() -> None:
    code = "import sys, covet; print('covet.server' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_run_is_a_lazy_reexport_of_the_server() -> None:
    server = pytest.importorskip("covet.server")
    assert covet.run is server.run


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        covet.no_such_thing  # noqa: B018


def test_import_works_without_optional_dependencies() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'orjson', 'httptools', 'uvloop', 'httpx'}:\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import covet, covet._json as j\n"
        "print(j.USING_ORJSON, j.dumps({'a': [1, 'é']}).decode())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'False {"a":[1,"é"]}'
