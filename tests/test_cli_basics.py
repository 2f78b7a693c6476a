from narcotrace import __version__


def test_version(run_cli):
    r = run_cli("--version")
    assert r.exit_code == 0
    assert __version__ in r.stdout


def test_every_command_has_help(run_cli):
    from narcotrace.cli import app
    import typer.main

    group = typer.main.get_command(app)
    assert len(group.commands) >= 3
    for name in group.commands:
        r = run_cli(name, "--help")
        assert r.exit_code == 0, name
        assert "Usage" in r.stdout, name


def test_info_on_missing_workspace_is_one_clear_line(run_cli, tmp_path):
    r = run_cli("info", "--workspace", tmp_path / "nope")
    assert r.exit_code == 1
    assert "Traceback" not in r.stderr
    assert "nope" in r.stderr and "no workspace" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_unknown_option_is_a_usage_error(run_cli):
    r = run_cli("info", "--bogus")
    assert r.exit_code == 2
    assert "Traceback" not in r.stderr


def test_info_lists_tables(run_cli, workspace):
    r = run_cli("info", "--workspace", workspace.root)
    assert r.exit_code == 0
    for t in ("transfers", "posts", "alerts", "audit_log"):
        assert t in r.stdout


def test_workspace_env_var(run_cli, workspace, monkeypatch):
    monkeypatch.setenv("NARCOTRACE_WORKSPACE", str(workspace.root))
    r = run_cli("info")
    assert r.exit_code == 0 and "transfers" in r.stdout
