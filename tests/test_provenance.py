"""The run info: what decides whether a rerun gives the same numbers (hardware, device, precision, threads)."""

import json

from torchbasics.report import provenance


def test_training_conditions_come_from_each_evaluated_checkpoint(tmp_path):
    paths = []
    for variant, seed, precision, threads in (("plain", 5, "bfloat16", 2), ("residual", 6, "float32", 4)):
        path = tmp_path / variant / "metrics.json"
        path.parent.mkdir()
        path.write_text(
            json.dumps(
                {
                    "variant": variant,
                    "device": "cpu",
                    "training_seed": seed,
                    "training_device": "cuda:0",
                    "training_precision": precision,
                    "training_threads": threads,
                }
            )
        )
        paths.append(str(path))
    assert provenance.training_conditions(paths) == [
        {"variant": "plain", "seed": 5, "device": "cuda:0", "precision": "bfloat16", "threads": 2},
        {"variant": "residual", "seed": 6, "device": "cuda:0", "precision": "float32", "threads": 4},
    ]


def test_the_hardware_names_the_cpu_and_its_bfloat16_units():
    facts = provenance.hardware()
    assert facts["cpu"] and facts["machine"]
    assert set(facts["cpu_bfloat16_units"]) <= {"amx_bf16", "avx512_bf16"}
