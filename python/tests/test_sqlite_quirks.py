"""Issue 13: SQLite-only workarounds the move makes wrong are flagged with file and line."""


def test_replace_tzinfo_on_a_value_read_back_is_flagged(project):
    project.write("main.py", """
        from datetime import UTC


        def show(row):
            return row.created_at.replace(tzinfo=UTC).isoformat()
    """)
    [q] = project.analyze()["sqliteQuirks"]
    assert (q["kind"], q["file"], q["line"]) == ("tz-replace", "main.py", 5)
    assert "timestamptz" in q["message"]


def test_building_a_value_or_guarding_on_tzinfo_is_not_flagged(project):
    project.write("main.py", """
        from datetime import UTC, datetime


        def now():
            return datetime.utcnow().replace(tzinfo=UTC)


        def show(row):
            value = row.created_at
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value


        def other(row):
            return row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)


        def unrelated(s):
            return s.replace("a", "b")
    """)
    assert project.analyze()["sqliteQuirks"] == []
