"""Pipeline configs: TOML, YAML, JSON and dicts; every error names file, key and allowed values."""

from __future__ import annotations

import json

import pytest

from moreward import ConfigError, InputError, MissingExtraError, Pipeline, load_config
from moreward.config import FieldsConfig

GOOD_TOML = """
[fields]
completion = "response"
reference = "answer"
group = "prompt_id"

[objectives.em]
type = "exact_match"
extract = "answer_tag"

[objectives.digits]
type = "regex"
pattern = '\\d+'
direction = "min"

[combiner]
method = "weighted_sum"
weights = { em = 1.0, digits = 0.25 }
"""


def test_toml_yaml_json_and_dict_agree(tmp_path):
    toml_path = tmp_path / "c.toml"
    toml_path.write_text(GOOD_TOML)
    cfg = load_config(toml_path)
    assert cfg.fields.completion == "response"
    assert cfg.objectives["em"].options == {"extract": "answer_tag"}
    assert cfg.objectives["digits"].direction == "min"
    assert cfg.combiner.options == {"weights": {"em": 1.0, "digits": 0.25}}
    data = cfg.model_dump()
    data["objectives"] = {k: {"type": v.type, "direction": v.direction, **v.options} for k, v in cfg.objectives.items()}
    data["combiner"] = {"method": cfg.combiner.method, **cfg.combiner.options}
    json_path = tmp_path / "c.json"
    json_path.write_text(json.dumps(data))
    yaml = pytest.importorskip("yaml")
    yaml_path = tmp_path / "c.yaml"
    yaml_path.write_text(yaml.safe_dump(data))
    assert load_config(json_path) == cfg == load_config(yaml_path) == load_config(data)


def _write(tmp_path, text, name="bad.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text,expected",
    [
        ('[objectives.a]\ntype = "exact_match"\n[fieldz]\n', r"bad\.toml: fieldz: unknown key; allowed: fields, objectives, combiner"),
        ('[objectives.a]\ntype = "exact_match"\n[fields]\nanswer = "x"\n', r"fields\.answer: unknown key; allowed: completion, reference, prompt, group, tokens"),
        ('[objectives.a]\ntype = "exact_mach"\n', r"bad\.toml: objectives\.a: unknown objective type 'exact_mach'; did you mean 'exact_match'"),
        ('[objectives.a]\ntype = "exact_match"\nextrct = "full"\n', r"bad\.toml: objectives\.a: .*unknown option\(s\) 'extrct'; allowed: extract, case_sensitive"),
        ('[objectives.a]\ntype = "exact_match"\nextract = "middle"\n', r"objectives\.a: extract='middle' is not allowed; allowed: full, answer_tag, last_line"),
        ('[objectives.a]\ntype = "exact_match"\ndirection = "up"\n', r"objectives\.a\.direction: Input should be 'max' or 'min'"),
        ('[objectives.a]\ntype = "exact_match"\n[combiner]\nmethod = "sum"\n', r"combiner\.method: unknown combiner method 'sum'; allowed: .*weighted_sum"),
        ('[objectives.a]\ntype = "exact_match"\n[combiner]\nweights = { b = 1 }\n', r"combiner\.weights names unknown objective\(s\) 'b'; objectives: a"),
        ('[objectives.a]\n', r"objectives\.a\.type: required key is missing"),
        ("[objectives]\n", r"at least one objective"),
        ("objectives = [", r"bad\.toml: not valid TOML"),
        ('[objectives.a]\ntype = "regex"\npattern = "("\n', r"objectives\.a: pattern '\(' does not compile"),
    ],
)
def test_config_errors_name_file_key_and_allowed(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected):
        Pipeline.from_config(_write(tmp_path, text))


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"unknown config format '\.ini'; allowed: \.toml"):
        load_config(_write(tmp_path, "x", "c.ini"))
    with pytest.raises(ConfigError, match="top level must be a table"):
        load_config(_write(tmp_path, "[1, 2]", "c.json"))


def test_yaml_without_pyyaml_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "yaml":
            raise ImportError("no yaml")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingExtraError, match=r"moreward\[yaml\]"):
        load_config(_write(tmp_path, "objectives: {}", "c.yaml"))


def test_fields_to_sample():
    f = FieldsConfig(completion="response", reference="answer", group="pid")
    s = f.to_sample({"response": "x", "answer": "y", "pid": [1, 2], "tokens": 3, "step": 7})
    assert (s.completion, s.reference, s.group, s.tokens) == ("x", "y", "[1, 2]", 3)
    assert s.meta == {"step": 7}
    chat = f.to_sample({"response": [{"role": "assistant", "content": "hi"}]})
    assert chat.completion == "hi"
    with pytest.raises(InputError, match=r"missing field 'response'.*keys present: completion"):
        f.to_sample({"completion": "x"})
    with pytest.raises(InputError, match="must be a string or a list of chat messages"):
        f.to_sample({"response": 5})
    with pytest.raises(InputError, match="must be an integer"):
        f.to_sample({"response": "x", "tokens": "many"})
