"""The one option parser of every srl command: recipes typed per key, flags, positionals, help."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from srlkit.io import ConfigError, DataError
from srlkit.options import format_help, parse_options, split_config, typed_recipe
from srlkit.report.page import ReportConfig
from srlkit.teacher.config import GenerateConfig

REPO = Path(__file__).resolve().parents[1]


def _recipe(tmp_path: Path, text: str) -> str:
    path = tmp_path / "recipe.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("cls", "line", "expected"),
    [
        pytest.param(ReportConfig, "max_rollouts: abc", "max_rollouts: expected an integer", id="word_for_int"),
        pytest.param(GenerateConfig, "max_retries: 1.5", "max_retries: expected an integer", id="float_for_int"),
        pytest.param(GenerateConfig, "limit: [1]", "limit: expected an integer or null", id="list_for_int"),
        pytest.param(GenerateConfig, "temperature: hot", "temperature: expected a number", id="word_for_float"),
        pytest.param(GenerateConfig, "golds_only: maybe", "golds_only: expected true or false", id="word_for_bool"),
        pytest.param(GenerateConfig, "teacher: no", "teacher: expected text, got False (quote it", id="yaml_no_for_text"),
        pytest.param(GenerateConfig, "num_samples: {a: 1}", "num_samples: expected an integer", id="mapping_for_int"),
        pytest.param(GenerateConfig, "inputs: {a: 1}", "inputs: expected a list", id="mapping_for_list"),
    ],
)  # fmt: skip
def test_a_recipe_value_of_the_wrong_type_is_one_line_naming_file_and_key(
    tmp_path, cls, line, expected
):
    path = _recipe(tmp_path, line + "\n")
    with pytest.raises(DataError) as err:
        parse_options(cls, ["--config", path], prog="srl x")
    message = str(err.value)
    assert message.startswith(path + ": ") and expected in message and "\n" not in message


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        pytest.param('num_samples: "2"', "num_samples", 2, id="quoted_int"),
        pytest.param('golds_only: "no"', "golds_only", False, id="quoted_no"),
        pytest.param('dedup: "false"', "dedup", False, id="quoted_false"),
        pytest.param("dedup: true", "dedup", True, id="yaml_bool"),
        pytest.param("temperature: 5e-1", "temperature", 0.5, id="float_without_dot"),
        pytest.param("teacher: 7", "teacher", "7", id="number_for_text"),
    ],
)
def test_a_recipe_value_means_what_the_same_text_after_its_flag_means(tmp_path, line, name, value):
    path = _recipe(tmp_path, line + "\n")
    from_recipe = parse_options(GenerateConfig, ["--config", path], prog="srl x")
    text = line.split(":", 1)[1].strip().strip('"')
    from_flag = parse_options(GenerateConfig, [f"--{name}", text], prog="srl x")
    assert getattr(from_recipe, name) == value == getattr(from_flag, name)
    assert type(getattr(from_recipe, name)) is type(value)


def test_a_scalar_where_a_list_is_expected_is_a_one_element_list(tmp_path):
    path = _recipe(tmp_path, "inputs: /data/problems.jsonl\nout: o\n")
    assert parse_options(GenerateConfig, ["--config", path], prog="srl x").inputs == [
        "/data/problems.jsonl"
    ]


def test_flags_beat_the_recipe_and_positionals_fill_list_fields(tmp_path):
    path = _recipe(tmp_path, "num_samples: 3\ntemperature: 0.2\n")
    options = parse_options(
        GenerateConfig,
        ["a.jsonl", "b.jsonl", f"--config={path}", "--num_samples", "5"],
        prog="srl data generate",
        positionals=("inputs",),
    )
    assert (options.inputs, options.num_samples, options.temperature) == (
        ["a.jsonl", "b.jsonl"],
        5,
        0.2,
    )


def test_every_boolean_has_the_same_negation(tmp_path):
    @dataclass
    class Flags:
        on: bool = field(default=True, metadata={"help": "on by default"})
        off: bool = field(default=False, metadata={"help": "off by default"})

    assert parse_options(Flags, ["--no_on", "--no_off"], prog="p") == Flags(False, False)
    assert parse_options(Flags, ["--on", "false", "--off"], prog="p") == Flags(False, True)
    help_text = format_help("p", "", [("options", Flags)], "p")
    assert "--on [true|false], --no_on" in help_text and "--off [true|false], --no_off" in help_text


def test_unknown_keys_and_flags_are_one_line(tmp_path):
    path = _recipe(tmp_path, "num_sample: 2\n")
    with pytest.raises(DataError, match=r"recipe\.yaml: unknown option\(s\): num_sample"):
        parse_options(GenerateConfig, ["--config", path], prog="srl x")
    with pytest.raises(ConfigError, match="unrecognised argument"):
        parse_options(GenerateConfig, ["--num_sample", "2"], prog="srl x")


def test_choices_of_a_field_are_checked_in_recipes():
    from srlkit.training.options import DynamicSamplingOptions

    with pytest.raises(DataError, match="r.yaml: refill_size: expected one of adaptive, full"):
        typed_recipe({"refill_size": "half"}, [DynamicSamplingOptions], "r.yaml")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--config", "r.yaml", "--x", "1"], ("r.yaml", ["--x", "1"])),
        (["--x", "1", "--config=r.yaml"], ("r.yaml", ["--x", "1"])),
        (["--x", "1"], (None, ["--x", "1"])),
    ],
)
def test_split_config(argv, expected):
    assert split_config(argv) == expected


@pytest.mark.parametrize("argv", [["--config"], ["--config", "--x"], ["--config=a", "--config=b"]])
def test_split_config_refuses_a_missing_or_second_recipe(argv):
    with pytest.raises(ConfigError):
        split_config(argv)


COMMANDS = [
    ["data", "build"],
    ["data", "stats"],
    ["data", "show"],
    ["data", "generate"],
    ["data", "rewrite"],
    ["data", "example"],
    ["eval"],
    ["eval-steps"],
    ["eval-table"],
    ["report"],
    ["train", "srl"],
    ["train", "rlvr"],
    ["train", "r3"],
    ["train", "sft"],
    ["train", "pipeline"],
]


def test_every_command_lists_config_in_its_help(capsys):
    from srlkit.cli.main import main

    for words in COMMANDS:
        with pytest.raises(SystemExit) as done:
            main([*words, "--help"])
        assert done.value.code == 0, words
        assert "--config" in capsys.readouterr().out, words


def test_train_help_is_instant_grouped_and_imports_no_torch():
    script = (
        "import sys, contextlib, io\n"
        "from srlkit.cli.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try: main(['train', 'srl', '--help'])\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in ('torch', 'transformers', 'trl') if m in sys.modules))\n"
        "print(out.getvalue())\n"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    elapsed = time.perf_counter() - start
    first, _, text = done.stdout.partition("\n")
    assert first == "[]"  # neither torch nor TRL: that is what makes it fast
    assert elapsed < 3  # about 0.1 s; generous for a loaded test machine
    groups = [line for line in text.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert groups[0].startswith("srlkit's own options") and "paper" in groups[1]
    assert "--learning_rate FLOAT" in text and "(default: 5e-07)" in text
    assert "--dynamic_sampling_epsilon FLOAT" in text and "--help_all" in text


@pytest.mark.parametrize("method", ["srl", "rlvr", "r3", "sft"])
def test_train_help_shows_each_option_once_with_the_value_the_method_uses(method):
    from dataclasses import fields

    from srlkit.cli.train import method_help
    from srlkit.training.options import help_groups

    text = method_help(method, f"srl train {method}")
    names = {f.name for _, cls in help_groups(method) for f in fields(cls)}
    for name in names:
        assert text.count(f"  --{name} ") == 1, name
    if method in ("rlvr", "r3"):  # RLVR's own rule, not GRPO's default 'std'
        rule = text[text.index("  --dynamic_sampling_rule") :].split("\n  --")[0]
        assert "(default: 'outcome')" in rule and "'std' keeps any reward spread" in rule


def test_help_all_lists_every_trl_option(capsys):
    from srlkit.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["train", "sft", "--help_all"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    for flag in ("--config", "--per_device_train_batch_size", "--lora_r", "--train_file"):
        assert flag in text, flag
