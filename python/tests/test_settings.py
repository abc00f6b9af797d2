"""Settings classes that do not read `.env` (shape 2): what the analyzer reports and the edits it proposes."""


def settings_of(project, source):
    project.write("pyproject.toml", '[project]\nname = "x"\nversion = "0"\ndependencies = ["sqlalchemy"]\n')
    project.write("config.py", source)
    project.write("db.py", """
        from sqlalchemy import create_engine
        from config import settings
        engine = create_engine(settings.database_url)
    """)
    return project.analyze()["settings"]


def apply(source: str, edits: list[dict]) -> str:
    import textwrap

    lines = textwrap.dedent(source).lstrip("\n").split("\n")
    for e in sorted(edits, key=lambda e: (e["line"], e["col"]), reverse=True):
        i = e["line"] - 1
        if i == len(lines):
            lines.append("")
        lines[i] = lines[i][: e["col"]] + e["text"] + lines[i][e["col"]:]
    return "\n".join(lines)


def test_env_file_present_reads(project):
    s = settings_of(project, """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_file=".env")
            database_url: str = "sqlite:///a.db"
        settings = Settings()
    """)
    assert s["envFile"] == {"reads": True, "style": "model_config", "value": ".env", "edits": []}


def test_class_config_without_env_file_gets_it_with_extra_ignore(project):
    src = """
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            SQLALCHEMY_DATABASE_URI: str = "sqlite:///./app.db"

            class Config:
                case_sensitive = True


        settings = Settings()
    """
    s = settings_of(project, src)
    assert s["urlField"]["envKey"] == "SQLALCHEMY_DATABASE_URI"
    assert s["caseSensitive"] is True
    assert s["envFile"]["reads"] is False and s["envFile"]["style"] == "Config"
    out = apply(src, s["envFile"]["edits"])
    assert '        case_sensitive = True\n        env_file = ".env"\n        extra = "ignore"\n' in out
    compile(out, "config.py", "exec")


def test_one_line_model_config_is_extended_in_place(project):
    src = """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="APP_", extra="allow")
            database_url: str = "sqlite:///a.db"
        settings = Settings()
    """
    s = settings_of(project, src)
    assert s["urlField"]["envKey"] == "APP_DATABASE_URL"
    out = apply(src, s["envFile"]["edits"])
    # The project's own extra is kept.
    assert 'SettingsConfigDict(env_prefix="APP_", extra="allow", env_file=".env")' in out


def test_multi_line_model_config_without_trailing_comma(project):
    src = """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(
                case_sensitive=False
            )
            database_url: str = "sqlite:///a.db"
        settings = Settings()
    """
    s = settings_of(project, src)
    out = apply(src, s["envFile"]["edits"])
    assert '        case_sensitive=False,\n        env_file=".env",\n        extra="ignore",\n    )' in out
    compile(out, "config.py", "exec")


def test_no_config_at_all_adds_model_config_and_its_import(project):
    src = """
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            \"\"\"App settings.\"\"\"

            database_url: str = "sqlite:///a.db"


        settings = Settings()
    """
    s = settings_of(project, src)
    assert s["envFile"]["style"] == "none"
    out = apply(src, s["envFile"]["edits"])
    assert out.startswith("from pydantic_settings import BaseSettings, SettingsConfigDict\n")
    assert '    """App settings."""\n\n    model_config = SettingsConfigDict(env_file=".env", extra="ignore")\n\n    database_url' in out
    compile(out, "config.py", "exec")


def test_empty_model_config_dict_call(project):
    src = """
        from pydantic_settings import BaseSettings, SettingsConfigDict
        class Settings(BaseSettings):
            model_config = SettingsConfigDict()
            database_url: str = "sqlite:///a.db"
        settings = Settings()
    """
    out = apply(src, settings_of(project, src)["envFile"]["edits"])
    assert 'SettingsConfigDict(env_file=".env", extra="ignore")' in out


def test_settings_flag_naming_something_else_says_what_it_found(project):
    settings_of(project, """
        from pydantic_settings import BaseSettings
        class Settings(BaseSettings):
            database_url: str = "sqlite:///a.db"
        settings = Settings()
    """)
    assert project.analyze(settings="db:engine")["settingsTarget"] == {"kind": "other", "text": "engine = create_engine(...) in db.py:3, not a settings instance"}
    assert project.analyze(settings="config:Settings")["settingsTarget"]["kind"] == "class"
    assert project.analyze(settings="config:settings")["settingsTarget"]["kind"] == "settings"
    assert project.analyze(settings="nowhere:x")["settingsTarget"]["kind"] == "no-module"
    project.write("consts.py", 'DATABASE_URL = "sqlite:///./app.db"\n')
    assert project.analyze(settings="consts:DATABASE_URL")["settingsTarget"]["kind"] == "url-constant"
