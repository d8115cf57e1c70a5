"""``srl data ...`` through srlkit.cli.main.main: build, stats, show, example, and one-line errors."""

from __future__ import annotations

import json

import pytest

from srlkit.cli.main import main


def test_example_build_stats_show(tmp_path, capsys):
    ex = tmp_path / "ex.jsonl"
    assert main(["data", "example", "--out", str(ex), "-n", "12"]) == 0
    out = tmp_path / "out"
    assert main(["data", "build", str(ex), "--out", str(out), "--validation-size", "2"]) == 0
    printed = capsys.readouterr().out
    assert "trajectories read     12  = kept 12 + dropped 0" in printed
    assert {p.name for p in out.iterdir()} == {
        "train.jsonl",
        "validation.jsonl",
        "train.parquet",
        "validation.parquet",
        "train.trajectories.jsonl",
        "validation.trajectories.jsonl",
        "stats.json",
        "config.yaml",
    }
    assert main(["data", "stats", str(out)]) == 0
    stats_text = capsys.readouterr().out
    assert "train                 10 trajectories, 30 instances" in stats_text
    assert "validation            2 trajectories, 6 instances" in stats_text
    assert main(["data", "stats", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instances"]["total"] == 36
    assert main(["data", "show", str(out), "-n", "2"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("=== example-math-") == 2 and "--- target ---\n1. **Count all the" in shown


def test_build_real_agent_files_with_options(shared_data, tmp_path, capsys):
    out = tmp_path / "agents"
    args = [
        "data",
        "build",
        str(shared_data / "swe_agent_demonstrations"),
        "--out",
        str(out),
        "--history-rounds",
        "all",
        "--max-observation-chars",
        "50",
        "--validation-size",
        "0",
        "--no-parquet",
        "--targets",
        "paper",
    ]
    assert main(args) == 0
    rows = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert len(rows) == (5 - 1) + (12 - 1) + (14 - 1) + (11 - 1)
    last = max(rows, key=lambda r: r["step_index"])
    assert len(last["prompt"]) == 2 + 2 * (last["step_index"] - 1)
    assert any("characters truncated" in m["content"] for r in rows for m in r["prompt"])
    assert (
        len({r["trajectory_id"] for r in rows}) == 4
    )  # the two marshmallow runs share a name: made unique


@pytest.mark.parametrize(
    "content, args, message",
    [
        pytest.param(b"", [], "file is empty", id="empty_file"),
        pytest.param(
            b'{"problem": "p", "solution": "a\\n\\nb"}\n{"problem": \n',
            [],
            "in.jsonl:2: invalid JSON",
            id="bad_line",
        ),
        pytest.param(b'{"problem": "\xff"}\n', [], "not valid UTF-8", id="bad_utf8"),
        pytest.param(
            b'{"foo": 1}\n',
            [],
            "unknown trajectory format (fields found: foo)",
            id="unknown_format",
        ),
        pytest.param(
            b'{"problem": "p", "text": "x"}\n',
            ["--format", "math"],
            "no solution field (accepted:",
            id="missing_field",
        ),
        pytest.param(
            b'{"problem": "p", "solution": "a"}\n',
            ["--segment", "regex"],
            "--segment regex needs --step_regex",
            id="regex_missing",
        ),
        pytest.param(
            b'{"problem": "p", "solution": "a"}\n',
            ["--step-regex", "("],
            "not a valid regular expression",
            id="bad_regex",
        ),
        pytest.param(
            b'{"problem": "p", "solution": "a"}\n',
            ["--max-prompt-tokens", "10"],
            "needs --tokenizer",
            id="tokens_no_tokenizer",
        ),
        pytest.param(
            b'{"problem": "p", "solution": "a"}\n',
            ["--max-validation-fraction", "2"],
            "invalid option: max_validation_fraction must be between 0 and 1",
            id="bad_fraction",
        ),
        pytest.param(
            b'{"a": "' + b"x" * 3000 + b'"}\n',
            ["--max-record-mb", "0.001"],
            "over the 0.00105 MB limit",
            id="huge_record",
        ),
    ],
)
def test_bad_input_is_one_line_not_a_traceback(tmp_path, capsys, content, args, message):
    src = tmp_path / "in.jsonl"
    src.write_bytes(content)
    assert main(["data", "build", str(src), "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("srl: error:")


def test_stats_and_show_on_a_directory_that_is_not_a_build(tmp_path, capsys):
    assert main(["data", "stats", str(tmp_path)]) == 2
    assert "stats.json: not found" in capsys.readouterr().err
    assert main(["data", "show", str(tmp_path)]) == 2
    assert "no train.jsonl or train.parquet" in capsys.readouterr().err


def test_option_values_are_checked_before_anything_is_read(tmp_path, capsys):
    argv = ["data", "build", str(tmp_path), "--out", str(tmp_path / "o"), "--history-rounds", "-1"]
    assert main(argv) == 2
    assert "history_rounds must be >= 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_build_writes_continuation_instances_and_refuses_unknown_layouts(tmp_path, capsys):
    src = tmp_path / "math.jsonl"
    record = {"problem": "What is 2 + 3?", "solution": "1. Add: 2 + 3 = 5\n2. So \\boxed{5}"}
    src.write_text(json.dumps(record) + "\n", encoding="utf-8")
    argv = ["data", "build", str(src), "--out", str(tmp_path / "o"), "--validation_size", "0"]
    assert main([*argv, "--layout", "continuation", "--answer_opening", "<think></think>\n"]) == 0
    rows = [json.loads(x) for x in (tmp_path / "o" / "train.jsonl").read_text().splitlines()]
    assert [r["prompt"][-1]["role"] for r in rows] == ["assistant", "assistant"]
    assert rows[1]["prompt"][-1]["content"].startswith("<think></think>\n1. ")
    assert main([*argv[:4], str(tmp_path / "p"), "--layout", "chat"]) == 2
    assert "--layout must be one of paper, continuation" in capsys.readouterr().err


def test_build_takes_a_yaml_recipe_and_saves_the_resolved_one(tmp_path, capsys):
    """Recipe keys = flag names; flags override the recipe; config.yaml reads back the same."""
    import yaml

    ex = tmp_path / "ex.jsonl"
    main(["data", "example", "--out", str(ex), "-n", "10"])
    recipe = tmp_path / "build.yaml"
    recipe.write_text(
        f"inputs: [{ex}]\nout: {tmp_path / 'a'}\nvalidation_size: 3\ntargets: paper\n"
    )
    assert main(["data", "build", "--config", str(recipe), "--validation_size", "2"]) == 0
    saved = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert saved["validation_size"] == 2 and saved["targets"] == "paper"
    assert saved["inputs"] == [str(ex)]
    stats = json.loads((tmp_path / "a" / "stats.json").read_text())
    assert stats["splits"]["validation"]["trajectories"] == 2
    again = [
        "data",
        "build",
        "--config",
        str(tmp_path / "a" / "config.yaml"),
        "--out",
        str(tmp_path / "b"),
    ]
    assert main(again) == 0
    assert (tmp_path / "b" / "train.jsonl").read_bytes() == (
        tmp_path / "a" / "train.jsonl"
    ).read_bytes()


def test_unknown_recipe_key_names_the_file_and_key(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("inputs: [x]\nout: y\nvalidaton_size: 3\n")
    assert main(["data", "build", "--config", str(recipe)]) == 2
    assert f"{recipe}: unknown option(s): validaton_size" in capsys.readouterr().err


def test_help_mentions_config_and_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["data", "build", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "--config RECIPE.yaml" in out and "--history_rounds" in out and "INPUTS..." in out


@pytest.mark.slow
def test_max_prompt_tokens_with_a_real_tokenizer(tmp_path, tiny_model_dir, capsys):
    ex = tmp_path / "ex.jsonl"
    main(["data", "example", "--out", str(ex), "-n", "6"])
    out = tmp_path / "out"
    args = ["data", "build", str(ex), "--out", str(out), "--validation-size", "0", "--no-parquet"]
    assert main([*args, "--tokenizer", str(tiny_model_dir), "--max-prompt-tokens", "100000"]) == 0
    tokens = json.loads((out / "stats.json").read_text())["instances"]["prompt_tokens"]
    assert tokens["count"] == 18 and tokens["min"] > 0
    limit = int(tokens["median"])
    assert main([*args, "--tokenizer", str(tiny_model_dir), "--max-prompt-tokens", str(limit)]) == 0
    stats = json.loads((out / "stats.json").read_text())
    dropped = stats["instances"]["dropped"].get("prompt_too_long", 0)
    assert 0 < dropped < 18 and stats["instances"]["total"] + dropped == 18
    assert stats["instances"]["prompt_tokens"]["max"] <= limit
    assert "prompt tokens" in capsys.readouterr().out


def test_show_keeps_the_expert_steps_that_end_a_long_prompt(tmp_path, capsys):
    """Before: the user message was cut after its first 1,500 characters, so a long problem hid
    the earlier expert steps that define the SRL instance."""
    problem = "A long statement. " * 200  # 3,600 characters
    steps = [
        {"title": f"Step {i}", "body": f"body of step {i}: {i} + {i} = {2 * i}"}
        for i in range(1, 5)
    ]
    raw = tmp_path / "t.jsonl"
    raw.write_text(json.dumps({"id": "t1", "task": problem, "steps": steps, "kind": "math"}) + "\n")
    out = tmp_path / "out"
    assert main(["data", "build", str(raw), "--out", str(out), "--validation_size", "0"]) == 0
    capsys.readouterr()
    assert main(["data", "show", str(out), "-n", "4"]) == 0
    shown = capsys.readouterr().out
    assert "body of step 3: 3 + 3 = 6" in shown.split("=== t1")[-1].split("--- target ---")[0]
    assert "characters cut" in shown


def test_answer_only_problems_are_refused_with_what_to_do_instead(shared_data, tmp_path, capsys):
    """Before: the refusal listed `math` as accepting a problem and an `answer` field, which
    aime25 has (its answers are numbers, not worked solutions)."""
    out = tmp_path / "out"
    assert (
        main(["data", "build", str(shared_data / "aime25" / "test.jsonl"), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "test.jsonl:1" in err
    assert "no worked solution" in err and "srl data generate" in err and "Looked for" not in err


def test_build_options_take_default_and_help_from_the_stage_that_reads_them():
    from dataclasses import fields

    from srlkit.data.build import BuildConfig
    from srlkit.data.build_options import BuildArguments
    from srlkit.data.instances import InstanceOptions
    from srlkit.data.loaders import LoaderOptions

    flat = {f.name: f for f in fields(BuildArguments)}
    written_otherwise = ("history_rounds", "max_observation_chars")  # 'all' / 0 instead of None
    shared = 0
    for cls in (LoaderOptions, InstanceOptions, BuildConfig):
        for f in fields(cls):
            if f.name not in flat or "help" not in f.metadata or f.name in written_otherwise:
                continue
            if f.name.endswith("system_prompt"):  # a file on the command line, the text inside
                continue
            assert flat[f.name].metadata["help"].startswith(f.metadata["help"]), f.name
            assert flat[f.name].default == f.default, f.name
            shared += 1
    assert shared >= 17
