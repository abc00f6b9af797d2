"""Dependency managers (shape 7): uv, poetry, pip with requirements.txt in any encoding pip reads, pip with pyproject.toml."""

import json

import pytest


def venv(project, made_by_uv: bool):
    project.write(".venv/pyvenv.cfg", "home = /usr/bin\n" + ("uv = 0.5.0\n" if made_by_uv else "include-system-site-packages = false\n"))
    project.write(".venv/bin/python", "")


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_requirements_in_any_encoding_pip_reads(project, encoding, bom):
    (project.root / "requirements.txt").write_bytes(bom + "fastapi>=0.115\r\nSQLAlchemy[asyncio]  # orm\r\n-r dev.txt\r\n".encode(encoding))
    m = project.analyze()["manager"]
    assert m["kind"] == "pip" and m["manifest"] == "requirements.txt"
    assert m["dependencies"] == [{"name": "fastapi", "extras": []}, {"name": "sqlalchemy", "extras": ["asyncio"]}]


def test_pyproject_with_a_venv_made_by_python_m_venv_is_pip(project):
    project.write("pyproject.toml", '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi"]\n')
    venv(project, made_by_uv=False)
    m = project.analyze()["manager"]
    assert (m["kind"], m["manifest"]) == ("pip", "pyproject.toml")
    assert m["venv"]["madeBy"] == "venv"


def test_pyproject_with_a_uv_venv_or_none_is_uv(project):
    project.write("pyproject.toml", '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi"]\n')
    assert project.analyze()["manager"]["kind"] == "uv"
    venv(project, made_by_uv=True)
    assert project.analyze()["manager"]["kind"] == "uv"


def test_poetry_pep621_and_classic(project):
    project.write("pyproject.toml", '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi (>=0.115)"]\n[tool.poetry]\npackage-mode = false\n')
    m = project.analyze()["manager"]
    assert m["kind"] == "poetry" and {"name": "fastapi", "extras": []} in m["dependencies"]
    project.write("pyproject.toml", '[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\npython = "^3.11"\nSQLAlchemy = "^2.0"\n')
    assert project.analyze()["manager"]["dependencies"] == [{"name": "sqlalchemy", "extras": []}]


def test_the_manager_only_read_prints_what_the_whole_analysis_says_of_the_manager(project, capsys):
    from pgsetup.analyze import main

    project.write("models.py", "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n")
    project.write("pyproject.toml", '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi", "psycopg[binary]>=3"]\n')
    project.write("uv.lock", "version = 1\n")
    venv(project, made_by_uv=True)
    main([str(project.root), "--manager-only"])
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"manager": project.analyze()["manager"]}
