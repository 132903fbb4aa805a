"""The run info: what decides whether a rerun gives the same numbers (hardware, device, precision, threads)."""

from torchbasics.report import provenance


def test_training_conditions_come_from_each_evaluated_checkpoint():
    evaluations = [
        {
            "variant": variant,
            "device": "cpu",
            "training_seed": seed,
            "training_device": "cuda:0",
            "training_precision": precision,
            "training_threads": threads,
        }
        for variant, seed, precision, threads in (("plain", 5, "bfloat16", 2), ("residual", 6, "float32", 4))
    ]
    assert provenance.training_conditions(evaluations) == [
        {"variant": "plain", "seed": 5, "device": "cuda:0", "precision": "bfloat16", "threads": 2, "gpu": None},
        {"variant": "residual", "seed": 6, "device": "cuda:0", "precision": "float32", "threads": 4, "gpu": None},
    ]


def test_the_hardware_names_the_cpu_and_its_bfloat16_units():
    facts = provenance.hardware()
    assert facts["cpu"] and facts["machine"]
    assert set(facts["cpu_bfloat16_units"]) <= {"amx_bf16", "avx512_bf16"}


H200 = {
    "name": "NVIDIA H200",
    "compute_capability": "9.0",
    "uuid": "GPU-5f2a6c1e-0d1b-4f4c-9c1e-2b7d3f0e8a11",
    "driver": "550.54.15",
    "cuda": "13.0",
    "cudnn": "91002",
}


def test_the_gpus_used_are_listed_once_with_name_capability_driver_cuda_and_cudnn():
    autograd = {"device": "cuda:0", "gpu": H200}
    trained_on_gpu = {"device": "cpu", "gpu": None, "training_gpu": H200}
    on_the_cpu = {"device": "cpu"}
    assert provenance.gpus_used([autograd, trained_on_gpu, on_the_cpu]) == [H200]
    assert provenance.gpus_used([on_the_cpu]) == []
    assert provenance.devices_used([autograd, trained_on_gpu, on_the_cpu]) == ["cuda:0", "cpu"]
